"""`culturesim simulate`: plan and run role-play episodes into a run directory (or resume one)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from personas.files import BadInputError, describe_validation_error
from simulator.cli import UsageError, add_command

Observer = Callable[[Any], Awaitable[None]]  # receives the EventBus, runs while the engine runs

# CLI flag -> (config field, default). Defaults live here, not in argparse, so that a resume can tell
# which options the user actually gave.
DEFAULTS: dict[str, Any] = {
    "cultures": None,  # all known cultures
    "scenarios": ["all"],
    "samples": 1,
    "limit": None,
    "seed": 0,
    "max_turns": 6,
    "temperature": 0.7,
    "top_p": 0.95,
    "max_new_tokens": 48,
    "action_choice": "scored",
    "backend": "transformers",
    "model": None,
    "concurrency": 32,
    "max_batch_size": None,
    "max_wait_ms": 10.0,
    "cache": None,
}
BACKEND_FLAGS = ("dtype", "base_url", "adapter", "threads")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "simulate",
        "Run culture-adapted role-play episodes with persona agents into a run directory.",
        "culturesim simulate --cultures british,japanese --scenarios all --samples 2 "
        "--concurrency 32 --max-turns 6 --out runs/demo\n"
        "  culturesim simulate --resume --out runs/demo",
        handle_simulate,
    )
    add = parser.add_argument
    add("--out", type=Path, required=True, help="run directory (created; holds manifest.json and run.sqlite)")
    add(
        "--resume",
        action="store_true",
        help="continue the run in --out with the configuration of its manifest",
    )
    add("--cultures", type=_csv, help="culture ids, comma-separated (default: every known culture)")
    add(
        "--scenarios", type=_csv, help="'all' (default) or scenario ids; a base id is adapted to each culture"
    )
    add("--samples", type=int, help="episodes per scenario, each with its own cast (default 1)")
    add("--limit", type=int, help="cap the number of planned episodes")
    add("--seed", type=int, help="run seed (default 0)")
    add("--max-turns", type=int, help="single turns per episode (default 6)")
    add("--temperature", type=float, help="sampling temperature; 0 is greedy (default 0.7)")
    add("--top-p", type=float, help="nucleus sampling (default 0.95)")
    add("--max-new-tokens", type=int, help="token limit per turn (default 48)")
    add(
        "--action-choice",
        choices=("scored", "parsed"),
        help="scored (default): once everyone has spoken, the model first picks talk/gesture/leave by option "
        "probabilities (1.2-1.4x the cost per turn on CPU); parsed: the action is read from the reply",
    )
    add("--backend", help="transformers (default), vllm or openai")
    add("--model", help="model name or path (default: the embedded SmolLM2-135M-Instruct)")
    add("--dtype", help="transformers/vllm dtype: auto, bfloat16, float32")
    add("--base-url", help="openai backend: server URL, e.g. http://127.0.0.1:8000/v1")
    add("--adapter", help="LoRA adapter directory")
    add("--threads", type=int, help="transformers on CPU: torch threads (default: the idle cores)")
    add("--concurrency", type=int, help="episodes played at the same time (default 32)")
    add("--max-batch-size", type=int, help="requests per batched model call (default: the backend's)")
    add(
        "--max-wait-ms",
        type=float,
        help="wait for a batch to fill (default 10; after slow batches up to a twentieth of their time)",
    )
    add(
        "--cache",
        nargs="?",
        const="run",
        help="reuse model responses across runs: RUN/cache.sqlite, or the file given",
    )
    add("--live", action="store_true", help="show the live conversation view instead of the progress bar")


def _csv(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def build_config(args: argparse.Namespace) -> Any:
    """The run's configuration: from the flags, or from the manifest on --resume."""
    from simulator.manifest import RUNTIME_OPTIONS, SimulationConfig, read_manifest

    given = {name: getattr(args, name) for name in DEFAULTS if getattr(args, name) is not None}
    backend_options = {name: getattr(args, name) for name in BACKEND_FLAGS if getattr(args, name) is not None}
    if args.resume:
        config = read_manifest(args.out).config
        changed = sorted(n for n, v in given.items() if n not in RUNTIME_OPTIONS and getattr(config, n) != v)
        if changed or backend_options:
            flags = ", ".join("--" + n.replace("_", "-") for n in [*changed, *backend_options])
            raise UsageError(f"--resume continues the run as its manifest describes; drop {flags}")
        values = config.model_dump() | {n: v for n, v in given.items() if n in RUNTIME_OPTIONS}
    else:
        values = DEFAULTS | given | {"backend_options": backend_options}
        if values["cultures"] is None:
            from personas.cultures import culture_ids

            values["cultures"] = culture_ids()
    if values.get("cache"):  # absolute, so a resume from another directory finds it
        cache = args.out / "cache.sqlite" if values["cache"] == "run" else Path(values["cache"])
        values["cache"] = str(cache.resolve())
    try:
        return SimulationConfig.model_validate(values)
    except ValidationError as exc:
        field, reason = describe_validation_error(exc)
        flag = "--" + field.split(".")[0].replace("_", "-")
        raise BadInputError(flag, reason) from None


def handle_simulate(args: argparse.Namespace) -> int:
    from simulator.manifest import manifest_path

    if not args.resume and manifest_path(args.out).exists():
        raise UsageError(f"{args.out} already holds a run; continue it with --resume or choose another --out")
    config = build_config(args)
    return asyncio.run(simulate(config, args.out, resume=args.resume, live=args.live))


async def simulate(config: Any, out: Path, resume: bool = False, live: bool = False) -> int:
    """Plan, load the backend, write the manifest, run; returns the exit code."""
    from rich.console import Console

    from simulator.backends.registry import create_backend
    from simulator.engine import Engine
    from simulator.events import EventBus
    from simulator.manifest import new_manifest, read_manifest, write_manifest
    from simulator.planning import plan_run
    from simulator.store import RunStore

    console = Console(stderr=True)
    planned = _checked_plan(plan_run(config))
    backend = create_backend(config.backend, config.model, **config.backend_options)
    if config.cache:
        from simulator.response_cache import CachingBackend, ResponseCache

        backend = CachingBackend(backend, ResponseCache(config.cache))
    if resume:
        manifest = read_manifest(out)
        manifest.config = config
        manifest.resumed_at.append(manifest.updated_at)
    else:
        manifest = new_manifest(config, backend.describe())
    store = RunStore(out)
    try:
        _check_resumed_plan(store, planned, resume)
        write_manifest(out, manifest)
        bus = EventBus()
        engine = Engine(config, backend, store, bus, run_name=out.name)
        observer = _live_observer() if live else _progress_observer(console)
        # `culturesim watch` in another process follows the run while this says "running".
        store.set_value("planned", len(planned))
        store.set_value("status", "running")
        try:
            summary = await _run_with_view(engine, planned, bus, observer)
        finally:
            store.set_value("status", "stopped")
    finally:
        store.close()
        await backend.aclose()
    _print_summary(console, summary, out)
    return 1 if summary.failed else 0


def _checked_plan(planned: list[Any]) -> list[Any]:
    if not planned:
        raise UsageError("nothing to simulate: the chosen cultures and scenarios give no episodes")
    return planned


def _check_resumed_plan(store: Any, planned: list[Any], resume: bool) -> None:
    """The first run records its plan; a resume must find the same one (libraries may have changed)."""
    ids = sorted(p.plan.id for p in planned)
    recorded = store.get_value("planned_episode_ids")
    if recorded is None:
        store.set_value("planned_episode_ids", ids)
    elif resume and recorded != ids:
        missing = len(set(recorded) - set(ids))
        raise UsageError(
            f"the scenario or persona library changed since this run started: {missing} of its "
            f"{len(recorded)} planned episodes can no longer be planned; start a new run"
        )


async def _run_with_view(engine: Any, planned: list[Any], bus: Any, observer: Observer) -> Any:
    view = asyncio.create_task(observer(bus))
    await asyncio.sleep(0)  # let the view subscribe before the first event
    try:
        return await engine.run(planned)
    finally:
        await asyncio.sleep(0.05)  # let the view draw RunFinished
        view.cancel()
        await asyncio.gather(view, return_exceptions=True)


def _live_observer() -> Observer:
    from simulator.tui.live import show_events
    from simulator.tui.state import RunState

    return lambda bus: show_events(bus, RunState())


def _progress_observer(console: Any) -> Observer:
    from simulator.progress import show_progress

    return lambda bus: show_progress(bus, console)


def _print_summary(console: Any, summary: Any, out: Path) -> None:
    console.print(
        f"{summary.done} episodes done, {summary.failed} failed, {summary.already_done} already done "
        f"(of {summary.planned} planned) in {summary.elapsed_s:.1f} s: {summary.turns} turns, "
        f"{summary.turns_per_s:.2f} turns/s, {summary.tokens_per_s:.1f} tokens/s -> {out}"
    )
    if summary.failed:
        console.print(
            f"[red]{summary.failed} episodes failed[/red]; `culturesim simulate --resume --out {out}` retries them"
        )
