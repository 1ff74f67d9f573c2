"""Chat examples -> token ids and labels, with the loss on assistant tokens only, for any template.

The template is never parsed. Each assistant message's span is found by rendering the
conversation incrementally: render(messages[:i], add_generation_prompt=True) is everything the
model is given, render(messages[:i+1]) adds exactly what it must produce (the reply and the
template's end-of-turn marker). Tokens whose characters fall in those spans keep their ids as
labels (a token straddling a span's edge counts as a target); every other token gets -100.

A template that renders earlier turns differently once later ones follow (some drop or rewrite
old assistant content) is not "prefix-stable"; such a conversation is split into one sequence per
assistant message, each rendered exactly as the model would see it at that point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from trainer.examples import Example, Message

IGNORE = -100


class TemplateError(ValueError):
    """The chat template cannot render an example in a way whose assistant spans can be located."""


@dataclass
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]
    task: str

    @property
    def n_target_tokens(self) -> int:
        return sum(label != IGNORE for label in self.labels)


def render(tokenizer: Any, messages: list[Message], add_generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt
    )


def assistant_segments(tokenizer: Any, messages: list[Message]) -> list[tuple[str, list[tuple[int, int]]]]:
    """[(rendered text, [(start, end) char span of each assistant reply])], usually one sequence."""
    turns = []  # (prompt text, text with the reply) per assistant message
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(tokenizer, messages[:i], add_generation_prompt=True)
        with_reply = render(tokenizer, messages[: i + 1])
        if not with_reply.startswith(prompt) or len(with_reply) == len(prompt):
            raise TemplateError(
                "the chat template does not render an assistant reply after its generation prompt"
            )
        turns.append((prompt, with_reply))
    if not turns:
        return []
    whole = render(tokenizer, messages)
    if all(whole.startswith(with_reply) for _, with_reply in turns):
        return [(whole, [(len(prompt), len(with_reply)) for prompt, with_reply in turns])]
    return [(with_reply, [(len(prompt), len(with_reply))]) for prompt, with_reply in turns]


def _token_ids_and_labels(
    tokenizer: Any, text: str, spans: list[tuple[int, int]]
) -> tuple[list[int], list[int]]:
    if tokenizer.is_fast:
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = encoded["input_ids"]
        # A token is a target when its characters overlap a reply span.
        labels = [
            token if any(start < end_span and end > start_span for start_span, end_span in spans) else IGNORE
            for token, (start, end) in zip(ids, encoded["offset_mapping"])
        ]
        return ids, labels
    # Slow tokenizers have no offsets: tokenize the pieces between span edges separately.
    ids, labels, cursor = [], [], 0
    for start_span, end_span in spans:
        for piece, is_target in ((text[cursor:start_span], False), (text[start_span:end_span], True)):
            piece_ids = tokenizer(piece, add_special_tokens=False)["input_ids"] if piece else []
            ids += piece_ids
            labels += piece_ids if is_target else [IGNORE] * len(piece_ids)
        cursor = end_span
    tail = tokenizer(text[cursor:], add_special_tokens=False)["input_ids"] if text[cursor:] else []
    return ids + tail, labels + [IGNORE] * len(tail)


def tokenize_example(tokenizer: Any, example: Example, max_seq_len: int) -> list[TokenizedExample]:
    """The example's sequences, cut to `max_seq_len`; a sequence left with no target is dropped."""
    sequences = []
    for text, spans in assistant_segments(tokenizer, example.messages):
        ids, labels = _token_ids_and_labels(tokenizer, text, spans)
        ids, labels = ids[:max_seq_len], labels[:max_seq_len]
        # Position 0 is never predicted (labels shift by one), so it cannot be the only target.
        if any(label != IGNORE for label in labels[1:]):
            sequences.append(TokenizedExample(ids, labels, example.task))
    return sequences


class TokenizedDataset(torch.utils.data.Dataset):
    """The Trainer's view: dicts of input ids, labels and the task index (for per-task losses)."""

    def __init__(self, examples: list[TokenizedExample], task_names: list[str]):
        self.examples = examples
        self.task_index = {name: i for i, name in enumerate(task_names)}

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        example = self.examples[index]
        return {
            "input_ids": example.input_ids,
            "labels": example.labels,
            "task_ids": self.task_index[example.task],
        }

    @property
    def n_tokens(self) -> int:
        return sum(len(example.input_ids) for example in self.examples)


@dataclass
class PaddingCollator:
    """Right-pads a batch; padding is masked out of attention and loss."""

    pad_token_id: int
    pad_to_multiple_of: int = 8

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        longest = max(len(item["input_ids"]) for item in batch)
        width = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, item in enumerate(batch):
            n = len(item["input_ids"])
            input_ids[row, :n] = torch.tensor(item["input_ids"])
            labels[row, :n] = torch.tensor(item["labels"])
            attention_mask[row, :n] = 1
        task_ids = torch.tensor([item["task_ids"] for item in batch], dtype=torch.long)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            "task_ids": task_ids,
        }
