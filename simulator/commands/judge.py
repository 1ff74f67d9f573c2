"""`culturesim judge RUN`: verdicts, filter and per-turn intents for a run's finished episodes."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from simulator.cli import UsageError, add_command

EXAMPLE = "culturesim judge runs/demo --concurrency 16 --require-alignment"
RULE_KEY = "judge_rule"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "judge",
        "Judge a run's episodes (quality, cultural alignment, meta-review), filter them and label "
        "every turn's intent. Resumable: episodes already judged are skipped.",
        EXAMPLE,
        run_judge,
    )
    parser.add_argument("run", type=Path, help="run directory written by `culturesim simulate`")
    parser.add_argument(
        "--backend",
        default="transformers",
        help="transformers (default), vllm or openai; any model can judge",
    )
    parser.add_argument(
        "--model", help="judge model: HF id or path, or the server's model name (default: embedded)"
    )
    parser.add_argument("--base-url", help="OpenAI-compatible server URL (backend openai)")
    parser.add_argument("--adapter", help="LoRA adapter directory (backends transformers and vllm)")
    parser.add_argument(
        "--dtype", choices=("auto", "bfloat16", "float32"), help="transformers/vllm dtype (default auto)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="episodes judged at once (default 16)")
    parser.add_argument(
        "--confidence-threshold",
        type=float,
        default=0.8,
        help="probability from which a 'bad' verdict counts as high confidence (default 0.8: 'very confident')",
    )
    parser.add_argument(
        "--require-alignment",
        action="store_true",
        help="keep only episodes also judged aligned with their culture",
    )
    parser.add_argument("--intent-words", type=int, default=25, help="longest intent, in words (default 25)")
    parser.add_argument(
        "--reason-words",
        type=int,
        default=30,
        help="longest reason given for an intent, in words (default 30)",
    )
    parser.add_argument(
        "--critique-words", type=int, default=40, help="longest critique, in words (default 40)"
    )
    parser.add_argument("--no-intents", action="store_true", help="verdicts only, no per-turn intents")
    parser.add_argument(
        "--no-calibration",
        action="store_true",
        help="use the raw option probabilities (default: divide out the model's content-free prior)",
    )
    parser.add_argument("--limit", type=int, help="judge at most N of the pending episodes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled retries (default 0)")


def _check_args(args: argparse.Namespace) -> None:
    from simulator.backends.registry import BACKEND_KINDS
    from simulator.store import DB_NAME

    if not (args.run / DB_NAME).exists():
        raise UsageError(
            f"'{args.run}' is not a run directory (no {DB_NAME}); run `culturesim simulate` first"
        )
    if args.backend not in BACKEND_KINDS:
        raise UsageError(f"unknown backend '{args.backend}' (choose from {', '.join(BACKEND_KINDS)})")
    if args.base_url and args.backend != "openai":
        raise UsageError("--base-url needs --backend openai")
    if args.backend == "openai" and (args.adapter or args.dtype):
        raise UsageError("--adapter and --dtype work with --backend transformers or vllm, not openai")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if not 0.0 <= args.confidence_threshold <= 1.0:
        raise UsageError("--confidence-threshold must be between 0 and 1")
    for flag in ("intent_words", "reason_words", "critique_words"):
        if not 3 <= getattr(args, flag) <= 100:
            raise UsageError(f"--{flag.replace('_', '-')} must be between 3 and 100")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")


def run_judge(args: argparse.Namespace) -> int:
    _check_args(args)
    from simulator.judge.agent import JudgeSettings
    from simulator.judge.filter import FilterRule
    from simulator.judge.intents import IntentSettings
    from simulator.store import RunStore

    rule = FilterRule(args.confidence_threshold, args.require_alignment)
    settings = JudgeSettings(
        rule=rule,
        intents=IntentSettings(
            max_words=args.intent_words, reason_max_words=args.reason_words, seed=args.seed
        ),
        critique_max_words=args.critique_words,
        with_intents=not args.no_intents,
        calibrate=not args.no_calibration,
    )
    with RunStore(args.run) as store:
        progress, summary = asyncio.run(_judge(args, store, settings))
    print_summary(summary, progress)
    return 1 if progress.failed else 0


def _backend_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.base_url:
        options["base_url"] = args.base_url
    if args.adapter:
        options["adapter"] = args.adapter
    if args.dtype:
        options["dtype"] = args.dtype
    if args.backend == "openai":
        options["max_concurrency"] = args.concurrency
    return options


async def _judge(args: argparse.Namespace, store: Any, settings: Any) -> tuple[Any, dict[str, Any]]:
    from rich.progress import TextColumn

    from simulator.backends.registry import create_backend
    from simulator.batcher import RequestBatcher
    from simulator.judge.runner import apply_rule, judge_episodes, pending_episodes, store_summary
    from simulator.progress import progress_bar

    # A changed filter applies to the verdicts already stored; no model call is needed for that.
    if store.get_value(RULE_KEY) != settings.rule.describe():
        await asyncio.to_thread(apply_rule, store, settings.rule)
        store.set_value(RULE_KEY, settings.rule.describe())
    if not await asyncio.to_thread(pending_episodes, store, args.limit):
        from simulator.judge.runner import JudgeProgress

        return JudgeProgress(total=0), await asyncio.to_thread(store_summary, store, settings.rule)

    backend = await asyncio.to_thread(create_backend, args.backend, args.model, **_backend_options(args))
    batcher = RequestBatcher(backend)
    try:
        with progress_bar(TextColumn("kept {task.fields[kept]}  failed {task.fields[failed]}")) as bar:
            task = bar.add_task("judging", total=None, kept=0, failed=0)

            def on_progress(p: Any) -> None:
                bar.update(task, total=p.total, completed=p.judged + p.failed, kept=p.kept, failed=p.failed)

            progress = await judge_episodes(
                store,
                batcher,
                backend.model_id,
                settings,
                concurrency=args.concurrency,
                limit=args.limit,
                on_progress=on_progress,
            )
    finally:
        await batcher.aclose()
        await backend.aclose()
    return progress, await asyncio.to_thread(store_summary, store, settings.rule)


def print_summary(summary: dict[str, Any], progress: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    judged = summary["judged"]
    console.print(
        f"judged {progress.judged} now, {judged} of {summary['episodes_done']} finished episodes in all: "
        f"[green]kept {summary['kept']}[/] / [red]dropped {summary['dropped']}[/]  ({summary['rule']})"
    )
    table = Table(title="verdicts")
    table.add_column("verdict")
    table.add_column("labels")
    table.add_column("mean confidence", justify="right")
    table.add_column("confidence bands")
    for name in ("quality", "alignment", "meta_review"):
        labels = ", ".join(f"{label}: {n}" for label, n in sorted(summary["verdicts"][name].items()))
        bands = ", ".join(f"{band}: {n}" for band, n in sorted(summary["confidence_bands"][name].items()))
        mean = summary["mean_confidence"][name]
        table.add_row(
            name.replace("_", "-"), labels or "-", f"{mean:.3f}" if mean is not None else "-", bands or "-"
        )
    console.print(table)
    console.print(f"intents: {summary['intents']} turns labelled, {summary['intent_fallbacks']} fallback")
    if progress.judged:
        calls = ", ".join(
            f"{lane}: {requests} requests in {batches} batches"
            for lane, (batches, requests) in progress.batches.items()
        )
        console.print(
            f"this session: {progress.judged} episodes in {progress.elapsed_s:.1f} s "
            f"({progress.judged / max(progress.elapsed_s, 1e-9):.2f} episodes/s); model calls: {calls}"
        )
    if progress.failed:
        print(f"{progress.failed} episodes failed and stay unjudged (rerun to retry):", file=sys.stderr)
        for error in progress.errors:
            print(f"  {error}", file=sys.stderr)
