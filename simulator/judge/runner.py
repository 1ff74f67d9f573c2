"""Judging a run: every finished, not yet judged episode, concurrently, saved one by one.

Resumable like the simulation: a judgement and its intents are committed in one transaction per
episode, and a restarted run skips the episodes that already have a judgement, so a killed judge
loses at most the episodes in flight and never judges an episode twice.

All store access happens in one dedicated thread (one SQLite connection, used serially), so the
event loop only coordinates agents and the batcher.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import fmean
from typing import Any, TypeVar

from autogen_core import AgentId, SingleThreadedAgentRuntime

from personas.files import BadInputError
from simulator.batcher import RequestBatcher
from simulator.judge.agent import EpisodeJudged, JudgeAgent, JudgeEpisode, JudgeSettings
from simulator.judge.filter import FilterRule
from simulator.judge.intents import FALLBACK_REASON
from simulator.judge.prompts import CultureContext
from simulator.records import Episode, Judgement
from simulator.store import RunStore

SUMMARY_KEY = "judge_summary"
SUMMARY_EVERY_S = 5.0  # how often the live view's summary is refreshed while judging
VERDICTS = ("quality", "alignment", "meta_review")
T = TypeVar("T")


@lru_cache(maxsize=64)
def culture_context(culture_id: str | None) -> CultureContext:
    """The culture's name, score descriptors and norms; just its id when it has no profile."""
    if not culture_id or culture_id == "unspecified":
        return CultureContext(name="the participants'")
    try:
        from personas.cultures import load_culture

        profile = load_culture(culture_id)
    except BadInputError:  # a culture the run knew but this installation does not: judge by name
        return CultureContext(name=culture_id.replace("_", " ").title())
    return CultureContext(name=profile.name, descriptors=profile.descriptors(), norms=list(profile.norms))


def episode_culture(episode: Episode) -> CultureContext:
    culture = episode.culture or episode.scenario.get("culture")
    if not culture and episode.personas:
        culture = episode.personas[0].get("culture")
    return culture_context(culture)


@dataclass
class JudgeProgress:
    total: int
    judged: int = 0
    kept: int = 0
    failed: int = 0
    fallback_intents: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    # per batcher lane ('generate', 'score'): batched backend calls and the requests they carried
    batches: dict[str, tuple[int, int]] = field(default_factory=dict)


class StoreThread:
    """One thread owns the store; the event loop awaits its reads and writes."""

    def __init__(self, store: RunStore):
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge-store")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def pending_episodes(store: RunStore, limit: int | None = None) -> list[str]:
    """Ids of finished episodes without a judgement, oldest first."""
    judged = store.judged_ids()
    # Ids only (the same order as RunStore.episodes), so nothing but the episode in hand is loaded.
    rows = store.db.execute("SELECT id FROM episodes WHERE status = 'done' ORDER BY finished_at, id")
    ids = [row[0] for row in rows if row[0] not in judged]
    return ids[:limit] if limit is not None else ids


def _next_episode(store: RunStore, ids: Iterator[str]) -> Episode | None:
    for episode_id in ids:
        episode = store.episode(episode_id)
        if episode is not None:
            return episode
    return None


async def judge_episodes(
    store: RunStore,
    batcher: RequestBatcher,
    judge_model: str,
    settings: JudgeSettings,
    concurrency: int = 16,
    limit: int | None = None,
    on_progress: Callable[[JudgeProgress], None] | None = None,
) -> JudgeProgress:
    """Judge the pending episodes of `store` with at most `concurrency` in flight."""
    started = time.monotonic()
    io = StoreThread(store)
    runtime = SingleThreadedAgentRuntime()
    await JudgeAgent.register(runtime, "judge", lambda: JudgeAgent(batcher, judge_model, settings))
    runtime.start()
    judge = AgentId("judge", "default")
    try:
        pending = await io.call(pending_episodes, store, limit)
        progress = JudgeProgress(total=len(pending))
        ids = iter(pending)
        slots = asyncio.Semaphore(max(1, concurrency))
        last_summary = time.monotonic()

        async def judge_one(episode: Episode) -> None:
            nonlocal last_summary
            try:
                judged: EpisodeJudged = await runtime.send_message(
                    JudgeEpisode(episode=episode, culture=episode_culture(episode)), judge
                )
                intents = {i: (t.intent, t.reason) for i, t in judged.intents.items()}
                await io.call(store.save_judgement, judged.judgement, intents)
                progress.judged += 1
                progress.kept += judged.judgement.kept
                progress.fallback_intents += judged.fallback_intents
            except Exception as exc:  # one episode's failure must not lose the others' work
                progress.failed += 1
                if len(progress.errors) < 5:
                    progress.errors.append(f"{episode.id}: {type(exc).__name__}: {exc}")
            finally:
                slots.release()
            if on_progress:
                on_progress(progress)
            if time.monotonic() - last_summary > SUMMARY_EVERY_S:
                last_summary = time.monotonic()
                await io.call(store_summary, store, settings.rule)

        tasks: set[asyncio.Task[None]] = set()
        while True:
            await slots.acquire()
            episode = await io.call(_next_episode, store, ids)
            if episode is None:
                slots.release()
                break
            task = asyncio.create_task(judge_one(episode))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        progress.elapsed_s = time.monotonic() - started
        progress.batches = {name: (stats.batches, stats.requests) for name, stats in batcher.stats.items()}
        return progress
    finally:
        await runtime.stop()
        await io.call(store_summary, store, settings.rule)
        io.close()


def apply_rule(store: RunStore, rule: FilterRule) -> int:
    """Re-apply a (changed) filter rule to stored verdicts: no model call needed. Returns changes."""
    changed = 0
    for judgement in list(store.judgements()):
        kept = rule.keep(judgement.quality, judgement.alignment, judgement.meta_review)
        if kept != judgement.kept:
            store.save_judgement(judgement.model_copy(update={"kept": kept}), {})
            changed += 1
    return changed


def summarize(store: RunStore, rule: FilterRule) -> dict[str, Any]:
    judgements: list[Judgement] = list(store.judgements())
    labels = {name: dict(Counter(getattr(j, name).label for j in judgements)) for name in VERDICTS}
    confidence = {
        name: round(fmean(getattr(j, name).confidence for j in judgements), 4) if judgements else None
        for name in VERDICTS
    }
    bands = {name: dict(Counter(getattr(j, name).confidence_band for j in judgements)) for name in VERDICTS}
    # Intents live on the turns table; counted in SQL rather than loading every episode.
    intents, fallbacks = store.db.execute(
        "SELECT COUNT(t.intent), COALESCE(SUM(t.intent_reason = ?), 0) FROM turns t "
        "JOIN judgements j ON j.episode_id = t.episode_id",
        (FALLBACK_REASON,),
    ).fetchone()
    kept = sum(j.kept for j in judgements)
    return {
        "judged": len(judgements),
        "episodes_done": store.count_episodes("done"),
        "kept": kept,
        "dropped": len(judgements) - kept,
        "verdicts": labels,
        # flat, for one-line displays (the live view's footer): 'quality good', 'aligned', ...
        "labels": {
            (label if name == "alignment" else f"{name.replace('_', '-')} {label}"): count
            for name, counts in labels.items()
            for label, count in sorted(counts.items())
        },
        "mean_confidence": confidence,
        "confidence_bands": bands,
        "intents": intents,
        "intent_fallbacks": fallbacks,
        "judge_models": sorted({j.judge_model for j in judgements}),
        "rule": rule.describe(),
        "updated_at": time.time(),
    }


def store_summary(store: RunStore, rule: FilterRule) -> dict[str, Any]:
    summary = summarize(store, rule)
    store.set_value(SUMMARY_KEY, summary)
    return summary
