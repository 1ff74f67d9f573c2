"""The run store: one SQLite database (WAL) per run directory.

Writes are one transaction per episode (or per judgement), so a killed process leaves either the
whole episode or nothing of it, and `--resume` can trust what it finds. Readers in other processes
(`culturesim watch`) see committed episodes while the run goes on.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.records import Episode, Judgement, Turn, Verdict

SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    id TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    culture TEXT,
    persona_ids TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    end_reason TEXT NOT NULL,
    n_turns INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    scenario TEXT NOT NULL,
    personas TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    speaker_name TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL,
    intent TEXT,
    intent_reason TEXT,
    PRIMARY KEY (episode_id, idx)
);
CREATE TABLE IF NOT EXISTS judgements (
    episode_id TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    quality TEXT NOT NULL,
    alignment TEXT NOT NULL,
    meta_review TEXT NOT NULL,
    critique TEXT NOT NULL,
    kept INTEGER NOT NULL,
    judge_model TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS selections (
    culture TEXT NOT NULL,
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    representativeness REAL NOT NULL,
    distinctiveness REAL NOT NULL,
    selected INTEGER NOT NULL,
    rank INTEGER,
    PRIMARY KEY (culture, episode_id)
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS episodes_by_finish ON episodes(finished_at);
"""

DB_NAME = "run.sqlite"


class RunStore:
    """Episodes, turns, judgements and selections of one run directory."""

    def __init__(self, run_dir: str | Path, readonly: bool = False):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / DB_NAME
        if readonly:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- episodes ---------------------------------------------------------------------------------

    def save_episode(self, episode: Episode) -> None:
        """Write an episode and all its turns in one transaction, replacing an earlier failed try."""
        with self.db:
            self.db.execute("DELETE FROM episodes WHERE id = ?", (episode.id,))
            self.db.execute(
                "INSERT INTO episodes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    episode.id,
                    episode.scenario_id,
                    episode.culture,
                    json.dumps(episode.persona_ids),
                    episode.sample_index,
                    episode.seed,
                    episode.status,
                    episode.end_reason,
                    len(episode.turns),
                    episode.started_at,
                    episode.finished_at,
                    json.dumps(episode.scenario),
                    json.dumps(episode.personas),
                ),
            )
            self.db.executemany(
                "INSERT INTO turns VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        episode.id,
                        turn.index,
                        turn.speaker,
                        turn.speaker_name,
                        turn.role,
                        turn.action,
                        turn.text,
                        turn.prompt_tokens,
                        turn.completion_tokens,
                        turn.latency_s,
                        turn.intent,
                        turn.intent_reason,
                    )
                    for turn in episode.turns
                ],
            )

    def episode_status(self) -> dict[str, str]:
        """Episode id -> 'done' or 'failed', for resuming."""
        return dict(self.db.execute("SELECT id, status FROM episodes").fetchall())

    def count_episodes(self, status: str | None = None) -> int:
        if status is None:
            return self.db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM episodes WHERE status = ?", (status,)).fetchone()[0]

    def episodes(
        self, status: str | None = "done", culture: str | None = None, since: float | None = None
    ) -> Iterator[Episode]:
        """Episodes with their turns, oldest first; `since` picks those finished after a time."""
        query, args = "SELECT * FROM episodes WHERE 1=1", []
        if status:
            query, args = query + " AND status = ?", [*args, status]
        if culture:
            query, args = query + " AND culture = ?", [*args, culture]
        if since is not None:
            query, args = query + " AND finished_at > ?", [*args, since]
        for row in self.db.execute(query + " ORDER BY finished_at, id", args).fetchall():
            yield self._episode_from_row(row)

    def episode(self, episode_id: str) -> Episode | None:
        row = self.db.execute("SELECT * FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        return self._episode_from_row(row) if row else None

    def turns(self, episode_id: str) -> list[Turn]:
        rows = self.db.execute("SELECT * FROM turns WHERE episode_id = ? ORDER BY idx", (episode_id,))
        return [
            Turn(
                index=row["idx"],
                speaker=row["speaker"],
                speaker_name=row["speaker_name"],
                role=row["role"],
                action=row["action"],
                text=row["text"],
                prompt_tokens=row["prompt_tokens"],
                completion_tokens=row["completion_tokens"],
                latency_s=row["latency_s"],
                intent=row["intent"],
                intent_reason=row["intent_reason"],
            )
            for row in rows
        ]

    def _episode_from_row(self, row: sqlite3.Row) -> Episode:
        return Episode(
            id=row["id"],
            scenario_id=row["scenario_id"],
            culture=row["culture"],
            persona_ids=json.loads(row["persona_ids"]),
            sample_index=row["sample_index"],
            seed=row["seed"],
            status=row["status"],
            end_reason=row["end_reason"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            scenario=json.loads(row["scenario"]),
            personas=json.loads(row["personas"]),
            turns=self.turns(row["id"]),
        )

    # -- judgements -------------------------------------------------------------------------------

    def save_judgement(self, judgement: Judgement, intents: dict[int, tuple[str, str]]) -> None:
        """Store the verdicts and every turn's (intent, reason) of one episode in one transaction."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO judgements VALUES (?,?,?,?,?,?,?,?)",
                (
                    judgement.episode_id,
                    judgement.quality.model_dump_json(),
                    judgement.alignment.model_dump_json(),
                    judgement.meta_review.model_dump_json(),
                    judgement.critique,
                    int(judgement.kept),
                    judgement.judge_model,
                    judgement.created_at or time.time(),
                ),
            )
            self.db.executemany(
                "UPDATE turns SET intent = ?, intent_reason = ? WHERE episode_id = ? AND idx = ?",
                [(intent, reason, judgement.episode_id, idx) for idx, (intent, reason) in intents.items()],
            )

    def judgement(self, episode_id: str) -> Judgement | None:
        row = self.db.execute("SELECT * FROM judgements WHERE episode_id = ?", (episode_id,)).fetchone()
        return self._judgement_from_row(row) if row else None

    def judgements(self) -> Iterator[Judgement]:
        for row in self.db.execute("SELECT * FROM judgements ORDER BY created_at").fetchall():
            yield self._judgement_from_row(row)

    def judged_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT episode_id FROM judgements")}

    def kept_episodes(self, culture: str | None = None) -> Iterator[Episode]:
        query = "SELECT e.* FROM episodes e JOIN judgements j ON j.episode_id = e.id WHERE j.kept = 1"
        args: list[Any] = []
        if culture:
            query, args = query + " AND e.culture = ?", [culture]
        for row in self.db.execute(query + " ORDER BY e.id", args).fetchall():
            yield self._episode_from_row(row)

    @staticmethod
    def _judgement_from_row(row: sqlite3.Row) -> Judgement:
        return Judgement(
            episode_id=row["episode_id"],
            quality=Verdict.model_validate_json(row["quality"]),
            alignment=Verdict.model_validate_json(row["alignment"]),
            meta_review=Verdict.model_validate_json(row["meta_review"]),
            critique=row["critique"],
            kept=bool(row["kept"]),
            judge_model=row["judge_model"],
            created_at=row["created_at"],
        )

    # -- selections -------------------------------------------------------------------------------

    def save_selection(self, culture: str, rows: list[tuple[str, float, float, bool, int | None]]) -> None:
        """Replace a culture's selection: (episode_id, representativeness, distinctiveness, selected, rank)."""
        with self.db:
            self.db.execute("DELETE FROM selections WHERE culture = ?", (culture,))
            self.db.executemany(
                "INSERT INTO selections VALUES (?,?,?,?,?,?)",
                [(culture, eid, rep, dist, int(sel), rank) for eid, rep, dist, sel, rank in rows],
            )

    def selected_episodes(self, culture: str | None = None) -> Iterator[Episode]:
        query = "SELECT e.* FROM episodes e JOIN selections s ON s.episode_id = e.id WHERE s.selected = 1"
        args: list[Any] = []
        if culture:
            query, args = query + " AND s.culture = ?", [culture]
        for row in self.db.execute(query + " ORDER BY s.culture, s.rank", args).fetchall():
            yield self._episode_from_row(row)

    def selection_rows(self, culture: str | None = None) -> list[sqlite3.Row]:
        query, args = "SELECT * FROM selections", []
        if culture:
            query, args = query + " WHERE culture = ?", [culture]
        return self.db.execute(query + " ORDER BY culture, rank IS NULL, rank", args).fetchall()

    # -- small key/value facts (stage markers, stats) ---------------------------------------------

    def set_value(self, key: str, value: Any) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, json.dumps(value)))

    def get_value(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default
