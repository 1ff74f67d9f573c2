"""Scores, kNN, metrics and text handling of the selector, on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.records import Episode, Turn
from trainer.selection.embeddings import EmbeddingCache, embed_episodes, episode_segments, pack_segments
from trainer.selection.metrics import SubsetContext, community_labels, compare_with_random, redundancy
from trainer.selection.scores import (
    coverage_similarity,
    distinctiveness,
    nearest_neighbours,
    normalise,
    representativeness,
)


def two_cultures(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Culture a around one centre, b around another; items 0-2 of a sit in b's region."""
    rng = np.random.default_rng(seed)
    centre_a, centre_b = rng.normal(size=(2, 16)) * 3
    a = centre_a + rng.normal(size=(30, 16))
    a[:3] = centre_b + rng.normal(size=(3, 16))
    b = centre_b + rng.normal(size=(30, 16))
    return normalise(np.vstack([a, b])), ["a"] * 30 + ["b"] * 30


def test_nearest_neighbours_matches_a_full_sort_and_excludes_self() -> None:
    vectors = normalise(np.random.default_rng(0).normal(size=(700, 8)))  # more than one row block
    indices, sims = nearest_neighbours(vectors, vectors, 5, exclude_self=True)
    full = vectors @ vectors.T
    np.fill_diagonal(full, -np.inf)
    expected = np.argsort(-full, axis=1)[:, :5]
    assert np.array_equal(indices, expected)
    assert np.allclose(sims, np.take_along_axis(full, expected, axis=1))
    assert not np.any(indices == np.arange(700)[:, None])


def test_distinctiveness_is_low_for_items_sitting_in_another_cultures_region() -> None:
    vectors, cultures = two_cultures()
    d = distinctiveness(vectors, cultures, neighbours=8)
    assert np.all((d >= 0) & (d <= 1))
    assert d[:3].max() < 0.5 < d[3:30].min()
    assert d[30:].mean() > 0.8


def test_distinctiveness_corrects_for_pool_size() -> None:
    rng = np.random.default_rng(1)
    shared = normalise(rng.normal(size=(1, 16)) + 0.05 * rng.normal(size=(60, 16)))
    # 10 items of a and 50 of b drawn from the same region: nobody is distinct.
    d = distinctiveness(shared, ["a"] * 10 + ["b"] * 50, neighbours=20)
    assert d[:10].mean() == pytest.approx(0.5, abs=0.15)


def test_one_culture_means_everything_is_fully_distinct() -> None:
    vectors, _ = two_cultures()
    assert np.all(distinctiveness(vectors, ["a"] * 60) == 1.0)


def test_representativeness_is_higher_in_the_core_than_for_outliers() -> None:
    rng = np.random.default_rng(2)
    core = rng.normal(size=(1, 16)) * 3 + rng.normal(size=(40, 16))
    outliers = rng.normal(size=(4, 16)) * 3
    r = representativeness(coverage_similarity(normalise(np.vstack([core, outliers]))))
    assert r[:40].min() > r[40:].max()


def test_selection_metrics_reward_coverage_and_punish_copies() -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 16)) * 3
    vectors = normalise(np.repeat(centres, 10, axis=0) + 0.3 * rng.normal(size=(40, 16)))
    context = SubsetContext(
        vectors, coverage_similarity(vectors), np.full(40, 0.5), community_labels(vectors, 5, 0)
    )
    assert len(np.unique(context.communities)) >= 4
    one_per_cluster = [0, 10, 20, 30]
    same_cluster = [0, 1, 2, 3]
    spread, clumped = context.measure(one_per_cluster), context.measure(same_cluster)
    assert spread["coverage"] > clumped["coverage"]
    assert spread["redundancy"] < clumped["redundancy"]
    assert spread["modes_hit"] > clumped["modes_hit"]
    comparison = compare_with_random(context, one_per_cluster, n_random=50, seed=0).summary()
    assert comparison["coverage"]["beats"] > 0.5
    assert redundancy(vectors, [0]) == 0.0


def test_episode_text_is_title_and_utterances_without_speaker_names() -> None:
    turns = [
        Turn(index=0, speaker="p1", speaker_name="Haruto", role="host", action="speak", text="Welcome in."),
        Turn(index=1, speaker="p2", speaker_name="Aiko", role="guest", action="non-verbal", text="bows"),
        Turn(index=2, speaker="p1", speaker_name="Haruto", role="host", action="leave", text=""),
    ]
    episode = Episode(
        id="e1", scenario_id="s1", culture="x", persona_ids=["p1", "p2"], sample_index=0, seed=0,
        status="done", end_reason="max_turns", turns=turns, scenario={"title": "A visit"},
    )  # fmt: skip
    segments = episode_segments(episode)
    assert segments == ["A visit", "Welcome in.", "(bows)"]
    assert "Haruto" not in " ".join(segments)


def test_packing_keeps_chunks_within_the_limit_and_loses_nothing() -> None:
    segments = [" ".join(["word"] * size) for size in (3, 4, 10, 2, 2, 30)]
    chunks = pack_segments(segments, lambda text: len(text.split()), limit=9)
    assert "\n".join(chunks).split() == " ".join(segments).split()
    assert all(len(chunk.split()) <= 9 for chunk in chunks if chunk.count("\n"))


class CountingEmbedder:
    name = "fake"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, documents):  # noqa: ANN001 - test double of the Embedder protocol
        self.seen += [doc[0] for doc in documents]
        return normalise(np.array([[len(doc[0]), 1.0] for doc in documents]))


def test_embedding_cache_embeds_only_new_or_changed_episodes(tmp_path) -> None:  # noqa: ANN001
    cache_path = tmp_path / "embeddings-fake.npz"
    fake = CountingEmbedder()
    items = [("e1", ["aa"]), ("e2", ["bbbb"])]
    first = embed_episodes(items, "fake", cache_path, create=lambda name: fake)
    assert fake.seen == ["aa", "bbbb"]
    second = embed_episodes([*items, ("e3", ["c"])], "fake", cache_path, create=lambda name: fake)
    assert fake.seen == ["aa", "bbbb", "c"]
    assert np.allclose(second[:2], first)
    embed_episodes([("e1", ["changed text"])], "fake", cache_path, create=lambda name: fake)
    assert fake.seen[-1] == "changed text"
    assert len(EmbeddingCache(cache_path).vectors) == 4
