"""Helpers of the evaluation tests: a culture profile written for the tests and a fake scorer."""

from __future__ import annotations

import math
from collections.abc import Sequence

from personas.schema import CultureProfile
from simulator.backends.base import Backend, Generation, GenerationRequest, OptionScores, OptionScoringRequest


def make_culture(culture_id: str = "testland", country: str = "Testland", **hofstede: int) -> CultureProfile:
    scores = {
        "power_distance": 50,
        "individualism": 50,
        "masculinity": 50,
        "uncertainty_avoidance": 50,
        "long_term_orientation": 50,
        "indulgence": 50,
    } | hofstede
    return CultureProfile.model_validate(
        {
            "id": culture_id,
            "name": f"{country}ian",
            "country": country,
            "country_code": "TL",
            "language": "English",
            "hofstede": scores,
            "inglehart_welzel": {"traditional_secular": 0.5, "survival_self_expression": -0.5},
            "demographics": {
                "age_bands": {"18-29": 1, "30-49": 2, "50-79": 2},
                "gender": {"female": 1, "male": 1},
                "education": {"primary": 1, "secondary": 2, "tertiary": 1},
                "settlement": {"urban": 3, "rural": 1},
                "occupation_groups": {"office work": 1, "manual work": 1},
                "marital_status": {"married": 2, "single": 1},
                "household_size": {"1": 1, "2": 1, "3": 1},
            },
            "naming": {
                "given_names": {"female": ["Ana"], "male": ["Ben"]},
                "family_names": ["Doe"],
                "cities": ["Testville"],
            },
            "sources": ["written for the tests"],
        }
    )


class FixedDistributionScorer(Backend):
    """A pure-logic stand-in for a model: for each request, the distribution registered for the first
    registered text found in its prompt (question text -> option probabilities). Unit tests only."""

    name = "fixed"

    def __init__(self, distributions: dict[str, Sequence[float]]):
        self.distributions = distributions
        self.calls: list[int] = []

    @property
    def model_id(self) -> str:
        return "fixed-distribution"

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        raise NotImplementedError

    async def score_options(self, requests: Sequence[OptionScoringRequest]) -> list[OptionScores]:
        self.calls.append(len(requests))
        scores = []
        for request in requests:
            prompt = request.messages[-1]["content"]
            distribution = next(d for text, d in self.distributions.items() if text in prompt)
            assert len(distribution) == len(request.options)
            scores.append(OptionScores([math.log(p) if p > 0 else -1e9 for p in distribution]))
        return scores
