"""`select` end to end: kept episodes -> embeddings -> scores -> lazy greedy -> run store -> report.

Every culture's scores and subset are written to the run store as soon as that culture is done,
so an interruption keeps the cultures finished so far (and the embedding cache keeps the vectors).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from personas.files import BadInputError
from simulator.store import DB_NAME, RunStore
from trainer.selection.embeddings import embed_episodes, episode_segments
from trainer.selection.greedy import lazy_greedy
from trainer.selection.metrics import SubsetContext, community_labels, compare_with_random
from trainer.selection.report import plot_comparison, plot_file_name, write_report
from trainer.selection.scores import coverage_similarity, distinctiveness, representativeness

DEFAULT_BUDGET = 100
SUMMARY_KEY = "selection"  # run-store kv: culture -> summary, read back to write the report


@dataclass
class SelectionSettings:
    budget: int | None = None  # None: DEFAULT_BUDGET, capped at each pool's size
    lam: float = 0.5
    cultures: list[str] | None = None  # None: every culture with kept episodes
    embedder: str = "minilm"
    seed: int = 0
    allow_smaller: bool = False
    random_subsets: int = 200
    neighbours: int = 10

    def check(self) -> None:
        if self.lam < 0:
            raise BadInputError("--lambda", f"must be >= 0, got {self.lam}")
        if self.budget is not None and self.budget < 1:
            raise BadInputError("--budget", f"must be >= 1, got {self.budget}")
        if self.random_subsets < 0:
            raise BadInputError("--random-subsets", f"must be >= 0, got {self.random_subsets}")
        if self.neighbours < 1:
            raise BadInputError("--neighbours", f"must be >= 1, got {self.neighbours}")


@dataclass
class Pool:
    """Kept episodes of the run: ids, cultures and texts (as segments; the first is the title), aligned."""

    ids: list[str] = field(default_factory=list)
    cultures: list[str] = field(default_factory=list)
    segments: list[list[str]] = field(default_factory=list)

    def members(self, culture: str) -> np.ndarray:
        return np.flatnonzero(np.asarray(self.cultures) == culture)


Progress = Callable[[str, int, int], None]  # (stage, advance, total)


def load_pool(store: RunStore, run_dir: Path, settings: SelectionSettings) -> tuple[Pool, list[str]]:
    """The run's kept episodes and the cultures to select for, with every input problem reported first."""
    if not store.judged_ids():
        raise BadInputError(run_dir, "the run has no judgements yet; run `culturesim judge` on it first")
    pool = Pool()
    for episode in store.kept_episodes():
        if episode.culture is None:
            continue  # base-scenario episodes belong to no culture
        pool.ids.append(episode.id)
        pool.cultures.append(episode.culture)
        pool.segments.append(episode_segments(episode))
    known = sorted(set(pool.cultures))
    if not known:
        raise BadInputError(run_dir, "the judge kept no episode of any culture; nothing to select from")
    wanted = list(dict.fromkeys(settings.cultures or known))
    for culture in wanted:
        if culture not in known:
            raise BadInputError(
                "--culture",
                f"no kept episodes of culture '{culture}' in this run (cultures: {', '.join(known)})",
            )
    if settings.budget is not None and not settings.allow_smaller:
        for culture in wanted:
            size = len(pool.members(culture))
            if settings.budget > size:
                raise BadInputError(
                    "--budget",
                    f"budget {settings.budget} is larger than the {size} kept episodes of culture '{culture}'; "
                    "lower --budget or pass --allow-smaller to take the whole pool",
                )
    return pool, wanted


def select_run(
    run_dir: str | Path, settings: SelectionSettings, progress: Progress | None = None
) -> dict[str, Any]:
    """Score and select for each wanted culture; returns the summaries of every culture in the run."""
    settings.check()
    run_dir = Path(run_dir)
    report = progress or (lambda stage, advance, total: None)
    if not (run_dir / DB_NAME).exists():
        raise BadInputError(run_dir, f"not a run directory (no {DB_NAME}); run `culturesim simulate` first")
    out_dir = run_dir / "selection"
    with RunStore(run_dir) as store:
        pool, wanted = load_pool(store, run_dir, settings)
        out_dir.mkdir(parents=True, exist_ok=True)
        # Distinctiveness compares with every culture, so every kept episode is embedded.
        vectors = embed_episodes(
            list(zip(pool.ids, pool.segments, strict=True)),
            settings.embedder,
            out_dir / f"embeddings-{settings.embedder}.npz",
            on_progress=lambda advance: report("embedding", advance, len(pool.ids)),
        )
        distinct_all = distinctiveness(vectors, pool.cultures, settings.neighbours)
        summaries: dict[str, Any] = store.get_value(SUMMARY_KEY, {})
        for culture in wanted:
            summaries[culture] = _select_culture(
                store, pool, vectors, distinct_all, culture, settings, out_dir
            )
            store.set_value(SUMMARY_KEY, summaries)
            report("selecting", 1, len(wanted))
        write_report(out_dir / "report.md", run_dir, summaries)
        return summaries


def _select_culture(
    store: RunStore,
    pool: Pool,
    vectors_all: np.ndarray,
    distinct_all: np.ndarray,
    culture: str,
    settings: SelectionSettings,
    out_dir: Path,
) -> dict[str, Any]:
    members = pool.members(culture)
    vectors = vectors_all[members]
    distinct = distinct_all[members]
    similarity = coverage_similarity(vectors)
    represent = representativeness(similarity)
    budget = min(settings.budget or DEFAULT_BUDGET, len(members))
    result = lazy_greedy(similarity, distinct, budget, settings.lam, seed=settings.seed)
    rank_of = {item: rank for rank, item in enumerate(result.picked, start=1)}
    store.save_selection(
        culture,
        [
            (
                pool.ids[index],
                float(represent[local]),
                float(distinct[local]),
                local in rank_of,
                rank_of.get(local),
            )
            for local, index in enumerate(members)
        ],
    )
    context = SubsetContext(
        vectors, similarity, distinct, community_labels(vectors, settings.neighbours, settings.seed)
    )
    comparison = compare_with_random(context, result.picked, settings.random_subsets, settings.seed)
    plot_name = plot_file_name(culture)
    plot_comparison(out_dir / plot_name, culture, comparison, vectors, result.picked)
    return {
        "pool": len(members),
        "selected": len(result.picked),
        "settings": {
            "budget": budget,
            "lambda": settings.lam,
            "embedder": settings.embedder,
            "seed": settings.seed,
            "random_subsets": settings.random_subsets,
            "neighbours": settings.neighbours,
        },
        "single_culture": len(set(pool.cultures)) == 1,
        "gain_evaluations": result.evaluations,
        "metrics": comparison.summary(),
        "plot": plot_name,
        "first_picks": [
            {
                "rank": rank,
                "episode_id": pool.ids[members[local]],
                "title": pool.segments[members[local]][0],
                "representativeness": float(represent[local]),
                "distinctiveness": float(distinct[local]),
            }
            for rank, local in enumerate(result.picked[:5], start=1)
        ],
        "created_at": time.time(),
    }
