"""The transformers backend on the real embedded model: batching, KV reuse and option scoring
must give exactly what an unbatched, uncached run gives."""

from __future__ import annotations

import asyncio

import pytest
import torch

from simulator.backends.base import GenerationRequest, OptionScoringRequest, SamplingParams
from simulator.backends.kv_sessions import SessionCache, SessionCacheStore
from simulator.backends.reserved_cache import ReservedLayer
from simulator.backends.transformers_backend import prefill_ranges

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


def test_chunked_prefill_gives_the_same_replies(embedded_backend):
    """Rows prefilled in several length-sorted chunks, then decoded together, match one chunk."""
    requests = [
        GenerationRequest(INVITE, GREEDY),
        GenerationRequest([SYSTEM, {"role": "user", "content": "Hi."}], GREEDY),
        GenerationRequest([SYSTEM, {"role": "user", "content": "Tell me about your work in Osaka."}], GREEDY),
    ]
    whole = run(embedded_backend.generate(requests))
    budget = embedded_backend.prefill_chunk_tokens
    embedded_backend.prefill_chunk_tokens = 1  # every row alone
    try:
        chunked = run(embedded_backend.generate(requests))
    finally:
        embedded_backend.prefill_chunk_tokens = budget
    assert [g.text for g in chunked] == [g.text for g in whole]


def test_chunked_prefill_over_cached_prefixes_gives_the_same_replies(embedded_backend):
    """Conversations resumed from their caches, each prefilled alone, equal fresh uncached runs."""
    openers = ["Would you like to join us for karaoke tonight?", "Hi.", "Is the report ready for Monday?"]
    answers = [
        "Yes, tell me more.",
        "Please come, everyone from the team is going and it will be fun!",
        "Why?",
    ]
    conversations = [[SYSTEM, {"role": "user", "content": opener}] for opener in openers]
    sessions = [f"chunked-{i}" for i in range(3)]
    firsts = run(
        embedded_backend.generate(
            [GenerationRequest(c, GREEDY, session_id=s) for c, s in zip(conversations, sessions)]
        )
    )
    follow_ups = [
        [*c, {"role": "assistant", "content": first.text}, {"role": "user", "content": answer}]
        for c, first, answer in zip(conversations, firsts, answers)
    ]
    fresh = run(embedded_backend.generate([GenerationRequest(f, GREEDY) for f in follow_ups]))
    budget, before = embedded_backend.prefill_chunk_tokens, embedded_backend.sessions.hits_tokens
    embedded_backend.prefill_chunk_tokens = 1
    try:
        resumed = run(
            embedded_backend.generate(
                [GenerationRequest(f, GREEDY, session_id=s) for f, s in zip(follow_ups, sessions)]
            )
        )
    finally:
        embedded_backend.prefill_chunk_tokens = budget
        for session in sessions:
            embedded_backend.end_session(session)
    assert embedded_backend.sessions.hits_tokens > before
    assert [g.text for g in resumed] == [g.text for g in fresh]


def test_chunked_prefill_gives_the_same_option_scores(embedded_backend):
    questions = ["Is Paris in France?", "Hi. Is it raining in Osaka today, do you think?", "Yes or no?"]
    requests = [
        OptionScoringRequest([{"role": "user", "content": q}], ["yes", "no", "Yes, it is"]) for q in questions
    ]
    whole = run(embedded_backend.score_options(requests))
    budget = embedded_backend.prefill_chunk_tokens
    embedded_backend.prefill_chunk_tokens = 1
    try:
        chunked = run(embedded_backend.score_options(requests))
    finally:
        embedded_backend.prefill_chunk_tokens = budget
    for ours, theirs in zip(chunked, whole):
        assert ours.logprobs == pytest.approx(theirs.logprobs, abs=1e-4)


def test_first_turn_borrows_the_shared_scene_of_another_conversation(embedded_backend):
    scene = (
        "Scene: a rainy evening at a small izakaya in Osaka; two colleagues meet after work to talk "
        "about the new project and who will lead it. Keep replies short."
    )
    first = [{"role": "system", "content": scene + " You are Keiko."}, INVITE[1]]
    second = [{"role": "system", "content": scene + " You are Hiroshi."}, INVITE[1]]
    run(embedded_backend.generate([GenerationRequest(first, GREEDY, session_id="keiko")]))
    before = embedded_backend.sessions.hits_tokens
    borrowed = run(embedded_backend.generate([GenerationRequest(second, GREEDY, session_id="hiroshi")]))[0]
    assert embedded_backend.sessions.hits_tokens - before >= 32
    fresh = run(embedded_backend.generate([GenerationRequest(second, GREEDY)]))[0]
    assert borrowed.text == fresh.text
    for session in ("keiko", "hiroshi"):
        embedded_backend.end_session(session)


def test_prefill_ranges_keep_within_the_budget_and_limit_padding():
    assert prefill_ranges([50, 48, 30, 20], budget=150) == [(0, 3), (3, 4)]  # 20 < 50 / 2
    assert prefill_ranges([50, 48, 20, 5], budget=100) == [(0, 2), (2, 3), (3, 4)]
    assert prefill_ranges([300, 10], budget=100) == [(0, 1), (1, 2)]  # too long for the budget: alone
    assert prefill_ranges([], budget=100) == []


def test_borrowing_needs_a_long_enough_shared_prefix():
    store = SessionCacheStore(max_tokens=1000)
    shared = list(range(40))
    store.put("a", SessionCache([*shared, 7, 7], [torch.zeros(1, 42, 1)], [torch.zeros(1, 42, 1)]))
    entry, length = store.longest_prefix("b", [*shared, 9, 9])
    assert entry is store.get("a") and length == 40
    assert store.longest_prefix("c", [*shared[:10], 9]) == (None, 0)
    own = SessionCache([1, 2, 3], [torch.zeros(1, 3, 1)], [torch.zeros(1, 3, 1)])
    store.put("d", own)
    assert store.longest_prefix("d", [1, 2, 3, 4]) == (own, 3)  # its own entry, however short


def test_reserved_cache_writes_in_place_and_grows_when_needed():
    layer = ReservedLayer(capacity=4)
    keys = torch.arange(6.0).reshape(1, 1, 3, 2)
    layer.update(keys, keys + 100)
    buffer = layer.keys.untyped_storage().data_ptr()
    step = torch.full((1, 1, 1, 2), -1.0)
    layer.update(step, step)
    assert layer.keys.untyped_storage().data_ptr() == buffer  # no copy while it fits
    assert layer.get_seq_length() == 4 and torch.equal(layer.keys[0, 0, 3], step[0, 0, 0])
    layer.update(step * 2, step * 2)  # past the reservation: grows, keeps what it held
    assert layer.get_seq_length() == 5 and torch.equal(layer.keys[0, 0, :3], keys[0, 0])
    layer.crop(-2)
    assert torch.equal(layer.values, keys + 100)


def test_reserved_layer_places_rows_right_aligned_and_zeroes_holes():
    layer = ReservedLayer(capacity=6)
    layer.allocate(rows=2, heads=1, dim=2, dtype=torch.float32, device="cpu")
    layer.place(0, torch.ones(1, 2, 2), torch.ones(1, 2, 2), end=5)
    layer.place(torch.tensor([1]), torch.ones(1, 1, 4, 2) * 3, torch.ones(1, 1, 4, 2) * 3, end=5)
    layer.set_length(5)
    assert layer.keys[0, 0, :, 0].tolist() == [0, 0, 0, 1, 1]
    assert layer.keys[1, 0, :, 0].tolist() == [0, 3, 3, 3, 3]


def test_a_window_writes_into_its_rows_of_the_parent_layer():
    parent = ReservedLayer(capacity=6)
    parent.allocate(rows=3, heads=1, dim=1, dtype=torch.float32, device="cpu")
    window = parent.window(slice(1, 3), start=2)
    window.update(torch.ones(2, 1, 3, 1) * 7, torch.ones(2, 1, 3, 1) * 7)
    parent.set_length(5)
    assert parent.keys[1, 0, :, 0].tolist() == [0, 0, 7, 7, 7]  # right-aligned, holes zeroed
    assert parent.values[2, 0, :, 0].tolist() == [0, 0, 7, 7, 7]


def test_packed_gqa_attention_matches_transformers_sdpa(embedded_backend):
    """Same logits as transformers' own SDPA attention: unpadded, padded with a mask, and a
    decoding step over a cache."""
    from simulator.backends.cpu_attention import NAME

    model = embedded_backend.model
    long = torch.tensor([embedded_backend.render(INVITE)])
    short = embedded_backend.render([SYSTEM, {"role": "user", "content": "Hi."}])
    padded = torch.full((2, long.shape[1]), embedded_backend.pad_id)
    padded[0], padded[1, -len(short) :] = long[0], torch.tensor(short)
    mask = (torch.arange(long.shape[1]) >= long.shape[1] - len(short)).long().expand(2, -1).clone()
    mask[0] = 1

    def logits() -> list[torch.Tensor]:
        with torch.inference_mode():
            whole = model(long, use_cache=True)
            step = model(long[:, -1:], past_key_values=whole.past_key_values)  # one token, with a cache
            batch = model(padded, attention_mask=mask)
        return [whole.logits, step.logits, batch.logits[1, -len(short) :]]

    assert model.config._attn_implementation == NAME
    packed = logits()
    model.set_attn_implementation("sdpa")
    try:
        plain = logits()
    finally:
        model.set_attn_implementation(NAME)
    for ours, theirs in zip(packed, plain):
        assert torch.allclose(ours, theirs, atol=1e-4)
