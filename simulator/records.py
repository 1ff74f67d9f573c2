"""What a run produces: episodes, their turns, and the judge's verdicts on them."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, Field

Action = Literal["speak", "non-verbal", "leave", "none"]
EpisodeStatus = Literal["done", "failed"]


def episode_id(scenario_id: str, persona_ids: list[str], sample_index: int, seed: int) -> str:
    """Stable id from what defines an episode, so a resumed run recognises finished work."""
    key = json.dumps([scenario_id, persona_ids, sample_index, seed])
    return "ep-" + hashlib.sha256(key.encode()).hexdigest()[:16]


class Turn(BaseModel):
    index: int
    speaker: str = Field(description="Persona id")
    speaker_name: str
    role: str = Field(description="Scenario role name")
    action: Action
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    intent: str | None = None
    intent_reason: str | None = None


class EpisodePlan(BaseModel):
    """One planned conversation: a scenario, the personas cast into its roles, a sample index and a seed."""

    id: str
    scenario_id: str
    culture: str | None
    persona_ids: list[str]
    sample_index: int
    seed: int


class Episode(EpisodePlan):
    status: EpisodeStatus
    end_reason: str = Field(description="'leave:<persona>', 'max_turns', or the error for a failed episode")
    turns: list[Turn] = Field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0
    scenario: dict[str, Any] = Field(default_factory=dict, description="The scenario as simulated")
    personas: list[dict[str, Any]] = Field(default_factory=list, description="The personas as simulated")


class Verdict(BaseModel):
    """A categorical judgement read from the model's probabilities over the allowed options."""

    label: str
    confidence: float = Field(ge=0, le=1)
    probabilities: dict[str, float]

    @property
    def confidence_band(self) -> str:
        """CLCA's three-level confidence, mapped from the probability."""
        if self.confidence >= 0.8:
            return "very confident"
        if self.confidence >= 0.6:
            return "confident"
        return "not sure"


class Judgement(BaseModel):
    episode_id: str
    quality: Verdict
    alignment: Verdict
    meta_review: Verdict
    critique: str = ""
    kept: bool
    judge_model: str
    created_at: float = 0.0
