"""The one interface every backend implements.

Backends take *lists* of requests: the batcher above them coalesces the requests of many
concurrent conversations into one call, and each backend turns that list into its own kind of
batching (one padded `generate`, vLLM continuous batching, concurrent HTTP requests).
Both methods are async and must never block the event loop: CPU/GPU work runs in a worker thread.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int = 64
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int | None = None
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


@dataclass
class GenerationRequest:
    messages: list[ChatMessage]
    params: SamplingParams = field(default_factory=SamplingParams)
    # Requests of one conversation share a session id, so a backend may keep its KV cache.
    session_id: str | None = None


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


@dataclass
class OptionScoringRequest:
    """Score each option as the assistant's reply to `messages` (optionally after a reply prefix)."""

    messages: list[ChatMessage]
    options: list[str]
    assistant_prefix: str = ""
    # A conversation's session id lets a backend reuse that conversation's cached prompt prefix.
    session_id: str | None = None


@dataclass
class OptionScores:
    logprobs: list[float]  # summed log-probability of each option's tokens

    @property
    def probabilities(self) -> list[float]:
        """Normalised over the options (softmax of the summed log-probabilities)."""
        top = max(self.logprobs)
        weights = [math.exp(lp - top) for lp in self.logprobs]
        total = sum(weights)
        return [w / total for w in weights]


class Backend(ABC):
    """A model that can chat and can score a fixed set of answer options."""

    name: str = "backend"

    @property
    @abstractmethod
    def model_id(self) -> str:
        """A name for the model that identifies it in manifests and caches."""

    @abstractmethod
    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Generate one reply per request, in order."""

    @abstractmethod
    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        """Log-probability of every option of every request, in order."""

    async def choose(self, requests: Sequence[OptionScoringRequest]) -> list[int]:
        """Index of the chosen option of every request: the most probable one.

        Backends with guided decoding (vLLM's structured-output choice) override this.
        """
        scores = await self.score_options(requests)
        return [max(range(len(s.logprobs)), key=s.logprobs.__getitem__) for s in scores]

    def describe(self) -> dict[str, Any]:
        """What a manifest records about the backend (model, revision or file hash, dtype...)."""
        return {"backend": self.name, "model": self.model_id}

    def end_session(self, session_id: str) -> None:  # noqa: B027 - optional hook
        """A conversation is over: drop whatever per-session state (KV cache) the backend keeps."""

    def preferred_batch_size(self) -> int:
        return 32

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release model memory, connections or servers."""
