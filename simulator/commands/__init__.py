"""The engine's commands, one module each (simulate, export, judge, watch, pipeline, ...)."""

from __future__ import annotations

import argparse
import importlib

SUBCOMMAND_MODULES = ("simulate", "export", "judge", "watch", "pipeline", "design")


def register(subparsers: argparse._SubParsersAction) -> None:
    for name in SUBCOMMAND_MODULES:
        module_name = f"{__name__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
