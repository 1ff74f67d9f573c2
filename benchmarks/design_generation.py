"""Model-driven design with the embedded model: wall time, model calls and valid drafts per strategy.

    python benchmarks/design_generation.py [-n 4] [--strategies fields,json] [--kinds scenarios,personas]

Every strategy drafts the same n gift-giving scenarios, then n German personas; a counting proxy
around the backend counts the batched model calls (one `generate` per round, not one per draft).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from typing import Any

from common import record_results

from personas.cultures import load_culture
from personas.library import load_personas
from scenarios.library import load_base_scenarios
from simulator.backends.base import Backend, GenerationRequest, OptionScoringRequest
from simulator.backends.registry import create_backend
from simulator.design.drafting import DraftSettings
from simulator.design.persona_generation import generate_personas
from simulator.design.scenario_generation import generate_scenarios, pick_example


class CountingBackend(Backend):
    def __init__(self, inner: Backend):
        self.inner = inner
        self.generate_calls = self.generated_tokens = self.score_calls = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Any]:
        self.generate_calls += 1
        replies = await self.inner.generate(requests)
        self.generated_tokens += sum(r.completion_tokens for r in replies)
        return replies

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[Any]:
        self.score_calls += 1
        return await self.inner.score_options(requests)


async def measure(kind: str, strategy: str, n: int, retries: int, backend: Backend) -> dict[str, Any]:
    counting = CountingBackend(backend)
    settings = DraftSettings(strategy=strategy, retries=retries, seed=0)  # type: ignore[arg-type]
    started = time.perf_counter()
    if kind == "scenarios":
        library = load_base_scenarios()
        example = pick_example("gift giving", library)
        report = await generate_scenarios(
            counting, "gift giving", n, example, settings, {s.id for s in library}
        )
    else:
        example = load_personas("german")[0]
        report = await generate_personas(counting, load_culture("german"), n, example, settings)
    seconds = time.perf_counter() - started
    return {
        "records": kind,
        "strategy": strategy,
        "n": n,
        "retries": retries,
        "valid": len(report.records),
        "generate calls": counting.generate_calls,
        "score calls": counting.score_calls,
        "new tokens": counting.generated_tokens,
        "seconds": f"{seconds:.1f}",
        "s per valid record": f"{seconds / max(1, len(report.records)):.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=4)
    parser.add_argument("--strategies", default="fields,json")
    parser.add_argument("--kinds", default="scenarios,personas")
    parser.add_argument("--retries", type=int, default=2)
    args = parser.parse_args()
    backend = create_backend("transformers")
    rows = [
        asyncio.run(measure(kind, strategy, args.n, args.retries, backend))
        for kind in args.kinds.split(",")
        for strategy in args.strategies.split(",")
    ]
    record_results(
        "Design: drafting scenarios and personas with the embedded model (SmolLM2-135M, CPU)",
        rows,
        notes="Wall time on a shared CPU (other jobs running); temperature 0.7, seed 0.",
    )


if __name__ == "__main__":
    main()
