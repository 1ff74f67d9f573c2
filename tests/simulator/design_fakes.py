"""A scripted stand-in for a model, for unit tests of the drafting logic only."""

from __future__ import annotations

from collections.abc import Sequence

from simulator.backends.base import Backend, Generation, GenerationRequest, OptionScores, OptionScoringRequest


class ScriptedBackend(Backend):
    """Replies from a script, in order; records every request it was sent."""

    name = "scripted"

    def __init__(self, replies: Sequence[str]):
        self.replies = list(replies)
        self.requests: list[GenerationRequest] = []
        self.model_id_override: str | None = None

    @property
    def model_id(self) -> str:
        return self.model_id_override or "scripted-model"

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.requests += requests
        return [Generation(self.replies.pop(0), 10, 10) for _ in requests]

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        return [OptionScores([0.0] * len(r.options)) for r in requests]
