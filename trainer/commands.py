"""The trainer wing's commands: `select` (and `train`, registered next to it)."""

from __future__ import annotations

import argparse

from simulator.cli import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    from trainer.train_command import register_train

    _register_select(subparsers)
    register_train(subparsers)


def _register_select(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "select",
        "Choose a representative and distinctive subset of each culture's kept episodes (CAReDiO).",
        "culturesim select runs/demo --budget 100 --lambda 0.5 --culture japanese",
        _run_select,
    )
    parser.add_argument("run_dir", metavar="RUN", help="run directory (simulated and judged)")
    parser.add_argument(
        "--budget",
        type=int,
        metavar="K",
        default=None,
        help="episodes to select per culture (default 100, capped at the pool size when not given)",
    )
    parser.add_argument(
        "--lambda",
        dest="lam",
        type=float,
        metavar="LAMBDA",
        default=0.5,
        help="weight of distinctiveness against coverage in the objective (>= 0, default 0.5)",
    )
    parser.add_argument(
        "--culture",
        dest="cultures",
        action="append",
        metavar="CULTURE",
        help="culture to select for (repeatable; default: every culture with kept episodes)",
    )
    parser.add_argument(
        "--embedder",
        choices=("minilm", "backend"),
        default="minilm",
        help="minilm: all-MiniLM-L6-v2 sentence embeddings; backend: the embedded model's hidden states",
    )
    parser.add_argument("--seed", type=int, default=0, help="tie-breaking, communities and random baselines")
    parser.add_argument(
        "--allow-smaller",
        action="store_true",
        help="take a culture's whole pool when it is smaller than --budget instead of failing",
    )
    parser.add_argument(
        "--random-subsets",
        type=int,
        metavar="N",
        default=200,
        help="random subsets of the same size to compare the selection with (default 200)",
    )
    parser.add_argument(
        "--neighbours",
        type=int,
        default=10,
        metavar="K",
        help="k of the k-nearest-neighbour graphs (default 10)",
    )


def _run_select(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from trainer.selection import SelectionSettings, select_run
    from trainer.selection.report import summary_table

    settings = SelectionSettings(
        budget=args.budget,
        lam=args.lam,
        cultures=args.cultures,
        embedder=args.embedder,
        seed=args.seed,
        allow_smaller=args.allow_smaller,
        random_subsets=args.random_subsets,
        neighbours=args.neighbours,
    )
    console = Console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, advance: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.advance(tasks[stage], advance)

        summaries = select_run(args.run_dir, settings, on_progress)
    wanted = settings.cultures or sorted(summaries)
    console.print(summary_table({culture: summaries[culture] for culture in wanted if culture in summaries}))
    for culture in wanted:
        summary = summaries[culture]
        if summary["selected"] < summary["settings"]["budget"]:
            console.print(
                f"[yellow]{culture}: only {summary['selected']} distinct episodes (the rest are copies of picks)"
            )
        elif args.budget is None and summary["pool"] < 100:
            console.print(
                f"[yellow]{culture}: pool of {summary['pool']} is below the default budget 100; took it all"
            )
    console.print(f"report: {args.run_dir}/selection/report.md", soft_wrap=True)
    return 0
