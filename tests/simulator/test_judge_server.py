"""Judging through the `openai` backend against a real OpenAI-compatible server (llama_cpp.server)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from judge_samples import CONVERSATIONS, make_episode

from simulator.cli import main
from simulator.judge.runner import SUMMARY_KEY
from simulator.store import RunStore

pytestmark = pytest.mark.server


def test_judge_cli_through_the_openai_backend(llama_server_url: str, tmp_path: Path) -> None:
    episode = make_episode(0, CONVERSATIONS[2][:2], 1.0)
    with RunStore(tmp_path) as store:
        store.save_episode(episode)
    args = ["judge", str(tmp_path), "--backend", "openai", "--base-url", llama_server_url]
    assert (
        main(
            [
                *args,
                "--concurrency",
                "2",
                "--intent-words",
                "6",
                "--reason-words",
                "6",
                "--critique-words",
                "6",
            ]
        )
        == 0
    )

    with RunStore(tmp_path, readonly=True) as store:
        judgement = store.judgement(episode.id)
        turns = store.turns(episode.id)
        summary = store.get_value(SUMMARY_KEY)
    assert judgement is not None and judgement.judge_model.endswith(".gguf")  # the server's model
    for verdict in (judgement.quality, judgement.alignment, judgement.meta_review):
        assert math.isclose(sum(verdict.probabilities.values()), 1.0, abs_tol=1e-9)
        assert verdict.label in verdict.probabilities
    assert all(turn.intent for turn in turns)
    assert summary["judged"] == 1 and summary["intents"] == len(turns)
