"""The live view's renderables, drawn into recording consoles of two sizes."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from simulator.events import EpisodeFinished, EpisodeStarted, RunStarted, TurnCompleted
from simulator.records import Episode, Judgement, Turn, Verdict
from simulator.tui.render import plain_line, render_dashboard
from simulator.tui.state import RECENT_KEPT, RunState

PARTICIPANTS = [("jp-1", "Haruto Sato", "host"), ("jp-2", "Yui Tanaka", "guest")]


def turn(index: int, speaker: int, text: str, action: str = "speak", intent: str | None = None) -> Turn:
    pid, name, role = PARTICIPANTS[speaker]
    return Turn(
        index=index, speaker=pid, speaker_name=name, role=role, action=action, text=text,
        completion_tokens=5, intent=intent,
    )  # fmt: skip


def state_with_conversation() -> RunState:
    state = RunState()
    state.apply(RunStarted("demo-run", "transformers", "SmolLM2-135M-Instruct", planned=10, already_done=0))
    state.apply(EpisodeStarted("ep-1", "dinner-invitation", "A dinner invitation", "japanese", PARTICIPANTS))
    state.apply(TurnCompleted("ep-1", turn(0, 0, "Please come to dinner on Friday.", intent="invite warmly")))
    state.apply(TurnCompleted("ep-1", turn(1, 1, "bows slightly", action="non-verbal")))
    state.apply(TurnCompleted("ep-1", turn(2, 1, "I must go now, thank you.", action="leave")))
    return state


def draw(state: RunState, width: int, height: int) -> str:
    console = Console(record=True, width=width, height=height, file=io.StringIO(), color_system=None)
    console.print(render_dashboard(state, width, height))
    return console.export_text()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_dashboard_shows_run_figures_and_conversation(size):
    width, height = size
    text = draw(state_with_conversation(), width, height)
    assert "demo-run" in text and "SmolLM2-135M-Instruct" in text
    assert "planned 10" in text and "running 1" in text
    assert "Haruto Sato" in text and "Yui Tanaka" in text
    assert "Please come to dinner" in text
    assert "*bows slightly*" in text
    assert "leaves" in text
    assert "invite warmly" in text
    assert all(len(line) <= width for line in text.splitlines())
    assert len(text.splitlines()) <= height


def test_more_conversations_fit_on_a_wide_screen():
    state = RunState()
    for i in range(8):
        state.apply(EpisodeStarted(f"ep-{i}", "s", f"Scenario number {i}", "german", PARTICIPANTS))
    narrow, wide = draw(state, 80, 24), draw(state, 200, 60)
    shown = lambda text: sum(f"Scenario number {i}" in text for i in range(8))  # noqa: E731
    assert 1 <= shown(narrow) < shown(wide)


def test_finished_episode_counts_and_verdict_subtitle():
    state = state_with_conversation()
    episode = Episode(
        id="ep-1", scenario_id="s", culture="japanese", persona_ids=["jp-1", "jp-2"], sample_index=0, seed=0,
        status="done", end_reason="leave:jp-2",
    )  # fmt: skip
    state.apply(EpisodeFinished(episode))
    verdict = Verdict(label="good", confidence=0.91, probabilities={"good": 0.91, "bad": 0.09})
    aligned = Verdict(label="aligned", confidence=0.7, probabilities={"aligned": 0.7, "not aligned": 0.3})
    state.conversations["ep-1"].judgement = Judgement(
        episode_id="ep-1", quality=verdict, alignment=aligned, meta_review=verdict, kept=True, judge_model="m"
    )
    state.judge_summary = {"kept": 3, "dropped": 1, "labels": {"good": 3, "bad": 1}}
    text = draw(state, 120, 30)
    assert state.done == 1 and state.running == 0
    assert "quality good 0.91" in text and "kept" in text
    assert "kept 3/4 (75%)" in text


def test_memory_stays_bounded_as_runs_grow():
    state = RunState()
    for i in range(200):
        state.apply(EpisodeStarted(f"ep-{i}", "s", "t", None, PARTICIPANTS))
        state.apply(TurnCompleted(f"ep-{i}", turn(0, 0, "hello")))
        episode = Episode(
            id=f"ep-{i}", scenario_id="s", culture=None, persona_ids=[], sample_index=0, seed=0,
            status="failed" if i % 10 == 0 else "done", end_reason="max_turns",
        )  # fmt: skip
        state.apply(EpisodeFinished(episode))
    assert len(state.conversations) == RECENT_KEPT
    assert state.done == 180 and state.failed == 20 and state.turns == 200


def test_culture_filter_hides_other_cultures():
    state = RunState(culture_filter="german")
    state.apply(EpisodeStarted("ep-1", "s", "t", "japanese", PARTICIPANTS))
    state.apply(EpisodeStarted("ep-2", "s", "t", "german", PARTICIPANTS))
    assert list(state.conversations) == ["ep-2"]


def test_plain_line_per_turn():
    state = state_with_conversation()
    conversation = state.conversations["ep-1"]
    lines = [plain_line(conversation, t) for t in conversation.turns]
    assert lines[0] == "[A dinner invitation · japanese] Haruto Sato (host): Please come to dinner on Friday."
    assert lines[1].endswith("*bows slightly*")
    assert "(leaves)" in lines[2]
