"""A `culturesim judge` killed with SIGKILL after its first stored judgement, then resumed, judges
every finished episode exactly once: nothing judged before the kill is judged again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from judge_samples import write_run
from kill_midway import kill_after_progress

from simulator.cli import main
from simulator.store import DB_NAME, RunStore

pytestmark = pytest.mark.model

# One episode at a time, so the kill lands between stored judgements; tiny replies keep it short.
ARGS = ["--concurrency", "1", "--critique-words", "4", "--intent-words", "4", "--reason-words", "4"]


def judged(run: Path) -> dict[str, float]:
    """Episode id -> judgement time, read the way another process would."""
    try:
        with sqlite3.connect(f"file:{run / DB_NAME}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT episode_id, created_at FROM judgements").fetchall())
    except sqlite3.OperationalError:  # locked for a moment by the writer
        return {}


def test_killed_judge_resumes_and_judges_each_episode_once(tmp_path: Path) -> None:
    episodes = write_run(tmp_path, count=3, turns=1)
    kill_after_progress(["judge", str(tmp_path), *ARGS], lambda: bool(judged(tmp_path)))
    before = judged(tmp_path)
    assert 1 <= len(before) < len(episodes)

    assert main(["judge", str(tmp_path), *ARGS]) == 0

    with RunStore(tmp_path, readonly=True) as store:
        rows = store.db.execute("SELECT episode_id FROM judgements").fetchall()
        unlabelled = store.db.execute(
            "SELECT COUNT(*) FROM turns t JOIN judgements j ON j.episode_id = t.episode_id WHERE t.intent IS NULL"
        ).fetchone()[0]
    ids = [row[0] for row in rows]
    assert sorted(ids) == sorted(e.id for e in episodes)  # every finished episode, the failed one not
    after = judged(tmp_path)
    assert all(after[eid] == created for eid, created in before.items())  # none judged twice
    assert unlabelled == 0  # a judgement never lands without its intents
