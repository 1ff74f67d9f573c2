"""Lazy greedy on project-made synthetic clustered embeddings."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from trainer.selection.greedy import lazy_greedy, naive_greedy, objective, subset_coverage
from trainer.selection.scores import coverage_similarity, normalise


def clustered(n: int, clusters: int, dim: int, seed: int, spread: float = 0.4) -> np.ndarray:
    """Unit vectors drawn around `clusters` random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    return normalise(centres[rng.integers(0, clusters, n)] + spread * rng.normal(size=(n, dim)))


def brute_force_best(similarity: np.ndarray, distinct: np.ndarray, budget: int, lam: float) -> float:
    n = similarity.shape[0]
    return max(
        objective(similarity, distinct, list(subset), lam, budget)
        for subset in itertools.combinations(range(n), budget)
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lam", [0.0, 0.5, 2.0])
def test_lazy_greedy_reaches_the_submodular_guarantee_of_the_brute_force_optimum(
    seed: int, lam: float
) -> None:
    rng = np.random.default_rng(100 + seed)
    n, budget = int(rng.integers(8, 13)), int(rng.integers(2, 5))
    vectors = clustered(n, clusters=3, dim=8, seed=seed)
    similarity = coverage_similarity(vectors)
    distinct = rng.uniform(0, 1, n)
    result = lazy_greedy(similarity, distinct, budget, lam, seed=seed)
    greedy_value = objective(similarity, distinct, result.picked, lam, budget)
    assert len(result.picked) == budget
    assert greedy_value >= (1 - 1 / math.e) * brute_force_best(similarity, distinct, budget, lam) - 1e-9


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("lam", [0.0, 0.5, 5.0])
def test_lazy_greedy_picks_exactly_what_naive_greedy_picks_with_fewer_evaluations(
    seed: int, lam: float
) -> None:
    vectors = clustered(300, clusters=12, dim=32, seed=seed)
    similarity = coverage_similarity(vectors)
    distinct = np.random.default_rng(seed).uniform(0, 1, 300)
    lazy = lazy_greedy(similarity, distinct, 40, lam, seed=seed)
    naive = naive_greedy(similarity, distinct, 40, lam, seed=seed)
    assert lazy.picked == naive.picked
    assert lazy.gains == pytest.approx(naive.gains)
    assert lazy.evaluations < naive.evaluations


def test_marginal_gains_never_grow_and_sum_to_the_objective() -> None:
    vectors = clustered(200, clusters=6, dim=16, seed=3)
    similarity = coverage_similarity(vectors)
    distinct = np.random.default_rng(3).uniform(0, 1, 200)
    result = lazy_greedy(similarity, distinct, 30, 0.5, seed=0)
    assert all(later <= earlier + 1e-12 for earlier, later in itertools.pairwise(result.gains))
    assert sum(result.gains) == pytest.approx(objective(similarity, distinct, result.picked, 0.5, 30))
    assert result.coverage == pytest.approx(subset_coverage(similarity, result.picked))


def test_items_planted_as_distinctive_are_chosen_first_when_lambda_is_large() -> None:
    vectors = clustered(120, clusters=5, dim=16, seed=7)
    similarity = coverage_similarity(vectors)
    rng = np.random.default_rng(7)
    distinct = rng.uniform(0.0, 0.3, 120)
    planted = [5, 41, 77, 102]
    distinct[planted] = 1.0
    strong = lazy_greedy(similarity, distinct, 10, lam=50.0, seed=0)
    assert sorted(strong.picked[: len(planted)]) == planted
    # With lambda 0 the choice ignores distinctiveness: the planted items are not all in front.
    plain = lazy_greedy(similarity, distinct, 10, lam=0.0, seed=0)
    assert sorted(plain.picked[: len(planted)]) != planted


def test_a_pool_of_copies_yields_one_pick_and_full_coverage() -> None:
    vectors = normalise(np.tile(np.random.default_rng(1).normal(size=(1, 16)), (9, 1)))
    similarity = coverage_similarity(vectors)
    result = lazy_greedy(similarity, np.ones(9), budget=5, lam=1.0, seed=0)
    assert len(result.picked) == 1
    assert result.coverage == pytest.approx(1.0)
    assert naive_greedy(similarity, np.ones(9), budget=5, lam=1.0, seed=0).picked == result.picked


def test_groups_of_copies_yield_one_pick_per_group_never_the_same_id_twice() -> None:
    distinct_rows = np.random.default_rng(2).normal(size=(3, 16))
    vectors = normalise(np.repeat(distinct_rows, 4, axis=0))  # items 0-3, 4-7, 8-11 are copies
    similarity = coverage_similarity(vectors)
    result = lazy_greedy(similarity, np.full(12, 0.5), budget=8, lam=0.5, seed=4)
    assert len(result.picked) == len(set(result.picked)) == 3
    assert sorted(item // 4 for item in result.picked) == [0, 1, 2]
    assert result.coverage == pytest.approx(1.0)


def test_the_seed_decides_ties_and_the_same_seed_gives_the_same_subset() -> None:
    vectors = normalise(np.tile(np.random.default_rng(1).normal(size=(1, 8)), (20, 1)))
    similarity = coverage_similarity(vectors)
    firsts = {lazy_greedy(similarity, np.ones(20), 3, 0.5, seed=seed).picked[0] for seed in range(10)}
    assert len(firsts) > 1
    clustered_vectors = clustered(100, clusters=4, dim=8, seed=0)
    w = coverage_similarity(clustered_vectors)
    assert (
        lazy_greedy(w, np.ones(100), 10, 0.5, seed=3).picked
        == lazy_greedy(w, np.ones(100), 10, 0.5, seed=3).picked
    )


def test_sparse_knn_similarity_matches_dense_when_the_graph_is_complete() -> None:
    vectors = clustered(80, clusters=4, dim=8, seed=5)
    dense = coverage_similarity(vectors)
    sparse_full = coverage_similarity(vectors, neighbours=79, dense_limit=0)
    distinct = np.random.default_rng(5).uniform(0, 1, 80)
    assert lazy_greedy(sparse_full, distinct, 12, 0.5).picked == lazy_greedy(dense, distinct, 12, 0.5).picked
    sparse_knn = coverage_similarity(vectors, neighbours=5, dense_limit=0)
    assert sparse_knn.nnz <= 80 * (2 * 5 + 1)
    assert len(lazy_greedy(sparse_knn, distinct, 12, 0.5).picked) == 12


@pytest.mark.parametrize(
    ("budget", "lam", "message"), [(0, 0.5, "budget must be >= 1"), (3, -0.1, "lambda must be >= 0")]
)
def test_bad_arguments_are_refused(budget: int, lam: float, message: str) -> None:
    similarity = coverage_similarity(clustered(10, clusters=2, dim=4, seed=0))
    with pytest.raises(ValueError, match=message):
        lazy_greedy(similarity, np.ones(10), budget, lam)
