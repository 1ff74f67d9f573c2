"""Completion-only labels: the loss mask decodes to exactly the assistant turns, for any template."""

from __future__ import annotations

import copy

import pytest
from trainer_runs import CONVERSATIONS, judgement, make_episode

from simulator.backends.embedded import embedded_model_dir
from trainer.examples import episode_context, imitation_examples, intent_examples, reasoning_examples
from trainer.tokenization import IGNORE, PaddingCollator, TemplateError, TokenizedDataset, tokenize_example

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]

# Renders a past assistant turn differently from the last one (as templates that strip old
# reasoning do): the conversation cannot be one sequence, so each reply gets its own.
UNSTABLE_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' and not loop.last %}<past>\n{{ message['content'] }}\n"
    "{% else %}<{{ message['role'] }}>\n{{ message['content'] }}<end>\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<assistant>\n{% endif %}"
)


@pytest.fixture(scope="module")
def chatml():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_model_dir())


@pytest.fixture(scope="module")
def llama3(chatml):
    tokenizer = copy.deepcopy(chatml)
    tokenizer.add_special_tokens({"additional_special_tokens": LLAMA3_SPECIALS})
    tokenizer.bos_token = "<|begin_of_text|>"
    tokenizer.chat_template = LLAMA3_TEMPLATE
    return tokenizer


def _examples():
    episode = make_episode(0, CONVERSATIONS[0])
    context = episode_context(episode)
    return {
        "imitation": imitation_examples(episode, context),
        "intent": intent_examples(episode, context),
        "reasoning": reasoning_examples(episode, context, judgement(episode)),
    }


def _target_spans(tokenizer, sequence) -> list[str]:
    """Decoded runs of consecutive target tokens."""
    spans, run = [], []
    for token, label in zip(sequence.input_ids, sequence.labels):
        if label != IGNORE:
            assert label == token
            run.append(token)
        elif run:
            spans.append(tokenizer.decode(run))
            run = []
    if run:
        spans.append(tokenizer.decode(run))
    return spans


@pytest.mark.parametrize("task", ["imitation", "intent", "reasoning"])
@pytest.mark.parametrize(("template", "end_of_turn"), [("chatml", "<|im_end|>\n"), ("llama3", "<|eot_id|>")])
def test_labels_decode_to_exactly_the_assistant_turns(request, task, template, end_of_turn):
    tokenizer = request.getfixturevalue(template)
    for example in _examples()[task]:
        (sequence,) = tokenize_example(tokenizer, example, max_seq_len=4096)
        replies = [m["content"] for m in example.messages if m["role"] == "assistant"]
        assert _target_spans(tokenizer, sequence) == [reply + end_of_turn for reply in replies]
        # Everything else, the persona prompt and the other side included, is context only.
        prompt_text = tokenizer.decode(
            [t for t, label in zip(sequence.input_ids, sequence.labels) if label == IGNORE]
        )
        for message in example.messages:
            if message["role"] != "assistant":
                assert message["content"].strip()[:40] in prompt_text


def test_a_template_that_rewrites_history_gets_one_sequence_per_reply(chatml):
    tokenizer = copy.deepcopy(chatml)
    tokenizer.chat_template = UNSTABLE_TEMPLATE
    example = next(e for e in _examples()["imitation"] if len(e.messages) > 4)
    replies = [m["content"] for m in example.messages if m["role"] == "assistant"]
    sequences = tokenize_example(tokenizer, example, max_seq_len=4096)
    assert len(sequences) == len(replies)
    for sequence, reply in zip(sequences, replies):
        assert _target_spans(tokenizer, sequence) == [reply + "<end>\n"]
        assert sequence.labels[-1] != IGNORE  # each sequence ends with its reply


def test_a_template_that_cannot_place_the_reply_is_refused(chatml):
    tokenizer = copy.deepcopy(chatml)
    tokenizer.chat_template = "{% for message in messages %}{{ message['content'] }}{% endfor %}<assistant>"
    with pytest.raises(TemplateError):
        tokenize_example(tokenizer, _examples()["intent"][0], max_seq_len=4096)


def test_truncation_keeps_only_sequences_with_a_target(chatml):
    example = _examples()["intent"][0]
    (full,) = tokenize_example(chatml, example, max_seq_len=4096)
    first_target = next(i for i, label in enumerate(full.labels) if label != IGNORE)
    assert tokenize_example(chatml, example, max_seq_len=first_target) == []
    (cut,) = tokenize_example(chatml, example, max_seq_len=first_target + 3)
    assert len(cut.input_ids) == first_target + 3 and cut.n_target_tokens == 3


def test_collator_pads_without_targets(chatml):
    sequences = [s for e in _examples()["intent"][:2] for s in tokenize_example(chatml, e, 4096)]
    dataset = TokenizedDataset(sequences, ["imitation", "intent"])
    batch = PaddingCollator(pad_token_id=chatml.pad_token_id)([dataset[0], dataset[1]])
    width = batch["input_ids"].shape[1]
    assert width % 8 == 0 and width >= max(len(s.input_ids) for s in sequences)
    for row, sequence in enumerate(sequences):
        n = len(sequence.input_ids)
        assert batch["attention_mask"][row].sum() == n
        assert batch["labels"][row, :n].tolist() == sequence.labels
        assert (batch["labels"][row, n:] == IGNORE).all()
    assert batch["task_ids"].tolist() == [1, 1]
