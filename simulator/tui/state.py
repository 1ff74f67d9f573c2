"""What the live view shows, kept apart from how it is drawn.

`RunState` is fed engine events (`apply`) while a run works in this process, or episodes read from
a run store (`add_finished_episode`) when watching another process or replaying. It keeps only
what the screen needs: active conversations and a bounded number of recent ones, so memory stays
flat however long the run.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from simulator.events import EpisodeFinished, EpisodeStarted, Event, RunFinished, RunStarted, TurnCompleted
from simulator.records import Episode, Judgement, Turn

TURNS_KEPT = 8  # per conversation; the grid shows the last few
RECENT_KEPT = 12  # finished conversations kept on screen after they end


@dataclass
class ConversationView:
    episode_id: str
    title: str
    culture: str | None
    participants: list[tuple[str, str, str]]  # (persona id, name, role)
    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=TURNS_KEPT))
    status: str = "running"  # running | done | failed
    end_reason: str = ""
    judgement: Judgement | None = None

    def speaker_index(self, persona_id: str) -> int:
        for index, (pid, _, _) in enumerate(self.participants):
            if pid == persona_id:
                return index
        return 0


@dataclass
class RunState:
    run_name: str = ""
    backend: str = ""
    model: str = ""
    planned: int = 0
    done: int = 0
    failed: int = 0
    turns: int = 0
    tokens: int = 0
    started_at: float = field(default_factory=time.monotonic)
    finished: bool = False
    culture_filter: str | None = None
    conversations: OrderedDict[str, ConversationView] = field(default_factory=OrderedDict)
    judge_summary: dict | None = None

    # -- derived figures --------------------------------------------------------------------------

    @property
    def running(self) -> int:
        return sum(1 for c in self.conversations.values() if c.status == "running")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def rate(self, count: int) -> float:
        return count / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        finished = self.done + self.failed
        remaining = self.planned - finished
        if finished == 0 or remaining <= 0:
            return None
        return remaining * self.elapsed / finished

    # -- feeding ----------------------------------------------------------------------------------

    def _visible(self, culture: str | None) -> bool:
        return self.culture_filter is None or culture == self.culture_filter

    def apply(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.run_name, self.backend, self.model = event.run_name, event.backend, event.model
            self.planned, self.done = event.planned, event.already_done
        elif isinstance(event, EpisodeStarted):
            if self._visible(event.culture):
                self.conversations[event.episode_id] = ConversationView(
                    event.episode_id, event.scenario_title, event.culture, list(event.participants)
                )
        elif isinstance(event, TurnCompleted):
            self.turns += 1
            self.tokens += event.turn.completion_tokens
            if conversation := self.conversations.get(event.episode_id):
                conversation.turns.append(event.turn)
        elif isinstance(event, EpisodeFinished):
            self._finish(event.episode)
        elif isinstance(event, RunFinished):
            self.finished = True

    def _finish(self, episode: Episode) -> None:
        if episode.status == "done":
            self.done += 1
        else:
            self.failed += 1
        if conversation := self.conversations.get(episode.id):
            conversation.status, conversation.end_reason = episode.status, episode.end_reason
        self._trim()

    def start_conversation(
        self, episode: Episode, judgement: Judgement | None = None
    ) -> ConversationView | None:
        """Open a stored episode's conversation for replay; its turns are added one by one."""
        if not self._visible(episode.culture):
            return None
        names = {p.get("id"): p.get("name", p.get("id")) for p in episode.personas}
        roles = {turn.speaker: turn.role for turn in episode.turns}
        participants = [(pid, names.get(pid, pid), roles.get(pid, "")) for pid in episode.persona_ids]
        conversation = ConversationView(
            episode.id, episode.scenario.get("title", episode.scenario_id), episode.culture, participants
        )
        conversation.judgement = judgement
        self.conversations[episode.id] = conversation
        return conversation

    def add_turn(self, conversation: ConversationView, turn: Turn) -> None:
        conversation.turns.append(turn)
        self.turns += 1
        self.tokens += turn.completion_tokens

    def end_conversation(self, conversation: ConversationView, episode: Episode) -> None:
        conversation.status, conversation.end_reason = episode.status, episode.end_reason
        if episode.status == "done":
            self.done += 1
        else:
            self.failed += 1
        self._trim()

    def _trim(self) -> None:
        finished = [key for key, c in self.conversations.items() if c.status != "running"]
        for key in finished[: max(0, len(finished) - RECENT_KEPT)]:
            del self.conversations[key]
