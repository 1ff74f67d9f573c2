"""Drivers of the live view: engine events in this process, or a run store (another process, replay).

The screen is redrawn at a bounded rate by rich.Live from a RunState, never once per event, so a
fast run is not slowed by its view. Without a terminal, each turn becomes one plain line.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.live import Live

from simulator.events import EventBus, TurnCompleted
from simulator.records import Episode
from simulator.store import RunStore
from simulator.tui.render import plain_line, render_conversation, render_dashboard
from simulator.tui.state import ConversationView, RunState

REFRESH_PER_SECOND = 4
REPLAY_TURN_SECONDS = 1.0  # at --speed 1
REPLAY_PARALLEL = 6


def _screen(state: RunState, console: Console, episode_id: str | None = None):
    width, height = console.size
    if episode_id and episode_id in state.conversations:
        return render_conversation(state.conversations[episode_id], width, height)
    return render_dashboard(state, width, height)


async def show_events(bus: EventBus, state: RunState, console: Console | None = None) -> None:
    """Consume engine events until RunFinished; cancel the task to stop early."""
    console = console or Console()
    queue = bus.subscribe()
    try:
        if not console.is_terminal:
            while not state.finished:
                event = await queue.get()
                state.apply(event)
                if isinstance(event, TurnCompleted):
                    console.print(
                        plain_line(state.conversations.get(event.episode_id), event.turn),
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
            return
        with Live(
            console=console, refresh_per_second=REFRESH_PER_SECOND, screen=False, transient=False
        ) as live:
            live.update(_screen(state, console))
            while not state.finished:
                event = await queue.get()
                state.apply(event)
                while not queue.empty():  # drain what arrived meanwhile, then let Live redraw
                    state.apply(queue.get_nowait())
                live.update(_screen(state, console), refresh=False)
    finally:
        bus.unsubscribe(queue)


class StoreReplayer:
    """Plays stored episodes into a RunState turn by turn, polling the store for new ones."""

    def __init__(
        self, run_dir: str | Path, state: RunState, speed: float = 1.0, episode_id: str | None = None
    ):
        self.store = RunStore(run_dir, readonly=True)
        self.state = state
        self.turn_seconds = REPLAY_TURN_SECONDS / max(speed, 0.01)
        self.episode_id = episode_id
        self.pending: deque[Episode] = deque()
        self.active: list[tuple[ConversationView, Episode, int]] = []
        self.seen: set[str] = set()
        self.last_finished_at = 0.0

    def poll(self) -> None:
        for episode in self.store.episodes(status=None, since=self.last_finished_at):
            self.last_finished_at = max(self.last_finished_at, episode.finished_at)
            if episode.id in self.seen or (self.episode_id and episode.id != self.episode_id):
                continue
            self.seen.add(episode.id)
            self.pending.append(episode)
        self.state.judge_summary = self.store.get_value("judge_summary")
        self.state.planned = max(self.state.planned, self.store.get_value("planned", 0) or 0, len(self.seen))

    def run_is_working(self) -> bool:
        return self.store.get_value("status") == "running"

    def step(self) -> list[tuple[ConversationView, object]]:
        """Advance every active replay by one turn; returns the (conversation, turn) pairs shown."""
        while self.pending and len(self.active) < REPLAY_PARALLEL:
            episode = self.pending.popleft()
            conversation = self.state.start_conversation(episode, self.store.judgement(episode.id))
            if conversation is not None:
                self.active.append((conversation, episode, 0))
        shown, still_active = [], []
        for conversation, episode, position in self.active:
            if position < len(episode.turns):
                turn = episode.turns[position]
                self.state.add_turn(conversation, turn)
                shown.append((conversation, turn))
                still_active.append((conversation, episode, position + 1))
            else:
                self.state.end_conversation(conversation, episode)
        self.active = still_active
        return shown

    @property
    def idle(self) -> bool:
        return not self.pending and not self.active

    def close(self) -> None:
        self.store.close()


def watch_store(
    run_dir: str | Path,
    speed: float = 1.0,
    episode_id: str | None = None,
    culture: str | None = None,
    console: Console | None = None,
    follow: bool = True,
) -> int:
    """Replay a run's stored conversations; with `follow`, wait for new ones while the run works.

    Returns the number of conversations shown.
    """
    console = console or Console()
    state = RunState(run_name=Path(run_dir).name, backend="store", culture_filter=culture)
    manifest = Path(run_dir) / "manifest.json"
    if manifest.exists():
        backend = json.loads(manifest.read_text()).get("backend", {})
        state.backend, state.model = backend.get("backend", "?"), backend.get("model", "")
    replayer = StoreReplayer(run_dir, state, speed, episode_id)
    try:
        replayer.poll()
        if console.is_terminal:
            with Live(console=console, refresh_per_second=REFRESH_PER_SECOND) as live:
                redraw = lambda _shown: live.update(_screen(state, console, episode_id))  # noqa: E731
                _replay_loop(replayer, follow, redraw)
        else:

            def print_turns(shown: list) -> None:
                for conversation, turn in shown:
                    console.print(
                        plain_line(conversation, turn), markup=False, highlight=False, soft_wrap=True
                    )

            _replay_loop(replayer, follow, print_turns)
        state.finished = True
        return len(replayer.seen)
    finally:
        replayer.close()


def _replay_loop(replayer: StoreReplayer, follow: bool, show: Callable[[list], None]) -> None:
    while True:
        shown = replayer.step()
        show(shown)
        if replayer.idle:
            replayer.poll()
            if replayer.idle and not (follow and replayer.run_is_working()):
                return
        time.sleep(replayer.turn_seconds if shown else min(0.5, replayer.turn_seconds))
