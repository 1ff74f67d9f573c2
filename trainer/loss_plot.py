"""The loss curves of a training run, overall and per task, as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_losses(log_history: list[dict[str, Any]], task_names: list[str], path: Path) -> Path | None:
    """Training loss (solid) and evaluation loss (dashed, dots) per task against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, tuple[list[int], list[float]]] = {}
    for entry in log_history:
        for key, value in entry.items():
            if key == "loss" or key == "eval_loss" or key.startswith(("loss_", "eval_loss_")):
                steps, values = series.setdefault(key, ([], []))
                steps.append(int(entry["step"]))
                values.append(float(value))
    if not series:
        return None
    figure, axis = plt.subplots(figsize=(8, 4.5))
    colours = {name: f"C{i + 1}" for i, name in enumerate(task_names)}
    for key, (steps, values) in sorted(series.items()):
        is_eval = key.startswith("eval_")
        task = key.removeprefix("eval_").removeprefix("loss").removeprefix("_")
        label = f"{'eval' if is_eval else 'train'} {task or 'all tasks'}"
        axis.plot(
            steps,
            values,
            linestyle="--" if is_eval else "-",
            marker="o" if is_eval or len(steps) == 1 else None,
            color=colours.get(task, "black"),
            linewidth=2 if not task else 1.2,
            label=label,
        )
    axis.set_xlabel("optimiser step")
    axis.set_ylabel("loss (mean over target tokens)")
    axis.set_title("LoRA training loss per task")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
