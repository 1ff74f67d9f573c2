"""Inference backends behind one interface: transformers (embedded default), vllm, openai."""

from simulator.backends.base import (
    Backend,
    ChatMessage,
    Generation,
    GenerationRequest,
    OptionScores,
    OptionScoringRequest,
    SamplingParams,
)

__all__ = [
    "Backend",
    "ChatMessage",
    "Generation",
    "GenerationRequest",
    "OptionScores",
    "OptionScoringRequest",
    "SamplingParams",
]
