"""Lazy vs naive greedy for the selector, on synthetic clustered embeddings.

Run: python benchmarks/selection_greedy.py [--items 5000] [--budget 100]
Both pick the same subset; the table shows how many gain evaluations and how much time lazy saves,
plus the time of the scores around it (similarity, distinctiveness) and of the sparse path used
for pools above the dense limit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import record_results

from trainer.selection.greedy import lazy_greedy, naive_greedy
from trainer.selection.scores import coverage_similarity, distinctiveness, normalise


def clustered(n: int, clusters: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    return normalise(centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim)))


def timed(function, *args, **kwargs):  # noqa: ANN001, ANN201 - tiny helper
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--sparse-items", type=int, default=20000)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--lam", type=float, default=0.5)
    args = parser.parse_args()

    vectors = clustered(args.items, clusters=50, dim=384, seed=0)
    cultures = np.random.default_rng(1).choice(["a", "b", "c", "d"], args.items)
    distinct, t_distinct = timed(distinctiveness, vectors, cultures)
    similarity, t_similarity = timed(coverage_similarity, vectors)
    lazy, t_lazy = timed(lazy_greedy, similarity, distinct, args.budget, args.lam)
    naive, t_naive = timed(naive_greedy, similarity, distinct, args.budget, args.lam)
    assert lazy.picked == naive.picked, "lazy and naive greedy disagree"

    big = clustered(args.sparse_items, clusters=200, dim=384, seed=2)
    big_similarity, t_big_similarity = timed(coverage_similarity, big)
    big_lazy, t_big_lazy = timed(lazy_greedy, big_similarity, np.ones(len(big)), args.budget, args.lam)

    rows = [
        {"run": f"naive greedy, dense, n={args.items}", "gain evaluations": naive.evaluations, "seconds": t_naive,
         "coverage": naive.coverage},
        {"run": f"lazy greedy, dense, n={args.items}", "gain evaluations": lazy.evaluations, "seconds": t_lazy,
         "coverage": lazy.coverage},
        {"run": f"dense similarity, n={args.items}", "seconds": t_similarity},
        {"run": f"distinctiveness (kNN, 4 cultures), n={args.items}", "seconds": t_distinct},
        {"run": f"sparse 30-NN similarity, n={args.sparse_items}", "seconds": t_big_similarity},
        {"run": f"lazy greedy, sparse, n={args.sparse_items}", "gain evaluations": big_lazy.evaluations,
         "seconds": t_big_lazy, "coverage": big_lazy.coverage},
    ]  # fmt: skip
    record_results(
        f"Selector: lazy vs naive greedy (k={args.budget}, lambda={args.lam}, 384-d synthetic clusters)",
        rows,
        notes=f"Lazy and naive greedy pick the same {len(lazy.picked)} items; lazy needs "
        f"{naive.evaluations / lazy.evaluations:.1f}x fewer gain evaluations and is "
        f"{t_naive / t_lazy:.1f}x faster. Command: `python benchmarks/selection_greedy.py`.",
    )


if __name__ == "__main__":
    main()
