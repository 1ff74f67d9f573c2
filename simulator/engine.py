"""The simulation engine: run planned episodes concurrently, store each one whole, publish events.

`concurrency` workers share one event loop and one `RequestBatcher`; each worker plays its
episodes turn by turn through autogen persona agents, so at any moment up to `concurrency`
conversations have a request waiting and the batcher sends them as one batched call. A finished
episode (done or failed) is handed to a single writer thread that commits it in one transaction;
an interrupted episode is simply not written, and `--resume` plays it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from autogen_agentchat.messages import TextMessage

from personas.cultures import load_culture
from simulator import prompts
from simulator.agents import PersonaAgent, derive_seed
from simulator.backends.base import Backend, SamplingParams
from simulator.batcher import BatchStats, RequestBatcher
from simulator.events import (
    EpisodeFinished,
    EpisodeStarted,
    EventBus,
    RunFinished,
    RunStarted,
    TurnCompleted,
)
from simulator.manifest import SimulationConfig
from simulator.planning import PlannedEpisode
from simulator.protocol import speaker_order
from simulator.records import Episode, Turn
from simulator.store import RunStore


@dataclass
class RunSummary:
    planned: int
    already_done: int
    done: int = 0
    failed: int = 0
    interrupted: bool = False
    turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    framework_s: float = 0.0  # autogen time around model calls, summed over turns
    elapsed_s: float = 0.0
    batches: dict[str, BatchStats] = field(default_factory=dict)

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def framework_ms_per_turn(self) -> float:
        return 1000 * self.framework_s / self.turns if self.turns else 0.0


class EpisodeWriter:
    """Commits finished episodes from one worker thread, so the event loop never waits on SQLite."""

    def __init__(self, store: RunStore):
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="episode-writer")
        self._pending: list[Future[None]] = []

    def submit(self, episode: Episode) -> None:
        self._pending.append(self._pool.submit(self.store.save_episode, episode))

    async def drain(self) -> None:
        """Wait for every submitted episode to be committed; a failed write is an error of the run."""
        pending, self._pending = self._pending, []
        for future in pending:
            await asyncio.wrap_future(future)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class Engine:
    def __init__(
        self,
        config: SimulationConfig,
        backend: Backend,
        store: RunStore,
        bus: EventBus | None = None,
        run_name: str = "",
    ):
        self.config = config
        self.backend = backend
        self.store = store
        self.bus = bus or EventBus()
        self.run_name = run_name or store.run_dir.name
        self.batcher = RequestBatcher(
            backend, max_batch_size=config.max_batch_size, max_wait_s=config.max_wait_ms / 1000
        )
        self.summary = RunSummary(planned=0, already_done=0)

    async def run(self, planned: Sequence[PlannedEpisode]) -> RunSummary:
        """Play every planned episode not already done in the store; failed ones are tried again."""
        status = self.store.episode_status()
        todo = deque(p for p in planned if status.get(p.plan.id) != "done")
        self.summary = RunSummary(planned=len(planned), already_done=len(planned) - len(todo))
        self.bus.publish(
            RunStarted(
                self.run_name,
                self.backend.name,
                self.backend.model_id,
                self.summary.planned,
                self.summary.already_done,
            )
        )
        writer = EpisodeWriter(self.store)
        started = time.perf_counter()
        workers = [
            asyncio.create_task(self._worker(todo, writer))
            for _ in range(min(self.config.concurrency, len(todo)))
        ]
        try:
            await asyncio.gather(*workers)
        except asyncio.CancelledError:
            self.summary.interrupted = True
            raise
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await self.batcher.aclose()
            await writer.drain()  # every episode that finished is committed, even on Ctrl-C
            writer.close()
            self.summary.elapsed_s = time.perf_counter() - started
            self.summary.batches = self.batcher.stats
            self.bus.publish(RunFinished(self.summary.done, self.summary.failed, self.summary.interrupted))
        return self.summary

    async def _worker(self, todo: deque[PlannedEpisode], writer: EpisodeWriter) -> None:
        # A worker stays a batcher participant between episodes, so the batcher waits for its
        # next episode's first request instead of flushing without it.
        async with self.batcher.participant():
            while todo:
                episode = await self.play(todo.popleft())
                writer.submit(episode)
                if episode.status == "done":
                    self.summary.done += 1
                else:
                    self.summary.failed += 1
                self.bus.publish(EpisodeFinished(episode))

    async def play(self, planned: PlannedEpisode) -> Episode:
        """One episode, start to end. Errors make a failed episode (with the turns so far)."""
        plan, scenario, personas = planned.plan, planned.scenario, planned.personas
        config = self.config
        participants = [prompts.Participant(p, role) for p, role in zip(personas, scenario.roles)]
        culture = load_culture(scenario.culture) if scenario.culture else None
        agents = [
            PersonaAgent(
                name=part.persona.name,
                agent_id=part.persona.id,
                system_prompt=prompts.persona_system_prompt(scenario, participants, index, culture),
                other_names=[o.persona.name for o in participants if o is not part],
                batcher=self.batcher,
                params=SamplingParams(
                    max_new_tokens=config.max_new_tokens,
                    temperature=config.temperature,
                    top_p=config.top_p,
                    seed=derive_seed(plan.seed, index),
                ),
                session_id=f"{plan.id}:{part.persona.id}",
                action_choice=config.action_choice,
                context_messages=config.max_turns + 4,
            )
            for index, part in enumerate(participants)
        ]
        self.bus.publish(
            EpisodeStarted(
                plan.id,
                scenario.id,
                scenario.title,
                scenario.culture,
                [(p.persona.id, p.persona.name, p.role.name) for p in participants],
            )
        )
        started_at = time.time()
        turns: list[Turn] = []
        status, end_reason = "done", "max_turns"
        inbox: list[list[TextMessage]] = [[] for _ in agents]
        inbox[0].append(
            TextMessage(content=prompts.scene_opening(agents[0].other_names), source=prompts.OPENING_SPEAKER)
        )
        try:
            for index, speaker in enumerate(speaker_order(len(agents), config.max_turns)):
                agent, part = agents[speaker], participants[speaker]
                result = await agent.act(inbox[speaker], allow_leave=index >= len(agents))
                inbox[speaker] = []
                turn = Turn(
                    index=index,
                    speaker=part.persona.id,
                    speaker_name=part.persona.name,
                    role=part.role.name,
                    action=result.action,
                    text=result.text,
                    prompt_tokens=result.prompt_tokens,
                    completion_tokens=result.completion_tokens,
                    latency_s=round(result.latency_s, 4),
                )
                turns.append(turn)
                self._count(turn, result.framework_s)
                self.bus.publish(TurnCompleted(plan.id, turn))
                heard = TextMessage(
                    content=prompts.render_turn(agent.name, result.action, result.text),
                    source=agent.agent.name,
                )
                for other, box in enumerate(inbox):
                    if other != speaker:
                        box.append(heard)
                if result.action == "leave":
                    end_reason = f"leave:{part.persona.id}"
                    break
        except Exception as exc:  # a failed episode is recorded and retried on resume, never dropped
            status, end_reason = "failed", f"{type(exc).__name__}: {exc}"[:500]
        finally:
            for agent in agents:
                with contextlib.suppress(Exception):
                    self.backend.end_session(agent.session_id)
        return Episode(
            **plan.model_dump(),
            status=status,
            end_reason=end_reason,
            turns=turns,
            started_at=started_at,
            finished_at=time.time(),
            scenario=scenario.model_dump(mode="json"),
            personas=[p.model_dump(mode="json") for p in personas],
        )

    def _count(self, turn: Turn, framework_s: float) -> None:
        self.summary.turns += 1
        self.summary.prompt_tokens += turn.prompt_tokens
        self.summary.completion_tokens += turn.completion_tokens
        self.summary.framework_s += framework_s
