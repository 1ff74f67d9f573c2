"""The `vllm` backend: its pure logic with a fake engine here (vLLM needs CUDA); the real engine
where vllm is installed (`pytest.importorskip`)."""

from __future__ import annotations

import asyncio
import sys
from types import SimpleNamespace

import pytest

from personas.files import BadInputError
from simulator.backends.base import GenerationRequest, OptionScoringRequest, SamplingParams
from simulator.backends.registry import create_backend
from simulator.backends.vllm_backend import (
    VLLMBackend,
    choice_index,
    option_token_start,
    sampling_kwargs,
    sum_prompt_logprobs,
)

QUESTION = [{"role": "user", "content": "Tea or coffee?"}]


def test_missing_vllm_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail
    with pytest.raises(BadInputError, match="install the vllm extra on a CUDA machine"):
        create_backend("vllm", model="some/model")


def test_sampling_kwargs_map_greedy_and_sampled_parameters():
    assert sampling_kwargs(SamplingParams(max_new_tokens=5, temperature=0, top_p=0.5, seed=2)) == {
        "max_tokens": 5,
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": 2,
    }
    sampled = sampling_kwargs(SamplingParams(max_new_tokens=9, temperature=0.7, top_p=0.9, stop=("\n",)))
    assert sampled == {"max_tokens": 9, "temperature": 0.7, "top_p": 0.9, "seed": None, "stop": ["\n"]}


def test_option_token_start_counts_a_merged_boundary_token_as_the_options():
    assert option_token_start([5, 6, 7], [5, 6, 7, 8, 9]) == 3
    assert option_token_start([5, 6, 7], [5, 6, 70, 9]) == 2  # "7" merged with the option's start
    with pytest.raises(ValueError):
        option_token_start([5, 6], [5, 6])


def test_sum_prompt_logprobs_reads_each_prompt_tokens_own_logprob():
    lp = SimpleNamespace
    prompt_logprobs = [
        None,
        {6: lp(logprob=-0.5)},
        {7: lp(logprob=-1.0), 3: lp(logprob=-0.1)},
        {8: lp(logprob=-2.0)},
    ]
    assert sum_prompt_logprobs(prompt_logprobs, [5, 6, 7, 8], start=2) == pytest.approx(-3.0)
    with pytest.raises(ValueError, match="token 0"):
        sum_prompt_logprobs(prompt_logprobs, [5, 6, 7, 8], start=0)


def test_choice_index_matches_exact_then_stripped_text():
    assert choice_index("coffee", ["tea", "coffee"]) == 1
    assert choice_index(" tea\n", ["tea", "coffee"]) == 0
    assert choice_index("water", ["tea", "coffee"]) is None


# --------------------------------------------------------------------------- fake engine plumbing


class CharTokenizer:
    """One token per character, token id = code point: option spans are easy to predict."""

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

    def __call__(self, text, add_special_tokens):
        assert add_special_tokens is False
        return {"input_ids": [ord(c) for c in text]}


class FakeLLM:
    """Answers like vllm.LLM: prompt token i has log-probability -id/1000."""

    def __init__(self, guided_text: str = ""):
        self.guided_text = guided_text
        self.calls: list[tuple[str, object]] = []

    def get_tokenizer(self):
        return CharTokenizer()

    def chat(self, conversations, sampling_params, use_tqdm, lora_request):
        self.calls.append(("chat", sampling_params))
        return [
            SimpleNamespace(
                prompt_token_ids=[1] * len(c[-1]["content"]),
                outputs=[
                    SimpleNamespace(text=f"re: {c[-1]['content']}", token_ids=[1, 2], finish_reason="length")
                ],
            )
            for c in conversations
        ]

    def generate(self, prompts, sampling_params, use_tqdm, lora_request):
        self.calls.append(("generate", sampling_params))
        outputs = []
        for prompt in prompts:
            if isinstance(sampling_params, dict):  # scoring: prompt log-probabilities
                ids = prompt["prompt_token_ids"]
                logprobs = [None] + [{t: SimpleNamespace(logprob=-t / 1000)} for t in ids[1:]]
                outputs.append(SimpleNamespace(prompt_logprobs=logprobs, outputs=[]))
            else:  # guided choice
                outputs.append(SimpleNamespace(outputs=[SimpleNamespace(text=self.guided_text)]))
        return outputs


FAKE_VLLM = SimpleNamespace(
    SamplingParams=lambda **kwargs: kwargs,
    sampling_params=SimpleNamespace(StructuredOutputsParams=lambda **kwargs: ("choice", kwargs["choice"])),
)


def option_logprob(option: str) -> float:
    return sum(-ord(c) / 1000 for c in option)


def test_score_options_sums_each_options_tokens_in_one_engine_call():
    llm = FakeLLM()
    backend = VLLMBackend.from_engine(llm, "fake", vllm_module=FAKE_VLLM)
    requests = [
        OptionScoringRequest(messages=QUESTION, options=["tea", "coffee"]),
        OptionScoringRequest(messages=QUESTION, options=["A", "B", "C"], assistant_prefix="Answer: "),
    ]
    scores = asyncio.run(backend.score_options(requests))
    assert [len(s.logprobs) for s in scores] == [2, 3]
    assert scores[0].logprobs == pytest.approx([option_logprob("tea"), option_logprob("coffee")])
    assert scores[1].logprobs == pytest.approx([option_logprob(o) for o in "ABC"])
    assert [name for name, _ in llm.calls] == ["generate"]
    assert llm.calls[0][1] == {"max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 0}


def test_generate_maps_engine_outputs_in_order():
    llm = FakeLLM()
    backend = VLLMBackend.from_engine(llm, "fake", vllm_module=FAKE_VLLM)
    requests = [GenerationRequest(messages=[{"role": "user", "content": t}]) for t in ("one", "three")]
    replies = asyncio.run(backend.generate(requests))
    assert [(r.text, r.prompt_tokens, r.completion_tokens) for r in replies] == [
        ("re: one", 3, 2),
        ("re: three", 5, 2),
    ]
    assert replies[0].finish_reason == "length"


def test_choose_uses_guided_choice_and_falls_back_to_scores():
    request = OptionScoringRequest(messages=QUESTION, options=["tea", "coffee"])
    guided = FakeLLM(guided_text="coffee")
    assert asyncio.run(VLLMBackend.from_engine(guided, "fake", vllm_module=FAKE_VLLM).choose([request])) == [
        1
    ]
    sent = guided.calls[0][1][0]
    assert sent["structured_outputs"] == ("choice", ["tea", "coffee"]) and sent["temperature"] == 0.0
    # Guided output that is no option (guidance unavailable): the most probable option wins.
    unguided = FakeLLM(guided_text="I like water")
    expected = 0 if option_logprob("tea") > option_logprob("coffee") else 1
    assert asyncio.run(
        VLLMBackend.from_engine(unguided, "fake", vllm_module=FAKE_VLLM).choose([request])
    ) == [expected]


# --------------------------------------------------------------------------- real vLLM (CUDA machines)


@pytest.mark.model
def test_real_vllm_generates_scores_and_chooses():
    pytest.importorskip("vllm")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    backend = VLLMBackend(gpu_memory_utilization=0.3, max_model_len=1024)
    [reply] = asyncio.run(
        backend.generate(
            [GenerationRequest(messages=QUESTION, params=SamplingParams(max_new_tokens=8, temperature=0))]
        )
    )
    assert reply.text and 1 <= reply.completion_tokens <= 8
    request = OptionScoringRequest(messages=QUESTION, options=["Tea", "Coffee"])
    [scores] = asyncio.run(backend.score_options([request]))
    assert sum(scores.probabilities) == pytest.approx(1.0) and all(lp < 0 for lp in scores.logprobs)
    assert asyncio.run(backend.choose([request]))[0] in (0, 1)
