"""`culturesim evaluate` (WVS and opinion suites) and `culturesim survey make` (a generated survey set)."""

from __future__ import annotations

import argparse
import asyncio
import math
from pathlib import Path
from typing import Any

from personas.files import BadInputError
from simulator.cli import UsageError, add_command, add_group

EVALUATE_EXAMPLE = (
    "culturesim survey make --culture japanese --respondents 40 --out surveys/jp\n"
    "  culturesim evaluate --suite wvs --data surveys/jp --culture japanese --respondents 20 --out reports/jp\n"
    "  culturesim evaluate --suite opinions --data ../shared/data/globalopinion/eval.json --country Japan "
    "--limit 20 --out reports/jp-op"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "evaluate",
        "Compare models (base, culture persona prompt, LoRA adapter) against survey data.",
        EVALUATE_EXAMPLE,
        run_evaluate,
    )
    parser.add_argument("--suite", choices=("wvs", "opinions"), required=True, help="which survey suite")
    parser.add_argument(
        "--data", required=True, help="wvs: directory in the WorldValuesBench layout; opinions: eval.json"
    )
    parser.add_argument(
        "--out", required=True, help="report directory (results are kept there as they finish)"
    )
    parser.add_argument("--culture", help="culture id (e.g. japanese) or a culture file; required for wvs")
    parser.add_argument(
        "--country", help="opinions: country as the data spells it (default: the culture's country)"
    )
    parser.add_argument("--adapter", help="LoRA adapter directory, evaluated as configuration 'adapter'")
    parser.add_argument(
        "--configs",
        help="comma-separated: base, persona, adapter, adapter+persona (default: base,persona[,adapter])",
    )
    parser.add_argument("--backend", default="transformers", help="backend kind (default: transformers)")
    parser.add_argument("--model", help="model path or id (default: the embedded SmolLM2-135M-Instruct)")
    parser.add_argument(
        "--respondents", type=int, default=40, help="wvs: respondents sampled from the country (default 40)"
    )
    parser.add_argument("--questions", help="wvs: comma-separated value question ids (default: all)")
    parser.add_argument("--split", help="wvs: which <split>_*_qa.tsv pair to use when there are several")
    parser.add_argument("--limit", type=int, help="opinions: at most this many items of the country")
    parser.add_argument(
        "--keep-nonsubstantive", action="store_true", help="opinions: keep 'Don't know'/'No answer' options"
    )
    parser.add_argument(
        "--batch-size", type=int, help="requests per backend call (default: the backend's preference)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the respondent sample (default 0)")
    parser.add_argument(
        "--fresh", action="store_true", help="discard earlier results in --out instead of resuming"
    )

    survey = add_group(
        subparsers, "survey", "Generated survey sets, so the WVS suite runs without licensed data."
    )
    make = add_command(
        survey,
        "make",
        "Write a small synthetic survey set (WorldValuesBench layout) for a culture.",
        "culturesim survey make --culture japanese --respondents 40 --out surveys/jp",
        run_make_survey,
    )
    make.add_argument("--culture", required=True, help="culture id (e.g. japanese) or a culture file")
    make.add_argument("--respondents", type=int, default=40, help="number of respondents (default 40)")
    make.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    make.add_argument("--out", required=True, help="directory to write")


def resolve_culture(value: str):
    """A culture id from the library, or a YAML/JSON culture file."""
    from personas.schema import CultureProfile

    path = Path(value)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.is_file():
        from personas.files import load_records

        return load_records(path, CultureProfile)[0]
    try:
        from personas.cultures import load_culture
    except ModuleNotFoundError:
        raise BadInputError(
            "--culture", "the culture library is not installed; pass a culture file instead"
        ) from None
    return load_culture(value)


def run_make_survey(args: argparse.Namespace) -> int:
    from evaluation.survey_data import write_survey

    if args.respondents < 1:
        raise UsageError("--respondents must be at least 1")
    culture = resolve_culture(args.culture)
    out = write_survey(culture, args.respondents, args.out, seed=args.seed)
    print(f"wrote {args.respondents} synthetic {culture.name} respondents to {out} (WorldValuesBench layout)")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from evaluation.scoring import parse_configs

    for flag in ("respondents", "limit", "batch_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be at least 1")
    data = Path(args.data)
    if not data.exists():
        raise BadInputError(data, "not found")
    if args.adapter and not Path(args.adapter).is_dir():
        raise BadInputError("--adapter", f"adapter directory {args.adapter} not found")
    configs = parse_configs(args.configs.split(",") if args.configs else None, args.adapter)
    culture = resolve_culture(args.culture) if args.culture else None
    options: dict[str, Any] = {"configs": configs, "batch_size": args.batch_size, "fresh": args.fresh}
    if args.suite == "wvs":
        if culture is None:
            raise UsageError("--culture is required for --suite wvs (its country selects the respondents)")
        if not data.is_dir():
            raise BadInputError(data, "--suite wvs expects a directory with question_metadata.json")
        questions = [q.strip() for q in args.questions.split(",") if q.strip()] if args.questions else None
        options |= {
            "respondents": args.respondents,
            "questions": questions,
            "seed": args.seed,
            "split": args.split,
        }
    else:
        if not (args.country or culture):
            raise UsageError("--country (or --culture) is required for --suite opinions")
        options |= {"culture": culture, "limit": args.limit, "keep_nonsubstantive": args.keep_nonsubstantive}
    summary = asyncio.run(_run(args, data, culture, options))
    _print_summary(summary)
    return 0


async def _run(args: argparse.Namespace, data: Path, culture: Any, options: dict[str, Any]) -> dict[str, Any]:
    from evaluation import scoring

    factory = scoring.backend_factory(args.backend, args.model)
    sink = RichProgress()
    try:
        if args.suite == "wvs":
            from evaluation.wvs import run_wvs

            return await run_wvs(factory, data, culture, args.out, progress=sink, **options)
        from evaluation.opinions import run_opinions

        country = [args.country] if args.country else [culture.country, *culture.aliases]
        return await run_opinions(factory, data, country, args.out, progress=sink, **options)
    finally:
        sink.close()


class RichProgress:
    """The suites' progress sink as a rich progress bar on stderr, shown once scoring starts
    (so a bad-input message before that stays a single line)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        self.progress = Progress(*columns, console=Console(stderr=True))
        self.task: Any = None

    def start(self, total: int, description: str) -> None:
        self.progress.start()
        self.task = self.progress.add_task(description, total=total)

    def advance(self, amount: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, amount)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    keys = list(dict.fromkeys(k for values in summary["configs"].values() for k in values))
    table = Table(title=f"{summary['suite']} evaluation")
    table.add_column("configuration")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right")
    for name, values in summary["configs"].items():
        cells = [values.get(k) for k in keys]
        table.add_row(
            name,
            *(
                "n/a"
                if isinstance(v, float) and math.isnan(v)
                else f"{v:.3f}"
                if isinstance(v, float)
                else str(v)
                for v in cells
            ),
        )
    console = Console()
    console.print(table)
    console.print(f"report: {summary['report']}")
