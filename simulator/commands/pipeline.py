"""`culturesim pipeline CONFIG.yaml`: simulate, judge, select, train and evaluate into one run directory.

Each stage is the stage's own command (`culturesim simulate ...`, `culturesim judge ...`), run
in-process with options taken from the config section of the same name: a key is the command's
long option (`max_turns: 4` -> `--max-turns 4`, `true` -> a bare flag, a list -> comma-separated).
So the pipeline holds no stage logic of its own, and every stage keeps its own resumability.
A stage that finishes is recorded in RUN/pipeline.json and skipped on the next run; a killed stage
is re-entered and resumes where it stopped. All options are checked before the first stage runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from personas.files import BadInputError, load_records
from personas.schema import StrictModel
from simulator.cli import add_command

STAGES = ("simulate", "judge", "select", "train", "evaluate")
STATE_FILE = "pipeline.json"
ADAPTER_DIR = "adapter"
SURVEY_DIR = "survey"
EVALUATION_DIR = "evaluation"
SUMMARY_FILE = "summary.json"

Options = dict[str, Any]


class BackendSection(StrictModel):
    kind: str = "transformers"
    model: str | None = None
    base_url: str | None = None
    dtype: str | None = None


class PipelineConfig(StrictModel):
    """A pipeline file. Each stage section holds that stage command's long options."""

    name: str = Field(default="pipeline", description="Shown in the summary")
    out: str | None = Field(default=None, description="Run directory (overridden by --out)")
    backend: BackendSection = Field(default_factory=BackendSection)
    simulate: Options = Field(default_factory=dict)
    judge: Options = Field(default_factory=dict)
    select: Options = Field(default_factory=dict)
    train: Options = Field(default_factory=dict)
    evaluate: Options = Field(default_factory=dict)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "pipeline",
        "Run simulate -> judge -> select -> train -> evaluate from one config; resumable stage by stage.",
        "culturesim pipeline examples/quickstart.yaml --out runs/quickstart",
        handle_pipeline,
    )
    parser.add_argument("config", type=Path, help="pipeline YAML file (see examples/quickstart.yaml)")
    parser.add_argument("--out", type=Path, help="run directory (default: the config's `out`)")
    parser.add_argument("--redo", choices=STAGES, action="append", default=[], help="run this stage again")


def to_flags(options: Options) -> list[str]:
    flags: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            flags.append(flag)
        elif isinstance(value, list):
            flags += [flag, ",".join(str(v) for v in value)]
        else:
            flags += [flag, str(value)]
    return flags


def backend_flags(backend: BackendSection) -> list[str]:
    return to_flags(
        {
            "backend": backend.kind,
            "model": backend.model,
            "base_url": backend.base_url,
            "dtype": backend.dtype,
        }
    )


def stage_commands(stage: str, config: PipelineConfig, run_dir: Path, redo: bool = False) -> list[list[str]]:
    """The command lines of one stage; its section's own `backend`/`model` win over the shared one."""
    options = dict(getattr(config, stage))
    shared = [] if {"backend", "model", "base_url"} & options.keys() else backend_flags(config.backend)
    if stage == "simulate":
        if (run_dir / "manifest.json").exists():
            return [["simulate", "--resume", "--out", str(run_dir)]]
        return [["simulate", "--out", str(run_dir), *shared, *to_flags(options)]]
    if stage == "judge":
        return [["judge", str(run_dir), *shared, *to_flags(options)]]
    if stage == "select":
        return [["select", str(run_dir), *to_flags(options)]]
    if stage == "train":
        # --resume continues an interrupted training (or starts one); --overwrite retrains on --redo.
        again = "--overwrite" if redo else "--resume"
        return [["train", str(run_dir), "--out", str(run_dir / ADAPTER_DIR), again, *to_flags(options)]]
    # evaluate: the base model against base + adapter, on the project's own generated survey
    # unless the section names survey data of its own.
    commands = []
    respondents = options.pop("survey_respondents", 40)
    if options.get("suite", "wvs") == "wvs" and "data" not in options:
        survey_dir = run_dir / SURVEY_DIR
        culture = str(options.get("culture", ""))
        commands.append(
            [
                "survey",
                "make",
                "--culture",
                culture,
                "--respondents",
                str(respondents),
                "--out",
                str(survey_dir),
            ]
        )
        options["data"] = str(survey_dir)
    options.setdefault("suite", "wvs")
    options.setdefault("adapter", str(run_dir / ADAPTER_DIR))
    commands.append(["evaluate", *shared, *to_flags(options), "--out", str(run_dir / EVALUATION_DIR)])
    return commands


def check_stage_options(config_path: Path, config: PipelineConfig, run_dir: Path) -> None:
    """Parse every stage's command line before running anything, so a typo fails in a second."""
    import contextlib
    import io

    from simulator.cli import build_parser

    parser = build_parser()
    for stage in STAGES:
        for argv in stage_commands(stage, config, run_dir):
            errors = io.StringIO()
            try:
                with contextlib.redirect_stderr(errors):
                    parser.parse_args(argv)
            except SystemExit:
                reason = errors.getvalue().strip().splitlines()[-1].split("error: ", 1)[-1]
                raise BadInputError(config_path, reason, record=stage) from None


class PipelineState:
    """Which stages finished, in RUN/pipeline.json (written atomically)."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / STATE_FILE
        self.stages: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self.stages = json.loads(self.path.read_text()).get("stages", {})

    def done(self, stage: str) -> bool:
        return self.stages.get(stage, {}).get("status") == "done"

    def record(self, stage: str, commands: list[list[str]], seconds: float) -> None:
        self.stages[stage] = {
            "status": "done",
            "commands": commands,
            "seconds": round(seconds, 1),
            "at": time.time(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"stages": self.stages}, indent=2))
        tmp.replace(self.path)

    def forget(self, stage: str) -> None:
        self.stages.pop(stage, None)


def handle_pipeline(args: argparse.Namespace) -> int:
    from rich.console import Console

    from simulator.cli import main as run_command
    from simulator.pipeline_summary import collect_summary, print_summary

    config = load_records(args.config, PipelineConfig)[0]
    run_dir = args.out or (Path(config.out) if config.out else None)
    if run_dir is None:
        raise BadInputError(args.config, "no run directory: set `out:` in the file or pass --out")
    check_stage_options(args.config, config, run_dir)
    console = Console(stderr=True)
    state = PipelineState(run_dir)
    for stage in args.redo:
        state.forget(stage)
    for number, stage in enumerate(STAGES, start=1):
        if state.done(stage):
            console.print(f"[dim]stage {number}/{len(STAGES)} {stage}: done earlier, skipped[/dim]")
            continue
        commands = stage_commands(stage, config, run_dir, redo=stage in args.redo)
        console.rule(f"stage {number}/{len(STAGES)}: {stage}")
        started = time.monotonic()
        for argv in commands:
            console.print(f"[dim]culturesim {' '.join(argv)}[/dim]")
            code = run_command(argv)
            if code != 0:
                console.print(
                    f"[red]stage {stage} stopped (exit code {code}); run the pipeline again to resume[/red]"
                )
                return code
        state.record(stage, commands, time.monotonic() - started)
    summary = collect_summary(run_dir, config.name, state.stages)
    (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    print_summary(summary)
    return 0
