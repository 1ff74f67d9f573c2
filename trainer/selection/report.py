"""The selection report: RUN/selection/report.md, one PNG per culture, and a rich summary table."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from trainer.selection.metrics import LOWER_IS_BETTER, METRICS, Comparison

METRIC_TITLES = {
    "coverage": "coverage F(S)",
    "redundancy": "redundancy (mean max cos)",
    "distinctiveness": "distinctiveness (mean d)",
    "modes_hit": "modes hit (kNN communities)",
}

FORMULAS = """\
Notation: culture c's pool P of n kept episodes, unit embeddings x_i, cosine s_ij,
w_ij = max(0, s_ij) (w_ii = 1; pools over 6000 items keep w on the 30-nearest-neighbour graph).

- **Representativeness** r_i = (1/n) sum_j w_ij: the facility-location coverage of the pool by i alone
  (its density in c's pool).
- **Distinctiveness** d_i = P(c | x_i) under a class-balanced, similarity-weighted kNN classifier over
  every culture's kept episodes: v_c'(i) = (1/n_c') sum over i's k nearest neighbours j of culture c'
  of max(0, s_ij); d_i = v_c(i) / sum_c' v_c'(i). 1 = only c is near; 1/C = shared evenly by C cultures.
- **Selection** maximises G(S) = F(S) + lambda * (1/k) sum_{j in S} d_j with
  F(S) = (1/n) sum_i max_{j in S} w_ij (facility location), |S| <= k, by lazy greedy (monotone
  submodular: at least (1 - 1/e) of the optimum). Exact copies of a pick add nothing and are never picked.
- **Redundancy** of S: mean over i in S of max_{j in S, j != i} s_ij (lower is better).
- **Modes hit**: share of the pool's Louvain communities (networkx kNN graph) that S touches.
"""


def plot_file_name(culture: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", culture) + ".png"


def plot_comparison(
    path: Path, culture: str, comparison: Comparison, vectors: np.ndarray, subset: list[int]
) -> None:
    """Histograms of the random subsets' metrics with the selection marked, and a PCA map of the pool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 4, figsize=(18, 4))
    for axis, metric in zip(axes[:3], ("coverage", "redundancy", "distinctiveness"), strict=True):
        values = comparison.random[metric]
        if len(values):
            axis.hist(values, bins=20, color="0.7", label=f"{len(values)} random subsets")
        axis.axvline(comparison.selected[metric], color="tab:red", linewidth=2, label="selected")
        better = "lower" if metric in LOWER_IS_BETTER else "higher"
        axis.set_title(f"{METRIC_TITLES[metric]} ({better} is better)", fontsize=10)
        axis.legend(fontsize=8)
    centred = vectors - vectors.mean(axis=0)
    if len(vectors) >= 2:
        _, _, components = np.linalg.svd(centred, full_matrices=False)
        points = centred @ components[:2].T
    else:
        points = np.zeros((len(vectors), 2))
    axes[3].scatter(points[:, 0], points[:, 1], s=8, color="0.75", label="pool")
    axes[3].scatter(points[subset, 0], points[subset, 1], s=22, color="tab:red", label="selected")
    axes[3].set_title("pool and selection (PCA of embeddings)", fontsize=10)
    axes[3].legend(fontsize=8)
    figure.suptitle(f"culture {culture}: selected subset vs random subsets of size {len(subset)}")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def write_report(path: Path, run_dir: Path, summaries: dict[str, dict[str, Any]]) -> None:
    """report.md from every culture's stored summary (earlier `select --culture` calls included)."""
    lines = [
        "# Selection report",
        "",
        f"Run: `{run_dir}`  ",
        f"Written: {time.strftime('%Y-%m-%d %H:%M:%S')}",
        "",
        "## How the scores are computed",
        "",
        FORMULAS,
    ]
    for culture in sorted(summaries):
        summary = summaries[culture]
        settings = summary["settings"]
        lines += [
            f"## {culture}",
            "",
            f"Pool: {summary['pool']} kept episodes; selected {summary['selected']} "
            f"(budget {settings['budget']}, lambda {settings['lambda']}, embedder {settings['embedder']}, "
            f"seed {settings['seed']}); compared with {settings['random_subsets']} random subsets of the same size.",
            "",
        ]
        if summary["selected"] < settings["budget"]:
            lines += [
                f"Only {summary['selected']} items are not exact copies of a pick: the subset covers the whole pool.",
                "",
            ]
        if summary.get("single_culture"):
            lines += [
                "The run has one culture: distinctiveness is 1 for every item and does not steer the choice.",
                "",
            ]
        lines += [
            "| metric | selected | random mean ± std | selected beats |",
            "|---|---|---|---|",
        ]
        for metric in METRICS:
            row = summary["metrics"][metric]
            lines.append(
                f"| {METRIC_TITLES[metric]} | {row['selected']:.3f} | {row['random_mean']:.3f} ± {row['random_std']:.3f} "
                f"| {_percent(row['beats'])} of random |"
            )
        lines += ["", f"![{culture}]({summary['plot']})", "", "First picks:", ""]
        lines += [
            "| rank | episode | scenario | representativeness | distinctiveness |",
            "|---|---|---|---|---|",
        ]
        for pick in summary["first_picks"]:
            lines.append(
                f"| {pick['rank']} | `{pick['episode_id']}` | {pick['title']} | "
                f"{pick['representativeness']:.3f} | {pick['distinctiveness']:.3f} |"
            )
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def summary_table(summaries: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="Selection vs random subsets of the same size (selected / random mean)")
    table.add_column("culture")
    table.add_column("pool", justify="right")
    table.add_column("selected", justify="right")
    for metric in METRICS:
        table.add_column(METRIC_TITLES[metric], justify="right")
    for culture in sorted(summaries):
        summary = summaries[culture]
        cells = [
            f"{summary['metrics'][m]['selected']:.3f} / {summary['metrics'][m]['random_mean']:.3f}"
            for m in METRICS
        ]
        table.add_row(culture, str(summary["pool"]), str(summary["selected"]), *cells)
    return table


def _percent(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{100 * value:.0f}%"
