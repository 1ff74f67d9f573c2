"""Categorical verdicts read from the model's probabilities over the allowed options.

Nothing here parses free text: the backend scores each option as the assistant's reply, the
probabilities are normalised over the options, and the verdict is the most probable option with
its probability as the confidence. An answer counts in the spellings a reply starts with ("yes" and
"Yes"): small models mostly answer "No", and scoring only "no" would miss most of that answer.

Contextual calibration (Zhao et al., 2021, "Calibrate before use"): a model, small ones above all,
prefers some options whatever it is shown (the embedded model says "aligned" with p ~ 0.98 to an
empty conversation). Dividing the probabilities by those the model gives to the same question
without the episode's content removes that prior, so the confidence reflects the evidence.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Sequence

from simulator.backends.base import Backend, ChatMessage, OptionScores, OptionScoringRequest
from simulator.batcher import RequestBatcher
from simulator.records import Verdict

PROBABILITY_FLOOR = 1e-6  # a prior of exactly 0 would make the division meaningless


def spellings(answers: Sequence[str]) -> tuple[list[str], list[int]]:
    """The options to score ('yes', 'Yes', 'no', 'No') and the index of the answer each spells."""
    options: list[str] = []
    owners: list[int] = []
    for index, answer in enumerate(answers):
        for spelling in dict.fromkeys([answer, answer[:1].upper() + answer[1:]]):
            options.append(spelling)
            owners.append(index)
    return options, owners


def answer_probabilities(scores: OptionScores, owners: Sequence[int], n_answers: int) -> list[float]:
    """Probabilities over the answers: each the sum over its spellings (already normalised)."""
    totals = [0.0] * n_answers
    for probability, owner in zip(scores.probabilities, owners):
        totals[owner] += probability
    return totals


def answer_request(
    messages: list[ChatMessage], answers: Sequence[str]
) -> tuple[OptionScoringRequest, list[int]]:
    options, owners = spellings(answers)
    return OptionScoringRequest(messages=messages, options=options), owners


def verdict_from_probabilities(options: Sequence[str], probabilities: Sequence[float]) -> Verdict:
    if len(probabilities) != len(options):
        raise ValueError(f"got {len(probabilities)} probabilities for {len(options)} options")
    best = max(range(len(options)), key=lambda i: probabilities[i])  # ties go to the first option
    return Verdict(
        label=options[best],
        confidence=min(1.0, max(0.0, probabilities[best])),
        probabilities={option: p for option, p in zip(options, probabilities)},
    )


def calibrate(probabilities: Sequence[float], prior: Sequence[float]) -> list[float]:
    """p(option | episode) / p(option | no content), renormalised."""
    if len(probabilities) != len(prior):
        raise ValueError("probabilities and prior differ in length")
    weights = [p / max(q, PROBABILITY_FLOOR) for p, q in zip(probabilities, prior)]
    total = sum(weights)
    return [w / total for w in weights]


async def score_verdicts(
    backend: Backend, questions: Sequence[tuple[list[ChatMessage], list[str], list[str]]]
) -> list[Verdict]:
    """One backend call for many (messages, answers, labels) questions, uncalibrated."""
    if not questions:
        return []
    requests = [answer_request(messages, answers) for messages, answers, _ in questions]
    scores = await backend.score_options([request for request, _ in requests])
    return [
        verdict_from_probabilities(labels, answer_probabilities(score, owners, len(labels)))
        for (_, _, labels), (_, owners), score in zip(questions, requests, scores)
    ]


class PriorCache:
    """Content-free probabilities by prompt. Most priors repeat (the quality question's is the same
    for every episode, the alignment question's for every episode of a culture), so each is
    scored once; concurrent episodes asking for the same prior share one pending request."""

    def __init__(self, batcher: RequestBatcher, max_entries: int = 512):
        self.batcher = batcher
        self.max_entries = max_entries
        self._entries: OrderedDict[str, asyncio.Future[list[float]]] = OrderedDict()

    async def get(self, messages: list[ChatMessage], answers: list[str]) -> list[float]:
        key = json.dumps([messages, answers])
        future = self._entries.get(key)
        if future is None:
            future = asyncio.ensure_future(self._score(messages, answers))
            self._entries[key] = future
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        try:
            return list(await asyncio.shield(future))
        except Exception:
            self._entries.pop(key, None)  # a failed request is not cached
            raise

    async def _score(self, messages: list[ChatMessage], answers: list[str]) -> list[float]:
        request, owners = answer_request(messages, answers)
        return answer_probabilities(await self.batcher.score_options(request), owners, len(answers))
