"""The engine end to end on the real embedded model, through real autogen agents and a real store.

Episodes are tiny (2-3 turns, <= 16 new tokens) and the model is loaded once per session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from simulator.backends.base import Backend, GenerationRequest, OptionScoringRequest
from simulator.engine import Engine
from simulator.events import EpisodeFinished, EpisodeStarted, EventBus, RunFinished, RunStarted, TurnCompleted
from simulator.manifest import SimulationConfig
from simulator.planning import plan_run
from simulator.response_cache import CachingBackend, ResponseCache
from simulator.store import RunStore

pytestmark = pytest.mark.model

CONFIG = SimulationConfig(
    cultures=["japanese", "british"],
    limit=3,
    max_turns=3,
    max_new_tokens=16,
    temperature=0,
    concurrency=3,
    action_choice="scored",
)


class CountingBackend(Backend):
    """Counts the calls that reach the real backend it wraps (and can make chosen episodes fail)."""

    def __init__(self, inner: Backend, fail_episode: str | None = None):
        self.inner = inner
        self.name = inner.name
        self.fail_episode = fail_episode
        self.calls = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def end_session(self, session_id: str) -> None:
        self.inner.end_session(session_id)

    def _check(self, requests: Sequence[GenerationRequest | OptionScoringRequest]) -> None:
        self.calls += 1
        if self.fail_episode and any((r.session_id or "").startswith(self.fail_episode) for r in requests):
            raise RuntimeError("injected backend failure")

    async def generate(self, requests):
        self._check(requests)
        return await self.inner.generate(requests)

    async def score_options(self, requests):
        self._check(requests)
        return await self.inner.score_options(requests)


def run_engine(config: SimulationConfig, backend: Backend, run_dir: Path, bus: EventBus | None = None):
    planned = plan_run(config)
    with RunStore(run_dir) as store:
        summary = asyncio.run(Engine(config, backend, store, bus).run(planned))
    return planned, summary


def conversation(run_dir: Path) -> dict[str, list[tuple[str, str, str]]]:
    with RunStore(run_dir, readonly=True) as store:
        return {e.id: [(t.speaker, t.action, t.text) for t in e.turns] for e in store.episodes()}


@pytest.fixture(scope="module")
def first_run(embedded_backend, tmp_path_factory):
    """One small run with every event recorded."""
    run_dir = tmp_path_factory.mktemp("first") / "run"
    bus = EventBus()
    queue = bus.subscribe()
    planned, summary = run_engine(CONFIG, embedded_backend, run_dir, bus)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return run_dir, planned, summary, events


def test_episodes_are_played_and_stored_whole(first_run) -> None:
    run_dir, planned, summary, _ = first_run
    assert summary.done == 3 and summary.failed == 0
    with RunStore(run_dir, readonly=True) as store:
        episodes = {e.id: e for e in store.episodes()}
    assert set(episodes) == {p.plan.id for p in planned}
    for item in planned:
        episode = episodes[item.plan.id]
        speakers = [t.speaker for t in episode.turns]
        assert 1 <= len(speakers) <= CONFIG.max_turns
        assert speakers == [item.plan.persona_ids[i % 2] for i in range(len(speakers))]  # round robin
        last = episode.turns[-1]
        if episode.end_reason == "max_turns":
            assert len(episode.turns) == CONFIG.max_turns and last.action != "leave"
        else:
            assert episode.end_reason == f"leave:{last.speaker}" and last.action == "leave"
        assert episode.turns[0].action != "leave"  # nobody may leave before everyone has spoken
        for turn in episode.turns:
            assert turn.action in ("speak", "non-verbal", "leave", "none")
            if turn.action in ("speak", "non-verbal"):
                assert turn.text and turn.completion_tokens > 0 and turn.prompt_tokens > 0
        assert episode.scenario["id"] == item.scenario.id
        assert [p["id"] for p in episode.personas] == item.plan.persona_ids


def test_requests_of_concurrent_episodes_share_batches(first_run) -> None:
    _, _, summary, _ = first_run
    assert summary.batches["generate"].largest > 1
    assert summary.batches["generate"].mean_batch_size > 1.5
    assert summary.framework_ms_per_turn > 0


def test_events_describe_the_run(first_run) -> None:
    _, planned, summary, events = first_run
    kinds = [type(e) for e in events]
    assert kinds[0] is RunStarted and kinds[-1] is RunFinished
    assert kinds.count(EpisodeStarted) == kinds.count(EpisodeFinished) == len(planned)
    assert kinds.count(TurnCompleted) == summary.turns
    assert events[-1].done == 3 and not events[-1].interrupted


def test_greedy_runs_are_reproducible_and_cached_reruns_cost_no_model_call(
    embedded_backend, first_run, tmp_path: Path
) -> None:
    first_dir = first_run[0]
    counting = CountingBackend(embedded_backend)
    cache = ResponseCache(tmp_path / "cache.sqlite")
    run_engine(CONFIG, CachingBackend(counting, cache), tmp_path / "second")
    assert conversation(tmp_path / "second") == conversation(first_dir)  # same seed, greedy: identical
    calls_cold = counting.calls
    assert calls_cold > 0
    run_engine(CONFIG, CachingBackend(counting, cache), tmp_path / "third")
    assert counting.calls == calls_cold  # every response came from the cache
    assert conversation(tmp_path / "third") == conversation(first_dir)
    cache.close()


def test_failed_episode_is_recorded_and_retried(embedded_backend, tmp_path: Path) -> None:
    config = CONFIG.model_copy(
        update={"limit": 2, "max_turns": 2, "max_new_tokens": 8, "action_choice": "parsed"}
    )
    planned = plan_run(config)
    doomed = planned[1].plan.id
    _, summary = run_engine(config, CountingBackend(embedded_backend, fail_episode=doomed), tmp_path)
    assert (summary.done, summary.failed) == (1, 1)
    with RunStore(tmp_path, readonly=True) as store:
        failed = store.episode(doomed)
        assert failed is not None and failed.status == "failed"
        assert "injected backend failure" in failed.end_reason
    _, summary = run_engine(config, embedded_backend, tmp_path)  # resume: only the failed one is played
    assert (summary.already_done, summary.done, summary.failed) == (1, 1, 0)
    with RunStore(tmp_path, readonly=True) as store:
        assert store.episode_status() == {p.plan.id: "done" for p in planned}


def test_export_loads_with_datasets(first_run, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    from simulator.cli import main

    out = tmp_path / "episodes.jsonl"
    assert main(["export", str(first_run[0]), "--format", "jsonl", "--out", str(out)]) == 0
    dataset = datasets.load_dataset(
        "json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert dataset.num_rows == 3
    assert set(dataset["id"]) == {p.plan.id for p in first_run[1]}
    row = dataset[0]
    assert row["turns"] and {"speaker", "action", "text"} <= set(row["turns"][0])
    assert row["scenario"]["roles"] and row["personas"][0]["name"]


def test_three_participants_take_turns(embedded_backend, tmp_path: Path) -> None:
    from personas.sampler import sample_personas
    from scenarios.schema import Role, Scenario
    from simulator.planning import PlannedEpisode
    from simulator.records import EpisodePlan

    scenario = Scenario(
        id="three-flatmates",
        title="Dividing the chores",
        category="negotiation",
        setting="Three flatmates meet in the kitchen of their shared flat on a Sunday evening.",
        relationship="friend",
        roles=[
            Role(name=n, goal=f"Agree on a chore rota as the {n}.")
            for n in ("tidy one", "busy one", "new one")
        ],
    )
    personas = sample_personas("british", 3, seed=3)
    plan = EpisodePlan(
        id="ep-three",
        scenario_id=scenario.id,
        culture=None,
        persona_ids=[p.id for p in personas],
        sample_index=0,
        seed=1,
    )
    config = CONFIG.model_copy(update={"max_turns": 4, "max_new_tokens": 8, "action_choice": "parsed"})
    with RunStore(tmp_path) as store:
        episode = asyncio.run(
            Engine(config, embedded_backend, store).play(PlannedEpisode(plan, scenario, personas))
        )
    assert episode.status == "done", episode.end_reason
    speakers = [t.speaker for t in episode.turns]
    assert speakers == [personas[i % 3].id for i in range(len(speakers))]
    assert len(speakers) == 4 or episode.end_reason.startswith("leave:")
