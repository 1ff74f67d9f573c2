"""The pipeline's closing summary, read back from what the stages left in the run directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from simulator.store import RunStore


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def collect_summary(run_dir: Path, name: str, stages: dict[str, dict[str, Any]]) -> dict[str, Any]:
    with RunStore(run_dir) as store:
        judgements = list(store.judgements())
        selected = [row for row in store.selection_rows() if row["selected"]]
        summary: dict[str, Any] = {
            "name": name,
            "run_dir": str(run_dir),
            "episodes": store.count_episodes("done"),
            "failed_episodes": store.count_episodes("failed"),
            "judged": len(judgements),
            "kept": sum(j.kept for j in judgements),
            "selected": len(selected),
            "selected_per_culture": {},
            "stage_seconds": {stage: info.get("seconds") for stage, info in stages.items()},
        }
        for row in selected:
            per_culture = summary["selected_per_culture"]
            per_culture[row["culture"]] = per_culture.get(row["culture"], 0) + 1
    manifest = _read_json(run_dir / "adapter" / "training_manifest.json")
    if manifest:
        summary["training"] = {
            "culture": manifest.get("culture"),
            "tasks": manifest.get("tasks"),
            **manifest["results"],
        }
    report = _read_json(run_dir / "evaluation" / "report.json")
    if report:
        summary["evaluation"] = {
            "suite": report.get("suite"),
            "target": report.get("target"),
            "configs": {name: config["summary"] for name, config in report["configs"].items()},
        }
    return summary


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"culturesim pipeline: {summary['name']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("episodes", f"{summary['episodes']} done, {summary['failed_episodes']} failed")
    table.add_row("kept by the judge", f"{summary['kept']} of {summary['judged']}")
    per_culture = ", ".join(f"{c}: {n}" for c, n in summary["selected_per_culture"].items())
    table.add_row(
        "selected", f"{summary['selected']} ({per_culture})" if per_culture else str(summary["selected"])
    )
    if training := summary.get("training"):
        table.add_row(
            "training",
            f"{training.get('culture')} · tasks {', '.join(training.get('tasks') or [])} · "
            f"train loss {_fmt(training.get('train_loss'))} · eval loss {_fmt(training.get('eval_loss'))} · "
            f"{_fmt(training.get('tokens_per_second'))} tokens/s",
        )
    console.print(table)
    if evaluation := summary.get("evaluation"):
        configs = evaluation["configs"]
        metrics = list(dict.fromkeys(k for c in configs.values() for k in c))
        scores = Table(title=f"evaluation ({evaluation['suite']}, {evaluation.get('target')})")
        scores.add_column("model")
        for metric in metrics:
            scores.add_column(metric, justify="right")
        for config_name, values in configs.items():
            scores.add_row(config_name, *[_fmt(values.get(metric)) for metric in metrics])
        console.print(scores)
    console.print(f"summary written to {Path(summary['run_dir']) / 'summary.json'}")
