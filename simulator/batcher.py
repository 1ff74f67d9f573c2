"""Cross-conversation micro-batching: many episodes, one batched backend call at a time.

Every episode runs as a task in one event loop and sends its model requests here one by one. The
batcher coalesces the requests waiting at a moment into one `backend.generate(list)` (or
`score_options(list)`) call. It flushes a batch when

- `max_batch_size` requests of one kind are waiting, or
- every registered participant is waiting (nobody else can add to the batch, so waiting longer
  only loses time), or
- the oldest request has waited `max_wait_s`, or a twentieth of the last batch's duration if that
  is longer (a participant is busy elsewhere; when a batch takes a second, the participants it
  releases need tens of milliseconds of Python to send their next requests, and a batch sent
  before they arrive would leave them for the next one).

Flushing on "everybody is waiting" makes batch composition a function of the plan, not of timing,
so greedy runs are reproducible even where padding changes numerics in the last bits. Only one
batch is in flight at a time: on a CPU two concurrent forward passes only fight for the cores, and
the requests that arrive meanwhile form the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from simulator.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    OptionScores,
    OptionScoringRequest,
)

# Waiting for stragglers costs at most this share of the backend's time.
WAIT_SHARE = 0.05

Request = TypeVar("Request")
Result = TypeVar("Result")


@dataclass
class BatchStats:
    batches: int = 0
    requests: int = 0
    busy_s: float = 0.0  # time the backend spent on batches
    largest: int = 0

    @property
    def mean_batch_size(self) -> float:
        return self.requests / self.batches if self.batches else 0.0


@dataclass
class _Pending(Generic[Request, Result]):
    request: Request
    future: asyncio.Future[Result]
    since: float


@dataclass
class _Lane(Generic[Request, Result]):
    """The queue of one kind of call (generate or score)."""

    name: str
    call: Callable[[Sequence[Request]], Awaitable[list[Result]]]
    waiting: list[_Pending[Request, Result]] = field(default_factory=list)
    stats: BatchStats = field(default_factory=BatchStats)

    def oldest(self) -> float:
        return self.waiting[0].since if self.waiting else float("inf")


class RequestBatcher:
    """Coalesces concurrent requests to one backend into batched calls."""

    def __init__(self, backend: Backend, max_batch_size: int | None = None, max_wait_s: float = 0.01):
        if max_wait_s < 0:
            raise ValueError("max_wait_s must be >= 0")
        self.backend = backend
        self.max_batch_size = max(1, max_batch_size or backend.preferred_batch_size())
        self.max_wait_s = max_wait_s
        self._generate: _Lane[GenerationRequest, Generation] = _Lane("generate", backend.generate)
        self._score: _Lane[OptionScoringRequest, OptionScores] = _Lane("score", backend.score_options)
        self._lanes: tuple[_Lane[Any, Any], ...] = (self._generate, self._score)
        self._participants = 0
        self._wakeup = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self._last_batch_s = 0.0

    # -- public API -------------------------------------------------------------------------------

    async def generate(self, request: GenerationRequest) -> Generation:
        return await self._submit(self._generate, request)

    async def score_options(self, request: OptionScoringRequest) -> OptionScores:
        return await self._submit(self._score, request)

    @contextlib.asynccontextmanager
    async def participant(self) -> AsyncIterator[None]:
        """Register a caller that will keep sending requests (one at a time) until it leaves."""
        self._participants += 1
        try:
            yield
        finally:
            self._participants -= 1
            self._wakeup.set()  # the others may all be waiting now

    @property
    def stats(self) -> dict[str, BatchStats]:
        return {lane.name: lane.stats for lane in self._lanes}

    async def aclose(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
            self._scheduler = None

    # -- internals --------------------------------------------------------------------------------

    async def _submit(self, lane: _Lane[Request, Result], request: Request) -> Result:
        loop = asyncio.get_running_loop()
        pending = _Pending(request, loop.create_future(), loop.time())
        lane.waiting.append(pending)
        if self._scheduler is None or self._scheduler.done():
            self._scheduler = loop.create_task(self._schedule(), name="request-batcher")
        self._wakeup.set()
        try:
            return await pending.future
        except asyncio.CancelledError:
            if pending in lane.waiting:  # cancelled before its batch was sent
                lane.waiting.remove(pending)
            raise

    def _ready_lane(self, now: float) -> tuple[_Lane[Any, Any] | None, float]:
        """The lane to flush now, or None and how long to wait before looking again."""
        waiting = [lane for lane in self._lanes if lane.waiting]
        if not waiting:
            return None, float("inf")
        full = [lane for lane in waiting if len(lane.waiting) >= self.max_batch_size]
        if full:
            return min(full, key=_Lane.oldest), 0.0
        total = sum(len(lane.waiting) for lane in waiting)
        oldest = min(waiting, key=_Lane.oldest)
        if self._participants and total >= self._participants:
            return max(waiting, key=lambda lane: (len(lane.waiting), -lane.oldest())), 0.0
        patience = max(self.max_wait_s, WAIT_SHARE * self._last_batch_s)
        remaining = oldest.oldest() + patience - now
        return (oldest, 0.0) if remaining <= 0 else (None, remaining)

    async def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            lane, delay = self._ready_lane(loop.time())
            if lane is None:
                self._wakeup.clear()
                if delay == float("inf"):
                    await self._wakeup.wait()
                else:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), delay)
                continue
            await self._flush(lane)

    async def _flush(self, lane: _Lane[Request, Result]) -> None:
        batch = [p for p in lane.waiting[: self.max_batch_size] if not p.future.done()]
        del lane.waiting[: self.max_batch_size]
        if not batch:
            return
        try:
            results = await self._call(lane, batch)
        except asyncio.CancelledError:
            for p in batch:
                p.future.cancel()
            raise
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            # One bad request must not fail the conversations that merely shared its batch:
            # retry each alone, so only the culprit's caller gets the error.
            for p in batch:
                await self._flush_one(lane, p)
            return
        for p, result in zip(batch, results):
            if not p.future.done():
                p.future.set_result(result)

    async def _flush_one(self, lane: _Lane[Request, Result], pending: _Pending[Request, Result]) -> None:
        try:
            [result] = await self._call(lane, [pending])
        except asyncio.CancelledError:
            pending.future.cancel()
            raise
        except Exception as exc:
            if not pending.future.done():
                pending.future.set_exception(exc)
            return
        if not pending.future.done():
            pending.future.set_result(result)

    async def _call(
        self, lane: _Lane[Request, Result], batch: list[_Pending[Request, Result]]
    ) -> list[Result]:
        started = time.perf_counter()
        try:
            results = await lane.call([p.request for p in batch])
        finally:
            lane.stats.batches += 1
            lane.stats.requests += len(batch)
            lane.stats.largest = max(lane.stats.largest, len(batch))
            self._last_batch_s = time.perf_counter() - started
            lane.stats.busy_s += self._last_batch_s
        if len(results) != len(batch):
            raise RuntimeError(f"backend returned {len(results)} results for {len(batch)} requests")
        return results
