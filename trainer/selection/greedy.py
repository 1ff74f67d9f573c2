"""Choosing the subset: lazy greedy maximisation of coverage + lambda * distinctiveness.

    G(S) = F(S) + lambda * D(S),   F(S) = (1/n) sum_{i in P} max_{j in S} w_ij,   D(S) = (1/k) sum_{j in S} d_j

F is facility location (monotone submodular, F(P) = 1) and D is modular with d_j in [0, 1], so G is
monotone submodular and greedy reaches at least (1 - 1/e) of the best subset of size k. Both terms
lie in [0, 1], which makes lambda readable: lambda = 1 weighs "the pool fully covered" the same as
"every pick fully distinctive". Redundancy is kept down by F itself: an item adds only the part of
the pool that the subset does not cover yet.

Duplicates: an item j whose own coverage by the subset is already ~1 (max_{s in S} w_js >= 1 - 1e-5)
is a copy of a picked item in embedding space. It is dropped, never picked, so a pool of copies
yields fewer than k picks and a subset with coverage 1.

Lazy greedy (Minoux): gains only shrink as S grows, so a stale gain is an upper bound. Keep all
items in a max-heap of stale gains; pop the top, recompute its gain, and accept it if it is still
the top. Ties are broken by a seed-shuffled order, so the result is deterministic for a seed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from trainer.selection.scores import Similarity

DUPLICATE_TOLERANCE = 1e-5
GAIN_BLOCK_ROWS = 256


class Coverage:
    """The facility-location state: how well each pool item is covered by the picks so far."""

    def __init__(self, similarity: Similarity):
        self.similarity = similarity
        self.n = similarity.shape[0]
        self.cover = np.zeros(self.n, dtype=np.float32)
        self.is_sparse = sparse.issparse(similarity)

    def gain(self, j: int) -> float:
        """Uncovered similarity item j would add: sum_i max(0, w_ij - cover_i) (w is symmetric)."""
        if self.is_sparse:
            start, end = self.similarity.indptr[j], self.similarity.indptr[j + 1]
            columns = self.similarity.indices[start:end]
            return float(
                np.maximum(self.similarity.data[start:end] - self.cover[columns], 0).sum(dtype=np.float64)
            )
        return float(np.maximum(self.similarity[j] - self.cover, 0).sum(dtype=np.float64))

    def gains(self, candidates: np.ndarray) -> np.ndarray:
        """Gains of many items at once (blocked, for the first heap and for naive greedy)."""
        if self.is_sparse:
            return np.array([self.gain(int(j)) for j in candidates])
        out = np.empty(len(candidates))
        for start in range(0, len(candidates), GAIN_BLOCK_ROWS):
            rows = self.similarity[candidates[start : start + GAIN_BLOCK_ROWS]]
            out[start : start + len(rows)] = np.maximum(rows - self.cover, 0).sum(axis=1, dtype=np.float64)
        return out

    def add(self, j: int) -> None:
        if self.is_sparse:
            start, end = self.similarity.indptr[j], self.similarity.indptr[j + 1]
            columns = self.similarity.indices[start:end]
            self.cover[columns] = np.maximum(self.cover[columns], self.similarity.data[start:end])
        else:
            np.maximum(self.cover, self.similarity[j], out=self.cover)

    def is_duplicate(self, j: int) -> bool:
        return bool(self.cover[j] >= 1.0 - DUPLICATE_TOLERANCE)

    def value(self) -> float:
        return float(self.cover.sum(dtype=np.float64)) / self.n


@dataclass
class GreedyResult:
    picked: list[int] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)  # marginal gain of G at each pick
    evaluations: int = 0  # gain computations, the cost lazy greedy saves
    coverage: float = 0.0  # F of the final subset


def _check(similarity: Similarity, distinct: np.ndarray, budget: int, lam: float) -> None:
    if lam < 0:
        raise ValueError(f"lambda must be >= 0, got {lam}")
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    if similarity.shape[0] != similarity.shape[1] or similarity.shape[0] != len(distinct):
        raise ValueError("similarity must be (n, n) and distinctiveness (n,)")


def tie_break_order(n: int, seed: int) -> np.ndarray:
    """Position of every item in a seed-shuffled order: equal gains go to the lower position."""
    position = np.empty(n, dtype=np.int64)
    position[np.random.default_rng(seed).permutation(n)] = np.arange(n)
    return position


def lazy_greedy(
    similarity: Similarity, distinct: np.ndarray, budget: int, lam: float, seed: int = 0
) -> GreedyResult:
    """Pick up to `budget` items maximising G; see the module docstring."""
    _check(similarity, distinct, budget, lam)
    n = similarity.shape[0]
    budget = min(budget, n)
    coverage = Coverage(similarity)
    bonus = lam * np.asarray(distinct, dtype=np.float64) / budget
    position = tie_break_order(n, seed)
    result = GreedyResult()
    first = coverage.gains(np.arange(n)) / n + bonus
    result.evaluations = n
    # Entries (-gain, tie position, item, number of picks when the gain was computed).
    heap = [(-float(first[j]), int(position[j]), j, 0) for j in range(n)]
    heapq.heapify(heap)
    while heap and len(result.picked) < budget:
        neg_gain, pos, j, fresh_at = heapq.heappop(heap)
        if coverage.is_duplicate(j):
            continue  # a copy of a pick: covered forever, never picked
        if fresh_at == len(result.picked):
            coverage.add(j)
            result.picked.append(j)
            result.gains.append(-neg_gain)
            continue
        gain = coverage.gain(j) / n + bonus[j]
        result.evaluations += 1
        heapq.heappush(heap, (-gain, pos, j, len(result.picked)))
    result.coverage = coverage.value()
    return result


def naive_greedy(
    similarity: Similarity, distinct: np.ndarray, budget: int, lam: float, seed: int = 0
) -> GreedyResult:
    """The same choice as lazy_greedy, recomputing every gain at every step (the baseline)."""
    _check(similarity, distinct, budget, lam)
    n = similarity.shape[0]
    budget = min(budget, n)
    coverage = Coverage(similarity)
    bonus = lam * np.asarray(distinct, dtype=np.float64) / budget
    position = tie_break_order(n, seed)
    available = np.ones(n, dtype=bool)
    result = GreedyResult()
    while len(result.picked) < budget:
        available &= coverage.cover < 1.0 - DUPLICATE_TOLERANCE
        candidates = np.flatnonzero(available)
        if not len(candidates):
            break
        gains = coverage.gains(candidates) / n + bonus[candidates]
        result.evaluations += len(candidates)
        best = gains.max()
        tied = candidates[gains == best]
        j = int(tied[np.argmin(position[tied])])
        coverage.add(j)
        available[j] = False
        result.picked.append(j)
        result.gains.append(float(best))
    result.coverage = coverage.value()
    return result


def objective(
    similarity: Similarity, distinct: np.ndarray, subset: list[int], lam: float, budget: int
) -> float:
    """G(S) evaluated from scratch (for tests and reports)."""
    if not subset:
        return 0.0
    return subset_coverage(similarity, subset) + lam * float(np.sum(np.asarray(distinct)[subset])) / budget


def subset_coverage(similarity: Similarity, subset: list[int]) -> float:
    """F(S) = (1/n) sum_i max_{j in S} w_ij (memory n x |S|)."""
    if not subset:
        return 0.0
    columns = similarity[:, subset] if not sparse.issparse(similarity) else similarity[:, subset].toarray()
    return float(columns.max(axis=1).sum(dtype=np.float64)) / similarity.shape[0]
