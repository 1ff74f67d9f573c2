"""A simulate run killed with SIGKILL mid-way and resumed ends with exactly the planned episodes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kill_midway import kill_after_progress

from simulator.cli import main
from simulator.store import DB_NAME, RunStore

pytestmark = pytest.mark.model

ARGS = [
    "--cultures", "japanese,british",
    "--limit", "4",
    "--max-turns", "2",
    "--max-new-tokens", "8",
    "--temperature", "0",
    "--action-choice", "parsed",
    "--concurrency", "1",
    "--dtype", "float32",
]  # fmt: skip


def done_episodes(run: Path) -> dict[str, float]:
    """Episode id -> finish time, read the way another process would (empty if no store yet)."""
    if not (run / DB_NAME).exists():
        return {}
    try:
        with sqlite3.connect(f"file:{run / DB_NAME}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT id, finished_at FROM episodes WHERE status = 'done'").fetchall())
    except sqlite3.OperationalError:  # the schema is being created right now
        return {}


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    run = tmp_path / "run"
    kill_after_progress(["simulate", *ARGS, "--out", str(run)], lambda: bool(done_episodes(run)))
    before = done_episodes(run)
    assert 1 <= len(before) < 4

    assert main(["simulate", "--resume", "--out", str(run)]) == 0

    with RunStore(run, readonly=True) as store:
        planned = store.get_value("planned_episode_ids")
        rows = store.db.execute("SELECT id FROM episodes").fetchall()
        status = store.episode_status()
    ids = [row[0] for row in rows]
    assert len(planned) == 4
    assert sorted(ids) == sorted(planned) and len(ids) == len(set(ids))  # all planned, none twice
    assert set(status.values()) == {"done"}
    after = done_episodes(run)
    assert all(after[eid] == finished for eid, finished in before.items())  # finished work was not redone


def test_ctrl_c_stops_cleanly_with_finished_episodes_saved(tmp_path: Path) -> None:
    run = tmp_path / "run"
    command = [sys.executable, "-m", "simulator.cli", "simulate", *ARGS, "--out", str(run)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while not done_episodes(run) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.poll() is None, "the run ended before it could be interrupted"
        saved = done_episodes(run)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=300)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert saved.items() <= done_episodes(run).items()  # nothing finished was lost
    assert (run / "manifest.json").exists()
