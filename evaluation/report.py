"""Reports of a suite run: report.json (every distribution and metric), report.md, PNG plots."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

QUESTION_COLUMN_WIDTH = 70
MAX_DISTRIBUTION_PANELS = 12

# "On a scale of 1 to 4, 1 meaning 'X' and 4 meaning 'Y', how ..." -> "how ..." in narrow table columns.
SCALE_PREAMBLE = re.compile(
    r"^On a scale of \d+ to \d+, \d+ meaning '[^']*' and \d+ meaning '[^']*',\s*", re.I
)

SUMMARY_LABELS = {
    "mean_kl": "mean KL (nats)",
    "mean_jsd": "mean JSD",
    "individual_accuracy": "individual accuracy",
    "top_match_rate": "top-option match",
    "questions": "questions",
    "items": "items",
    "respondents": "respondents",
}


def write_reports(out_dir: Path, results: dict[str, Any]) -> dict[str, Path]:
    """Write JSON, markdown and plots; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md"}
    paths["json"].write_text(json.dumps(_finite(results), indent=2, ensure_ascii=False), encoding="utf-8")
    paths |= write_plots(out_dir / "plots", results)
    paths["markdown"].write_text(
        markdown(results, {k: p.relative_to(out_dir) for k, p in paths.items()}), encoding="utf-8"
    )
    return paths


def summarise(results: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """What the Python API returns: where the report is, and the summary metrics per configuration."""
    return {
        "suite": results["suite"],
        "out": str(out_dir),
        "report": str(out_dir / "report.md"),
        "configs": {name: config["summary"] for name, config in results["configs"].items()},
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: undefined metrics (e.g. accuracy with no answers) become null."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(cell.replace("|", "/").replace("\n", " ") for cell in row) + " |" for row in rows
    ]
    return lines


def markdown(results: dict[str, Any], files: dict[str, Path]) -> str:
    configs = results["configs"]
    lines = [f"# {results['title']}", ""]
    for key, value in results.get("data", {}).items():
        lines.append(f"- {key.replace('_', ' ')}: {value}")
    if results.get("reference_note"):
        lines.append(f"- {results['reference_note']}")
    lines += ["", "## Summary", ""]
    keys = list(dict.fromkeys(k for c in configs.values() for k in c["summary"]))
    header = ["configuration", "model"] + [SUMMARY_LABELS.get(k, k) for k in keys]
    rows = [
        [name, _model_label(config)] + [_fmt(config["summary"].get(k, math.nan)) for k in keys]
        for name, config in configs.items()
    ]
    lines += _table(header, rows)
    for metric, title in (
        ("jsd", "Jensen-Shannon distance"),
        ("kl", "KL(survey || model), nats"),
        ("accuracy", "accuracy"),
    ):
        table = _per_item_table(configs, metric)
        if table:
            lines += ["", f"## Per question: {title}", "", *table]
    lines += ["", "## Metrics", ""] + [f"- {note}" for note in results.get("metric_notes", [])]
    plots = [(name, path) for name, path in files.items() if str(path).endswith(".png")]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{name}]({path.as_posix()})" for name, path in plots]
    lines += ["", f"Every distribution and metric per question: `{files.get('json', 'report.json')}`.", ""]
    return "\n".join(lines)


def _model_label(config: dict[str, Any]) -> str:
    model = config.get("model", {}).get("model", "?")
    extras = [f"adapter {config['adapter']}"] if config.get("adapter") else []
    extras += ["culture persona prompt"] if config.get("persona") else []
    return f"{model} ({', '.join(extras)})" if extras else str(model)


def _per_item_table(configs: dict[str, Any], metric: str) -> list[str]:
    by_item: dict[str, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    for name, config in configs.items():
        for item in config["items"]:
            if metric in item:
                by_item.setdefault(item["id"], {})[name] = item[metric]
                texts[item["id"]] = item["text"]
    if not by_item:
        return []
    rows = []
    for item_id, values in by_item.items():
        stripped = SCALE_PREAMBLE.sub("", texts[item_id])
        text = stripped if len(stripped) >= 40 else texts[item_id]  # keep the scale when it is the question
        short = text if len(text) <= QUESTION_COLUMN_WIDTH else text[: QUESTION_COLUMN_WIDTH - 1] + "…"
        rows.append([item_id, short] + [_fmt(float(values[n])) if n in values else "-" for n in configs])
    return _table(["id", "question", *configs], rows)


def write_plots(plot_dir: Path, results: dict[str, Any]) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    plot_dir.mkdir(parents=True, exist_ok=True)
    configs = results["configs"]
    paths: dict[str, Path] = {}
    item_ids = list(dict.fromkeys(item["id"] for c in configs.values() for item in c["items"]))
    if not item_ids:
        return paths
    paths["jsd_per_question"] = _grouped_bars(
        plt,
        plot_dir / "jsd_per_question.png",
        configs,
        item_ids,
        "jsd",
        "Jensen-Shannon distance (lower is better)",
    )
    if any("accuracy" in item for c in configs.values() for item in c["items"]):
        paths["accuracy"] = _grouped_bars(
            plt,
            plot_dir / "accuracy.png",
            configs,
            item_ids,
            "accuracy",
            "share of respondents matched (higher is better)",
        )
    paths["summary"] = _summary_bars(plt, plot_dir / "summary.png", configs)
    paths["distributions"] = _distributions(plt, plot_dir / "distributions.png", configs, item_ids)
    return paths


def _grouped_bars(plt: Any, path: Path, configs: dict, item_ids: list[str], metric: str, ylabel: str) -> Path:
    width = 0.8 / max(len(configs), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.3 * len(item_ids) * len(configs) + 2), 4))
    for offset, (name, config) in enumerate(configs.items()):
        values = {item["id"]: item.get(metric, math.nan) for item in config["items"]}
        xs = [i + offset * width for i in range(len(item_ids))]
        ax.bar(xs, [float(values.get(i, math.nan)) for i in item_ids], width=width, label=name)
    ax.set_xticks(
        [i + width * (len(configs) - 1) / 2 for i in range(len(item_ids))], item_ids, rotation=60, fontsize=7
    )
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _summary_bars(plt: Any, path: Path, configs: dict) -> Path:
    keys = [
        k
        for k in ("mean_jsd", "individual_accuracy", "top_match_rate")
        if any(k in c["summary"] for c in configs.values())
    ]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.5 * len(keys), 3.5), squeeze=False)
    for ax, key in zip(axes[0], keys):
        values = [c["summary"].get(key, math.nan) for c in configs.values()]
        ax.bar(list(configs), [math.nan if v is None else v for v in values], color="tab:blue")
        ax.set_title(SUMMARY_LABELS[key])
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _distributions(plt: Any, path: Path, configs: dict, item_ids: list[str]) -> Path:
    shown = item_ids[:MAX_DISTRIBUTION_PANELS]
    columns = min(4, len(shown))
    rows = math.ceil(len(shown) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    items = {name: {item["id"]: item for item in config["items"]} for name, config in configs.items()}
    for ax, item_id in zip(axes.flat, shown):
        first = next(by_id[item_id] for by_id in items.values() if item_id in by_id)
        series = [("survey", first["reference"])] + [
            (n, by_id[item_id]["model"]) for n, by_id in items.items() if item_id in by_id
        ]
        width = 0.8 / len(series)
        for offset, (name, distribution) in enumerate(series):
            ax.bar(
                [i + offset * width for i in range(len(distribution))], distribution, width=width, label=name
            )
        ax.set_xticks(
            [i + 0.4 - width / 2 for i in range(len(first["options"]))], first["options"], fontsize=7
        )
        ax.set_title(item_id, fontsize=9)
        ax.set_ylim(0, 1)
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
