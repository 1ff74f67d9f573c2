"""An on-request cache of model responses, so re-running a finished configuration costs no model calls.

`CachingBackend` wraps any backend. A response is keyed by (model, full prompt messages, sampling
parameters, seed) for generation and (model, messages, options, prefix) for option scoring; only
the misses of a batch reach the inner backend, still as one batched call. The cache is an SQLite
file (WAL), read and written in a worker thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from simulator.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    OptionScores,
    OptionScoringRequest,
)

CACHE_FILE = "cache.sqlite"


class ResponseCache:
    """A persistent key -> JSON value map, safe to share between threads of one process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Sequence[str]) -> list[Any | None]:
        with self._lock:
            found: dict[str, str] = {}
            for start in range(0, len(keys), 500):  # SQLite's parameter limit
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._db.execute(f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk)
                )
        values = [json.loads(found[key]) if key in found else None for key in keys]
        self.hits += sum(v is not None for v in values)
        self.misses += sum(v is None for v in values)
        return values

    def put_many(self, items: Sequence[tuple[str, Any]]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO responses VALUES (?, ?)", [(k, json.dumps(v)) for k, v in items]
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


def request_key(model_id: str, kind: str, payload: dict[str, Any]) -> str:
    blob = json.dumps([model_id, kind, payload], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def generation_key(model_id: str, request: GenerationRequest) -> str:
    # The session id is left out on purpose: it only names a KV cache, it does not change the answer.
    return request_key(model_id, "generate", {"messages": request.messages, "params": asdict(request.params)})


def scoring_key(model_id: str, request: OptionScoringRequest) -> str:
    payload = {"messages": request.messages, "options": request.options, "prefix": request.assistant_prefix}
    return request_key(model_id, "score", payload)


class CachingBackend(Backend):
    """A backend that answers repeated requests from a `ResponseCache` and sends only misses on."""

    def __init__(self, inner: Backend, cache: ResponseCache):
        self.inner = inner
        self.cache = cache
        self.name = inner.name

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def preferred_batch_size(self) -> int:
        return self.inner.preferred_batch_size()

    def end_session(self, session_id: str) -> None:
        self.inner.end_session(session_id)

    def __getattr__(self, name: str) -> Any:  # tokenizer, session release... of the inner backend
        if name == "inner" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        keys = [generation_key(self.model_id, r) for r in requests]
        cached = await asyncio.to_thread(self.cache.get_many, keys)
        misses = [i for i, value in enumerate(cached) if value is None]
        results: list[Generation | None] = [Generation(**v) if v else None for v in cached]
        if misses:
            fresh = await self.inner.generate([requests[i] for i in misses])
            for i, generation in zip(misses, fresh):
                results[i] = generation
            await asyncio.to_thread(
                self.cache.put_many, [(keys[i], asdict(g)) for i, g in zip(misses, fresh)]
            )
        return [r for r in results if r is not None]

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        keys = [scoring_key(self.model_id, r) for r in requests]
        cached = await asyncio.to_thread(self.cache.get_many, keys)
        misses = [i for i, value in enumerate(cached) if value is None]
        results: list[OptionScores | None] = [OptionScores(**v) if v else None for v in cached]
        if misses:
            fresh = await self.inner.score_options([requests[i] for i in misses])
            for i, scores in zip(misses, fresh):
                results[i] = scores
            await asyncio.to_thread(
                self.cache.put_many, [(keys[i], asdict(s)) for i, s in zip(misses, fresh)]
            )
        return [r for r in results if r is not None]

    async def aclose(self) -> None:
        await self.inner.aclose()
        self.cache.close()
