"""The batcher coalesces concurrent requests into batched backend calls (a counting fake backend
stands in for the model here: this tests the scheduling logic only)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence

import pytest

from simulator.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    OptionScores,
    OptionScoringRequest,
)
from simulator.batcher import RequestBatcher


class CountingBackend(Backend):
    name = "counting"

    def __init__(self, delay_s: float = 0.01, fail_on: str | None = None):
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.generate_batches: list[list[str]] = []
        self.score_batches: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def model_id(self) -> str:
        return "counting"

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        texts = [r.messages[-1]["content"] for r in requests]
        self.generate_batches.append(texts)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(self.delay_s)
        self.in_flight -= 1
        if self.fail_on in texts:
            raise RuntimeError("backend exploded")
        return [Generation(f"re: {t}", 1, 1) for t in texts]

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        self.score_batches.append(len(requests))
        await asyncio.sleep(self.delay_s)
        return [OptionScores([-float(i) for i in range(len(r.options))]) for r in requests]


def run_async(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


def request(text: str) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}])


@run_async
async def test_concurrent_requests_become_one_batch() -> None:
    backend = CountingBackend()
    batcher = RequestBatcher(backend, max_batch_size=32, max_wait_s=0.05)
    results = await asyncio.gather(*(batcher.generate(request(str(i))) for i in range(20)))
    await batcher.aclose()
    assert [r.text for r in results] == [f"re: {i}" for i in range(20)]  # each caller gets its own answer
    assert backend.generate_batches == [[str(i) for i in range(20)]]


@run_async
async def test_batches_are_capped_and_never_overlap() -> None:
    backend = CountingBackend()
    batcher = RequestBatcher(backend, max_batch_size=8, max_wait_s=0.05)
    await asyncio.gather(*(batcher.generate(request(str(i))) for i in range(20)))
    await batcher.aclose()
    assert [len(b) for b in backend.generate_batches] == [8, 8, 4]
    assert backend.max_in_flight == 1


@run_async
async def test_flushes_as_soon_as_every_participant_waits() -> None:
    """With participants registered, a full house is sent at once instead of after max_wait."""
    backend = CountingBackend(delay_s=0)
    batcher = RequestBatcher(backend, max_batch_size=64, max_wait_s=60)  # a timeout would hang the test

    async def participant(name: str, turns: int) -> None:
        async with batcher.participant():
            for turn in range(turns):
                await batcher.generate(request(f"{name}{turn}"))

    await asyncio.wait_for(asyncio.gather(participant("a", 3), participant("b", 2), participant("c", 3)), 5)
    await batcher.aclose()
    # lockstep: all three per round; when b is done, a and c go on without waiting for it
    assert [sorted(b) for b in backend.generate_batches] == [
        ["a0", "b0", "c0"],
        ["a1", "b1", "c1"],
        ["a2", "c2"],
    ]


@run_async
async def test_lone_request_goes_after_max_wait() -> None:
    backend = CountingBackend(delay_s=0)
    batcher = RequestBatcher(backend, max_batch_size=32, max_wait_s=0.02)
    result = await asyncio.wait_for(batcher.generate(request("x")), 2)
    await batcher.aclose()
    assert result.text == "re: x"


@run_async
async def test_scoring_requests_are_batched_in_their_own_lane() -> None:
    backend = CountingBackend()
    batcher = RequestBatcher(backend, max_batch_size=32, max_wait_s=0.02)
    scoring = [
        OptionScoringRequest(messages=[{"role": "user", "content": "q"}], options=["a", "b"])
        for _ in range(5)
    ]
    scores, generations = await asyncio.gather(
        asyncio.gather(*(batcher.score_options(r) for r in scoring)),
        asyncio.gather(*(batcher.generate(request(str(i))) for i in range(3))),
    )
    await batcher.aclose()
    assert backend.score_batches == [5]
    assert len(backend.generate_batches) == 1
    assert all(s.logprobs == [0.0, -1.0] for s in scores)
    assert len(generations) == 3


@run_async
async def test_a_failing_request_fails_only_its_caller() -> None:
    """The batch is retried request by request, so its neighbours still get their answers."""
    backend = CountingBackend(fail_on="bad")
    batcher = RequestBatcher(backend, max_batch_size=3, max_wait_s=0.01)
    results = await asyncio.gather(
        *(batcher.generate(request(t)) for t in ("x", "bad", "y")), return_exceptions=True
    )
    assert isinstance(results[1], RuntimeError)
    assert [results[0].text, results[2].text] == ["re: x", "re: y"]
    assert backend.generate_batches == [["x", "bad", "y"], ["x"], ["bad"], ["y"]]
    assert (await batcher.generate(request("fine"))).text == "re: fine"  # the batcher goes on
    await batcher.aclose()


@run_async
async def test_cancelled_caller_leaves_the_queue() -> None:
    backend = CountingBackend(delay_s=0)
    batcher = RequestBatcher(backend, max_batch_size=32, max_wait_s=0.05)
    doomed = asyncio.create_task(batcher.generate(request("gone")))
    await asyncio.sleep(0)
    doomed.cancel()
    kept = await batcher.generate(request("kept"))
    await batcher.aclose()
    assert kept.text == "re: kept"
    assert backend.generate_batches == [["kept"]]


def test_rejects_negative_wait() -> None:
    with pytest.raises(ValueError):
        RequestBatcher(CountingBackend(), max_wait_s=-1)


@run_async
async def test_after_a_slow_batch_the_next_one_waits_for_stragglers() -> None:
    """Requests arriving a little after max_wait still join the batch when the backend is slow
    (waiting a twentieth of a batch's duration is cheap next to sending a half-empty batch)."""
    backend = CountingBackend(delay_s=1.0)
    batcher = RequestBatcher(backend, max_batch_size=32, max_wait_s=0.001)

    async def late(text: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await batcher.generate(request(text))

    await batcher.generate(request("first"))  # one slow batch: the batcher now waits up to 50 ms
    await asyncio.gather(late("a", 0), late("b", 0.02))
    await batcher.aclose()
    assert sorted(backend.generate_batches[-1]) == ["a", "b"]
