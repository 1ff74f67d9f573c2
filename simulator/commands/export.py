"""`culturesim export`: a run's episodes as JSONL, one object per episode, loadable by `datasets`.

Every row has the same shape (free-form persona fields are flattened to strings), because
`datasets.load_dataset("json", ...)` infers one Arrow schema for the whole file.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from personas.files import BadInputError
from simulator.cli import add_command
from simulator.records import Episode
from simulator.store import DB_NAME, RunStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "export",
        "Export a run's finished episodes (with judgements, if any) as JSONL for `datasets`.",
        "culturesim export runs/demo --format jsonl --out demo.jsonl --kept-only",
        handle_export,
    )
    parser.add_argument("run", type=Path, help="run directory")
    parser.add_argument("--format", choices=("jsonl",), default="jsonl", help="output format (default jsonl)")
    parser.add_argument("--out", type=Path, required=True, help="output file")
    parser.add_argument("--kept-only", action="store_true", help="only episodes the judge kept")
    parser.add_argument("--selected-only", action="store_true", help="only episodes in the selected subset")


def handle_export(args: argparse.Namespace) -> int:
    from rich.console import Console

    if not (args.run / DB_NAME).exists():
        raise BadInputError(args.run, f"not a run directory (no {DB_NAME})")
    if args.out.is_dir():
        raise BadInputError("--out", f"{args.out} is a directory, expected a file")
    with RunStore(args.run, readonly=True) as store:
        count = write_jsonl(store, args.out, kept_only=args.kept_only, selected_only=args.selected_only)
    Console(stderr=True).print(f"exported {count} episodes -> {args.out}")
    return 0


def episodes_to_export(store: RunStore, kept_only: bool, selected_only: bool) -> Iterator[Episode]:
    if selected_only:
        source = store.selected_episodes()
    elif kept_only:
        source = store.kept_episodes()
    else:
        source = store.episodes(status="done")
    kept = {j.episode_id for j in store.judgements() if j.kept} if kept_only and selected_only else None
    for episode in source:
        if kept is None or episode.id in kept:
            yield episode


def write_jsonl(store: RunStore, out: Path, kept_only: bool = False, selected_only: bool = False) -> int:
    """Stream the episodes to `out` (atomically: a temporary file renamed at the end)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}-", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for episode in episodes_to_export(store, kept_only, selected_only):
                stream.write(json.dumps(episode_row(store, episode), ensure_ascii=False) + "\n")
                count += 1
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def episode_row(store: RunStore, episode: Episode) -> dict[str, Any]:
    judgement = store.judgement(episode.id)
    return {
        "id": episode.id,
        "scenario_id": episode.scenario_id,
        "culture": episode.culture,
        "sample_index": episode.sample_index,
        "seed": episode.seed,
        "end_reason": episode.end_reason,
        "scenario": episode.scenario,
        "personas": [_flat_persona(p) for p in episode.personas],
        "turns": [
            {
                "index": t.index,
                "speaker": t.speaker,
                "speaker_name": t.speaker_name,
                "role": t.role,
                "action": t.action,
                "text": t.text,
                "intent": t.intent,
                "intent_reason": t.intent_reason,
            }
            for t in episode.turns
        ],
        "judgement": judgement.model_dump(mode="json") if judgement else None,
    }


def _flat_persona(persona: dict[str, Any]) -> dict[str, Any]:
    row = dict(persona)
    personality = row.get("personality")
    if isinstance(personality, dict):
        row["personality"] = ", ".join(f"{trait}: {level}" for trait, level in personality.items())
    row["extra"] = json.dumps(row.get("extra") or {}, ensure_ascii=False, sort_keys=True)
    return row
