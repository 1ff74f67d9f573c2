"""`culturesim watch RUN`: follow a working run from its store, or replay a finished one."""

from __future__ import annotations

import argparse
from pathlib import Path

from personas.files import BadInputError
from simulator.cli import add_command
from simulator.store import DB_NAME


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "watch",
        "Watch a run's conversations live (another process is simulating) or replay a finished run.",
        "culturesim watch runs/demo --speed 4 --culture japanese",
        handle_watch,
    )
    parser.add_argument("run", type=Path, help="run directory")
    parser.add_argument("--speed", type=float, default=1.0, help="replay speed (turns per second; default 1)")
    parser.add_argument("--episode", help="follow one conversation full screen")
    parser.add_argument("--culture", help="show only this culture's conversations")
    parser.add_argument(
        "--no-follow",
        action="store_true",
        help="stop after what is stored now, even if the run is still working",
    )


def handle_watch(args: argparse.Namespace) -> int:
    from simulator.tui.live import watch_store

    if not (args.run / DB_NAME).exists():
        raise BadInputError(
            args.run, f"not a run directory (no {DB_NAME}); start one with `culturesim simulate`"
        )
    if args.speed <= 0:
        raise BadInputError("--speed", "must be greater than 0")
    shown = watch_store(args.run, args.speed, args.episode, args.culture, follow=not args.no_follow)
    if args.episode and shown == 0:
        raise BadInputError("--episode", f"no episode '{args.episode}' in {args.run}")
    return 0
