"""Events the engine publishes while a run works; the live view and the progress bar consume them.

Publishing never blocks the simulation: each subscriber has its own bounded queue and a slow
subscriber loses its oldest events rather than slowing the run (it can re-read the store).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from simulator.records import Episode, Turn


@dataclass
class RunStarted:
    run_name: str
    backend: str
    model: str
    planned: int
    already_done: int


@dataclass
class EpisodeStarted:
    episode_id: str
    scenario_id: str
    scenario_title: str
    culture: str | None
    participants: list[tuple[str, str, str]]  # (persona id, persona name, role name)


@dataclass
class TurnCompleted:
    episode_id: str
    turn: Turn


@dataclass
class EpisodeFinished:
    episode: Episode  # status 'done' or 'failed'


@dataclass
class RunFinished:
    done: int
    failed: int
    interrupted: bool = False


Event = RunStarted | EpisodeStarted | TurnCompleted | EpisodeFinished | RunFinished


@dataclass
class EventBus:
    max_queued: int = 10_000
    _queues: list[asyncio.Queue[Event]] = field(default_factory=list)

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self.max_queued)
        self._queues.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._queues.remove(queue)

    def publish(self, event: Event) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()  # drop the oldest rather than block the engine
            queue.put_nowait(event)
