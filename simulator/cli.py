"""The `culturesim` command line.

Each wing contributes its commands from its own `commands` module (a `register(subparsers)`
function), listed in COMMAND_MODULES. Modules are imported by name so that the lowest wings never
import the higher ones, and `culturesim --help` stays fast (heavy imports happen inside handlers).

Exit codes: 0 ok, 1 failure, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from personas.files import BadInputError

COMMAND_MODULES = (
    "personas.commands",
    "scenarios.commands",
    "simulator.commands",
    "trainer.commands",
    "evaluation.commands",
)

Handler = Callable[[argparse.Namespace], int | None]


class UsageError(BadInputError):
    """A bad command-line argument (exit code 2), e.g. an unknown culture name."""

    def __init__(self, reason: str):
        super().__init__("command line", reason)


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    summary: str,
    example: str,
    handler: Handler,
) -> argparse.ArgumentParser:
    """A sub-command whose --help ends with a runnable example."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def add_group(subparsers: argparse._SubParsersAction, name: str, summary: str) -> argparse._SubParsersAction:
    """A command with sub-commands of its own (`culturesim scenarios list`)."""
    parser = subparsers.add_parser(name, help=summary, description=summary)
    parser.set_defaults(handler=lambda _args: parser.print_help() or 2)
    return parser.add_subparsers(title="commands", metavar="COMMAND")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="culturesim",
        description="Simulate culture-adapted role-play, judge it, select a subset, fine-tune and evaluate.",
        epilog="example:\n  culturesim pipeline examples/quickstart.yaml --out runs/quickstart",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a wing without commands yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        code = handler(args)
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not a failure
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted: everything finished so far is saved", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; the traceback with --debug
        if args.debug or os.environ.get("CULTURESIM_DEBUG"):
            raise
        print(f"failed: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
