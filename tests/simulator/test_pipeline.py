"""The pipeline's plumbing: config checking, stage command lines, and skipping finished stages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator.cli import main
from simulator.commands.pipeline import PipelineConfig, PipelineState, stage_commands, to_flags


def write_config(tmp_path: Path, **sections) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"name": "t", **sections}))
    return path


def test_options_become_long_flags():
    flags = to_flags({"max_turns": 4, "cultures": ["british", "japanese"], "allow_smaller": True, "x": None})
    assert flags == ["--max-turns", "4", "--cultures", "british,japanese", "--allow-smaller"]


def test_stage_commands_share_the_backend_and_resume_a_started_simulation(tmp_path):
    config = PipelineConfig(simulate={"cultures": ["japanese"]}, evaluate={"culture": "japanese"})
    first = stage_commands("simulate", config, tmp_path)[0]
    assert first[:3] == ["simulate", "--out", str(tmp_path)] and "--backend" in first
    (tmp_path / "manifest.json").write_text("{}")
    assert stage_commands("simulate", config, tmp_path) == [["simulate", "--resume", "--out", str(tmp_path)]]
    survey, evaluate = stage_commands("evaluate", config, tmp_path)
    assert survey[:2] == ["survey", "make"] and "--culture" in survey
    assert evaluate[evaluate.index("--data") + 1] == str(tmp_path / "survey")
    assert evaluate[evaluate.index("--adapter") + 1] == str(tmp_path / "adapter")


def test_a_mistyped_stage_option_fails_before_anything_runs(tmp_path, capsys):
    config = write_config(tmp_path, simulate={"max_turnz": 4})
    assert main(["pipeline", str(config), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "pipeline.yaml" in err and "simulate" in err and "--max-turnz" in err
    assert not (tmp_path / "run").exists()


def test_an_unknown_section_is_bad_input(tmp_path, capsys):
    config = write_config(tmp_path, simulation={"max_turns": 4})
    assert main(["pipeline", str(config), "--out", str(tmp_path / "run")]) == 2
    assert "simulation" in capsys.readouterr().err


def test_missing_run_directory_is_bad_input(tmp_path, capsys):
    assert main(["pipeline", str(write_config(tmp_path))]) == 2
    assert "--out" in capsys.readouterr().err


def test_finished_stages_are_remembered(tmp_path):
    state = PipelineState(tmp_path)
    state.record("simulate", [["simulate", "--out", "x"]], 1.5)
    again = PipelineState(tmp_path)
    assert again.done("simulate") and not again.done("judge")
    again.forget("simulate")
    assert not again.done("simulate")


@pytest.mark.parametrize(
    "path", sorted(Path(__file__).resolve().parents[2].joinpath("examples").glob("*.yaml"))
)
def test_example_configs_are_valid(path, tmp_path):
    from personas.files import load_records
    from simulator.commands.pipeline import check_stage_options

    config = load_records(path, PipelineConfig)[0]
    check_stage_options(path, config, tmp_path / "run")
