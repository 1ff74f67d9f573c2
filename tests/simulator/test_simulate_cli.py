"""`culturesim simulate` and `export` on bad input: one clear line, exit code 2, no model loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli import main
from simulator.manifest import SimulationConfig, new_manifest, read_manifest, write_manifest


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cultures", "martian"], "--cultures: unknown culture 'martian'"),
        (
            ["--cultures", "japanese", "--scenarios", "no-such-scenario"],
            "--scenarios: unknown scenario 'no-such-scenario'",
        ),
        (["--cultures", "japanese", "--concurrency", "0"], "--concurrency"),
        (["--cultures", "japanese", "--max-turns", "0"], "--max-turns"),
        (["--cultures", "japanese", "--samples", "-1"], "--samples"),
        (["--cultures", "japanese", "--temperature", "-0.5"], "--temperature"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    code, err = run_cli(capsys, "simulate", "--out", str(tmp_path / "run"), *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "manifest.json").exists()  # nothing half-started


def test_resume_without_manifest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run_cli(capsys, "simulate", "--resume", "--out", str(tmp_path / "nothing"))
    assert code == 2
    assert "no run to resume" in err


def test_resume_refuses_to_change_what_the_run_is(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = SimulationConfig(cultures=["japanese"], limit=2)
    write_manifest(tmp_path, new_manifest(config, {"backend": "transformers", "model": "x"}))
    code, err = run_cli(capsys, "simulate", "--resume", "--out", str(tmp_path), "--cultures", "british")
    assert code == 2
    assert "drop --cultures" in err


def test_new_run_refuses_an_existing_run_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_manifest(
        tmp_path, new_manifest(SimulationConfig(cultures=["japanese"]), {"backend": "x", "model": "y"})
    )
    code, err = run_cli(capsys, "simulate", "--cultures", "japanese", "--out", str(tmp_path))
    assert code == 2
    assert "--resume" in err


def test_manifest_round_trip_is_atomic(tmp_path: Path) -> None:
    config = SimulationConfig(cultures=["japanese", "british"], samples=2, seed=7, cache=None)
    manifest = new_manifest(config, {"backend": "transformers", "model": "m"})
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path).config == config
    assert "transformers" in read_manifest(tmp_path).packages
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temporary file left


def test_corrupt_manifest_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    code, err = run_cli(capsys, "simulate", "--resume", "--out", str(tmp_path))
    assert code == 2
    assert "manifest.json" in err and "invalid JSON" in err


def test_export_of_a_missing_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run_cli(capsys, "export", str(tmp_path / "none"), "--out", str(tmp_path / "x.jsonl"))
    assert code == 2
    assert "not a run directory" in err


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("simulate", "export"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "example:" in capsys.readouterr().out
