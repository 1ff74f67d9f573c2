"""How good a subset is, and how it compares with random subsets of the same size.

- coverage: F(S), the facility-location value (1 = every pool item has an exact copy in S);
- redundancy: mean over i in S of max_{j in S, j != i} cos(x_i, x_j) (lower is better);
- distinctiveness: mean d_j over S;
- modes hit: the share of the pool's communities that S touches. Communities are found by Louvain
  on a networkx k-nearest-neighbour graph of the pool (edges weighted by cosine similarity), so it
  counts the distinct kinds of conversation covered, independently of the objective optimised.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from trainer.selection.greedy import subset_coverage
from trainer.selection.scores import Similarity, nearest_neighbours

METRICS = ("coverage", "redundancy", "distinctiveness", "modes_hit")
LOWER_IS_BETTER = {"redundancy"}


def knn_graph(vectors: np.ndarray, neighbours: int = 10) -> nx.Graph:
    """Undirected kNN graph: an edge where either item is among the other's k most similar."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(vectors)))
    indices, sims = nearest_neighbours(vectors, vectors, neighbours, exclude_self=True)
    graph.add_weighted_edges_from(
        (i, int(j), float(max(s, 0.0)))
        for i, (row, row_sims) in enumerate(zip(indices, sims, strict=True))
        for j, s in zip(row, row_sims, strict=True)
    )
    return graph


def community_labels(vectors: np.ndarray, neighbours: int = 10, seed: int = 0) -> np.ndarray:
    """Community id of every pool item (Louvain on the kNN graph, seeded)."""
    labels = np.zeros(len(vectors), dtype=np.int64)
    if len(vectors) < 3:
        labels[:] = np.arange(len(vectors))
        return labels
    communities = nx.community.louvain_communities(knn_graph(vectors, neighbours), weight="weight", seed=seed)
    for label, members in enumerate(communities):
        labels[list(members)] = label
    return labels


def redundancy(vectors: np.ndarray, subset: list[int]) -> float:
    if len(subset) < 2:
        return 0.0
    sims = vectors[subset] @ vectors[subset].T
    np.fill_diagonal(sims, -np.inf)
    return float(sims.max(axis=1).mean())


@dataclass
class SubsetContext:
    """Everything about one culture's pool that the metrics need."""

    vectors: np.ndarray
    similarity: Similarity
    distinct: np.ndarray
    communities: np.ndarray

    def measure(self, subset: list[int]) -> dict[str, float]:
        n_modes = len(np.unique(self.communities))
        return {
            "coverage": subset_coverage(self.similarity, subset),
            "redundancy": redundancy(self.vectors, subset),
            "distinctiveness": float(np.mean(self.distinct[subset])) if subset else 0.0,
            "modes_hit": len(np.unique(self.communities[subset])) / n_modes if subset else 0.0,
        }


@dataclass
class Comparison:
    """The chosen subset's metrics against those of random subsets of the same size."""

    selected: dict[str, float]
    random: dict[str, np.ndarray]

    def summary(self) -> dict[str, dict[str, float]]:
        """Per metric: selected value, random mean and std, and the share of random subsets it beats (ties half)."""
        out = {}
        for metric in METRICS:
            values = self.random[metric]
            mine = self.selected[metric]
            if not len(values):
                out[metric] = {
                    "selected": mine,
                    "random_mean": float("nan"),
                    "random_std": float("nan"),
                    "beats": float("nan"),
                }
                continue
            worse = values > mine if metric in LOWER_IS_BETTER else values < mine
            out[metric] = {
                "selected": mine,
                "random_mean": float(values.mean()),
                "random_std": float(values.std()),
                # Mid-rank percentile: a tie counts half, so "as good as every random subset" reads 50%.
                "beats": float(worse.mean() + 0.5 * np.isclose(values, mine).mean()),
            }
        return out


def compare_with_random(context: SubsetContext, subset: list[int], n_random: int, seed: int) -> Comparison:
    rng = np.random.default_rng(seed)
    n = len(context.vectors)
    draws = [
        context.measure(sorted(rng.choice(n, size=len(subset), replace=False).tolist()))
        for _ in range(n_random)
    ]
    random = {metric: np.array([draw[metric] for draw in draws]) for metric in METRICS}
    return Comparison(selected=context.measure(subset), random=random)
