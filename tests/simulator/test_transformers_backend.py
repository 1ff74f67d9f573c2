"""The transformers backend on the real embedded model: batching, KV reuse and option scoring
must give exactly what an unbatched, uncached run gives."""

from __future__ import annotations

import asyncio

import pytest
import torch

from simulator.backends.base import GenerationRequest, OptionScoringRequest, SamplingParams
from simulator.backends.kv_sessions import SessionCache, SessionCacheStore

pytestmark = pytest.mark.model

SYSTEM = {"role": "system", "content": "You are Keiko, an office worker in Osaka. Keep replies short."}
INVITE = [SYSTEM, {"role": "user", "content": "Would you like to join us for karaoke tonight?"}]
GREEDY = SamplingParams(max_new_tokens=16, temperature=0)


def run(coro):
    return asyncio.run(coro)


def test_batched_greedy_equals_single(embedded_backend):
    other = [SYSTEM, {"role": "user", "content": "How was your weekend? Did you go anywhere?"}]
    single = run(embedded_backend.generate([GenerationRequest(INVITE, GREEDY)]))[0]
    batched = run(
        embedded_backend.generate([GenerationRequest(other, GREEDY), GenerationRequest(INVITE, GREEDY)])
    )
    assert single.text and single.completion_tokens > 0
    assert batched[1].text == single.text
    assert batched[1].prompt_tokens == single.prompt_tokens


def test_session_kv_reuse_gives_identical_reply(embedded_backend):
    first = run(embedded_backend.generate([GenerationRequest(INVITE, GREEDY, session_id="keiko")]))[0]
    follow_up = [
        *INVITE,
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": "Everyone from the team is going, please come!"},
    ]
    before = embedded_backend.sessions.hits_tokens
    reused = run(embedded_backend.generate([GenerationRequest(follow_up, GREEDY, session_id="keiko")]))[0]
    assert embedded_backend.sessions.hits_tokens - before >= first.prompt_tokens - 1
    fresh = run(embedded_backend.generate([GenerationRequest(follow_up, GREEDY)]))[0]
    assert reused.text == fresh.text
    embedded_backend.end_session("keiko")
    assert embedded_backend.sessions.get("keiko") is None


def test_seeded_sampling_does_not_depend_on_batch(embedded_backend):
    params = SamplingParams(max_new_tokens=12, temperature=0.9, seed=11)
    alone = run(embedded_backend.generate([GenerationRequest(INVITE, params)]))[0]
    other = GenerationRequest(
        [SYSTEM, {"role": "user", "content": "Hello!"}], SamplingParams(16, 0.9, seed=3)
    )
    together = run(embedded_backend.generate([other, GenerationRequest(INVITE, params)]))[1]
    assert together.text == alone.text


def test_option_scores_match_a_plain_forward_pass(embedded_backend):
    question = [{"role": "user", "content": "Is Paris the capital of France? Answer yes or no."}]
    options = ["yes", "no", "Yes, it is the capital of France"]
    scores = run(embedded_backend.score_options([OptionScoringRequest(question, options)]))[0]
    assert sum(scores.probabilities) == pytest.approx(1.0)
    prompt = embedded_backend.render(question)
    for option, logprob in zip(options, scores.logprobs):
        ids = embedded_backend.tokenizer.encode(option, add_special_tokens=False)
        with torch.inference_mode():
            logits = embedded_backend.model(torch.tensor([prompt + ids])).logits[0].float()
        expected = sum(
            float(torch.log_softmax(logits[len(prompt) - 1 + j], -1)[t]) for j, t in enumerate(ids)
        )
        assert logprob == pytest.approx(expected, abs=1e-3)


def test_session_store_evicts_least_recently_used():
    def entry(n: int) -> SessionCache:
        return SessionCache(list(range(n)), [torch.zeros(1, n, 1)], [torch.zeros(1, n, 1)])

    store = SessionCacheStore(max_tokens=10)
    store.put("a", entry(4))
    store.put("b", entry(4))
    store.get("a")  # a is now more recent than b
    store.put("c", entry(4))
    assert store.get("b") is None
    assert store.get("a") is not None and store.get("c") is not None
    assert entry(5).reusable_prefix([0, 1, 2, 9]) == 3
    assert entry(5).reusable_prefix([0, 1, 2]) == 2  # always leaves one token to feed
