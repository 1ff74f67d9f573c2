"""`culturesim scenarios generate`, `culturesim personas generate` and `scenarios adapt --method llm`.

These commands need a model backend, so they live in the simulator wing and attach themselves to
the `scenarios` and `personas` command groups that the lower wings created (simulator.cli
registers the wings in order, so the groups exist by the time this module runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from simulator.cli import UsageError, add_command

GENERATE_SCENARIOS_EXAMPLE = "culturesim scenarios generate --category 'gift giving' -n 5 --out my_scenarios/"
GENERATE_PERSONAS_EXAMPLE = "culturesim personas generate --culture german -n 10 --out my_personas/ --seed 3"
LLM_ADAPT_EXAMPLE = "culturesim scenarios adapt supplier-gift-refusal --to japanese --method llm"
RAW_SHOWN = 2000  # characters of a rejected draft's raw reply shown on screen (all of it goes to the file)


def group_commands(subparsers: argparse._SubParsersAction, name: str) -> argparse._SubParsersAction | None:
    """The sub-command list of an existing group (`scenarios`), or None where that wing is absent."""
    parser = subparsers.choices.get(name)
    if parser is None:
        return None
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    options = parser.add_argument_group("model")
    options.add_argument("--backend", default="transformers", help="transformers (default), vllm or openai")
    options.add_argument("--model", help="HF id or path, or the server's model name (default: embedded)")
    options.add_argument("--base-url", help="OpenAI-compatible server URL (backend openai)")
    options.add_argument("--seed", type=int, default=0, help="seed of the drafts (default 0)")
    options.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (default 0.7)")
    options.add_argument(
        "--strategy",
        choices=("auto", "json", "fields", "json+fields"),
        default="auto",
        help="json: whole JSON records (retried with the errors fed back); fields: one field at a time; "
        "json+fields: JSON, then fields for drafts still invalid; auto (default): fields for the "
        "embedded 135M model, json+fields for any other",
    )
    options.add_argument("--retries", type=int, default=2, help="new tries for an invalid draft (default 2)")
    options.add_argument(
        "--max-new-tokens", type=int, default=400, help="token budget of one JSON record (default 400)"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    scenarios = group_commands(subparsers, "scenarios")
    if scenarios is not None:
        parser = add_command(
            scenarios,
            "generate",
            "Draft new base scenarios of a category with a model; only valid ones are written.",
            GENERATE_SCENARIOS_EXAMPLE,
            generate_scenarios_command,
        )
        parser.add_argument("--category", required=True, help="kind of situation, e.g. 'gift giving'")
        parser.add_argument("-n", type=int, default=5, help="how many scenarios (default 5)")
        parser.add_argument("--out", help="directory or .yaml/.json/.jsonl file (default: print YAML)")
        parser.add_argument("--path", action="append", default=[], help="extra scenario file or directory")
        add_backend_arguments(parser)
        adapt = scenarios.choices.get("adapt")
        if adapt is not None:  # the model options of `adapt --method llm`
            add_backend_arguments(adapt)
            adapt.epilog = f"{adapt.epilog}\n  {LLM_ADAPT_EXAMPLE}"
    personas = group_commands(subparsers, "personas")
    if personas is not None:
        parser = add_command(
            personas,
            "generate",
            "Sample personas from a culture's demographics and let a model write their background, "
            "personality, values and secret.",
            GENERATE_PERSONAS_EXAMPLE,
            generate_personas_command,
        )
        parser.add_argument("--culture", required=True, help="culture id or country, e.g. german")
        parser.add_argument("-n", type=int, default=10, help="how many personas (default 10)")
        parser.add_argument("--out", help="directory or .yaml/.json/.jsonl file (default: print YAML)")
        add_backend_arguments(parser)


# -- shared ------------------------------------------------------------------------------------------


def draft_settings(args: argparse.Namespace) -> Any:
    from simulator.backends.registry import BACKEND_KINDS
    from simulator.design.drafting import DraftSettings

    if args.backend not in BACKEND_KINDS:
        raise UsageError(f"unknown backend '{args.backend}' (choose from {', '.join(BACKEND_KINDS)})")
    if args.base_url and args.backend != "openai":
        raise UsageError("--base-url needs --backend openai")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    if args.max_new_tokens < 16:
        raise UsageError("--max-new-tokens must be at least 16")
    if args.temperature < 0:
        raise UsageError("--temperature must be 0 or more")
    return DraftSettings(
        strategy=args.strategy,
        retries=args.retries,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        seed=args.seed,
    )


def _check_count(n: int) -> None:
    if n < 1:
        raise UsageError("-n must be at least 1")


async def run_with_backend(
    args: argparse.Namespace, total: int, work: Callable[[Any, Callable[[str, Any], None]], Any]
) -> Any:
    """Create the backend off the event loop, run `work(backend, on_progress)` under a progress bar."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from simulator.backends.registry import create_backend

    options = {"base_url": args.base_url} if args.base_url else {}
    console = Console(stderr=True)
    with console.status(f"loading the {args.backend} backend"):
        backend = await asyncio.to_thread(create_backend, args.backend, args.model, **options)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("starting", total=total)

            def on_progress(what: str, report: Any) -> None:
                bar.update(task, description=what, completed=len(report.records))

            report = await work(backend, on_progress)
            bar.update(task, description="done", completed=len(report.records))
    finally:
        await backend.aclose()
    return report


def report_failures(failures: Sequence[Any], what: str, rejected_file: Path | None) -> None:
    """Each rejected draft on stderr with its last raw reply; every attempt to `rejected_file`."""
    if not failures:
        return
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console(stderr=True)
    for outcome in failures:
        failure = outcome.last_failure
        raw = failure.raw if failure else "(no reply)"
        shown = raw if len(raw) <= RAW_SHOWN else raw[:RAW_SHOWN] + " [...]"
        body = Text.assemble(
            ("stage: ", "bold"),
            failure.stage if failure else "-",
            "\n",
            ("why: ", "bold"),
            outcome.last_error or "no reply",
            "\n",
            ("raw reply: ", "bold"),
            shown,
        )
        title = f"{what} {outcome.index + 1} rejected after {len(outcome.attempts)} attempt(s)"
        console.print(Panel(body, title=title, border_style="red"))
    if rejected_file is not None:
        lines = [
            json.dumps(
                {
                    "draft": outcome.index + 1,
                    "attempts": [
                        {"stage": a.stage, "error": a.error, "raw": a.raw} for a in outcome.attempts
                    ],
                },
                ensure_ascii=False,
            )
            for outcome in failures
        ]
        rejected_file.parent.mkdir(parents=True, exist_ok=True)
        rejected_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        console.print(f"all attempts of the rejected drafts: {rejected_file}", soft_wrap=True)


def output_file(out: str, default_name: str) -> Path:
    """A directory gets `default_name` inside it; a path with a suffix is the file itself."""
    path = Path(out)
    return path if path.suffix else path / default_name


def rejected_path(output: Path) -> Path:
    # Not .jsonl/.json/.yaml: a scenario or persona directory must not pick rejects up as records.
    return output.with_name(f"{output.stem}.rejected.ndjson")


# -- scenarios generate ------------------------------------------------------------------------------


def generate_scenarios_command(args: argparse.Namespace) -> int:
    from scenarios.files import dump_yaml, scenario_files, slug, write_scenarios
    from scenarios.library import collection
    from simulator.design.scenario_generation import generate_scenarios, pick_example

    _check_count(args.n)
    category = args.category.strip()
    if not category:
        raise UsageError("--category must not be empty")
    settings = draft_settings(args)
    found = collection(args.path)
    taken = set(found.scenarios)
    output = output_file(args.out, f"generated-{slug(category)}-seed{args.seed}.yaml") if args.out else None
    if output is not None and output.parent.is_dir() and not Path(args.out).suffix:
        # Ids stay unique across the output directory, which users add to CULTURESIM_SCENARIOS_PATH.
        taken |= _ids_in_other_files(scenario_files(output.parent), output)
    example = pick_example(category, found.bases, args.seed)

    def save(report: Any) -> None:
        if output is not None and report.records:
            write_scenarios(report.records, output)

    async def work(backend: Any, on_progress: Callable[[str, Any], None]) -> Any:
        def progress_and_save(what: str, report: Any) -> None:
            on_progress(what, report)
            save(report)  # after every round: an interruption loses at most the round under way

        return await generate_scenarios(
            backend, category, args.n, example, settings, taken, progress_and_save
        )

    report = asyncio.run(run_with_backend(args, args.n, work))
    save(report)
    report_failures(report.failures, "draft", rejected_path(output) if output else None)
    if output is None:
        sys.stdout.write(dump_yaml(report.records))
    elif report.records:
        print(f"wrote {len(report.records)} scenario(s) to {output}", file=sys.stderr)
    print(f"{len(report.records)} of {args.n} drafts valid", file=sys.stderr)
    return 0 if not report.failures else 1


def _ids_in_other_files(files: Sequence[Path], output: Path) -> set[str]:
    from scenarios.files import read_scenario_file

    return {s.id for path in files if path.resolve() != output.resolve() for s in read_scenario_file(path)}


# -- scenarios adapt --method llm ---------------------------------------------------------------------


def adapt_with_llm(args: argparse.Namespace, base: Any) -> int:
    from scenarios.files import dump_yaml, write_scenarios
    from scenarios.library import culture_profile, resolve_cultures
    from simulator.design.llm_adaptation import adapt_by_llm

    settings = draft_settings(args)
    cultures = [culture_profile(culture_id) for culture_id in resolve_cultures(args.to)]

    async def work(backend: Any, on_progress: Callable[[str, Any], None]) -> Any:
        return await adapt_by_llm(backend, base, cultures, settings, on_progress)

    report = asyncio.run(run_with_backend(args, len(cultures), work))
    rejected = rejected_path(Path(args.out)) if args.out else None
    report_failures(report.failures, f"adaptation of {base.id} to culture", rejected)
    if args.out and report.records:
        written = write_scenarios(report.records, args.out)
        print(f"wrote {len(report.records)} scenario(s) to {', '.join(map(str, written))}", file=sys.stderr)
    elif not args.out:
        sys.stdout.write(dump_yaml(report.records))
    return 0 if not report.failures else 1


# -- personas generate -------------------------------------------------------------------------------


def generate_personas_command(args: argparse.Namespace) -> int:
    from personas.cultures import load_culture
    from personas.library import load_personas, save_personas
    from simulator.design.persona_generation import generate_personas

    _check_count(args.n)
    settings = draft_settings(args)
    culture = load_culture(args.culture)
    library = load_personas()
    examples = [p for p in library if p.culture == culture.id] or library
    if not examples:
        raise UsageError("the persona library is empty: there is no persona to show the model as an example")
    example = examples[args.seed % len(examples)]
    output = output_file(args.out, f"{culture.id}-generated-seed{args.seed}.yaml") if args.out else None

    def save(report: Any) -> None:
        if output is not None and report.records:
            save_personas(report.records, output)

    async def work(backend: Any, on_progress: Callable[[str, Any], None]) -> Any:
        def progress_and_save(what: str, report: Any) -> None:
            on_progress(what, report)
            save(report)

        return await generate_personas(backend, culture, args.n, example, settings, progress_and_save)

    report = asyncio.run(run_with_backend(args, args.n, work))
    save(report)
    report_failures(report.failures, "persona", rejected_path(output) if output else None)
    if output is None:
        import yaml

        records = [p.model_dump(mode="json", exclude_defaults=True) for p in report.records]
        sys.stdout.write(
            yaml.safe_dump({"personas": records}, allow_unicode=True, sort_keys=False, width=100)
        )
    elif report.records:
        print(f"wrote {len(report.records)} persona(s) to {output}", file=sys.stderr)
    print(f"{len(report.records)} of {args.n} personas valid", file=sys.stderr)
    return 0 if not report.failures else 1
