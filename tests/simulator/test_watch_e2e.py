"""`culturesim watch` against a real run directory: in tmux (a real terminal) and piped (plain lines)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.store import RunStore

pytestmark = pytest.mark.model
CULTURESIM = [sys.executable, "-m", "simulator.cli"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("watch") / "run"
    command = [
        *CULTURESIM, "simulate", "--cultures", "japanese", "--scenarios", "dinner-invitation-decline",
        "--limit", "1", "--max-turns", "2", "--max-new-tokens", "12", "--temperature", "0", "--out", str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return out


def stored_turns(run_dir: Path):
    with RunStore(run_dir, readonly=True) as store:
        (episode,) = store.episodes()
        return episode.turns


def test_watch_in_a_terminal_shows_names_and_turns(run_dir, tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    session = f"culturesim-watch-{time.time_ns()}"
    command = " ".join([*CULTURESIM, "watch", str(run_dir), "--speed", "50", "--no-follow"]) + "; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
    try:
        turns = stored_turns(run_dir)
        deadline, screen = time.monotonic() + 60, ""
        while time.monotonic() < deadline:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if all(turn.speaker_name in screen for turn in turns) and "done 1" in screen:
                break
            time.sleep(0.5)
        for turn in turns:
            assert turn.speaker_name in screen
            first_words = " ".join(turn.text.split()[:2])
            if first_words:
                assert first_words in " ".join(screen.split())
        assert "done 1" in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_watch_without_a_terminal_prints_one_line_per_turn(run_dir):
    result = subprocess.run(
        [*CULTURESIM, "watch", str(run_dir), "--speed", "100", "--no-follow"],
        capture_output=True, text=True, timeout=120, env={"NO_COLOR": "1", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    turns = stored_turns(run_dir)
    assert len(lines) == len(turns)
    for line, turn in zip(lines, turns):
        assert f"{turn.speaker_name} ({turn.role})" in line
        assert "\x1b[" not in line


def test_watch_rejects_a_directory_that_is_not_a_run(tmp_path):
    result = subprocess.run([*CULTURESIM, "watch", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not a run directory" in result.stderr and "Traceback" not in result.stderr
