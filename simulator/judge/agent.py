"""The judge agent: an autogen RoutedAgent that owns the judging of one episode per message.

Categorical verdicts go through option scoring (autogen has no API for it), free text (the
critique and the intents) through the agent's autogen ChatCompletionClient. Both paths end in
batchers, so the many episodes the runtime judges concurrently share batched model calls.
The agent keeps no per-episode state, so one instance serves every concurrent message.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from autogen_core import MessageContext, RoutedAgent, message_handler
from autogen_core.models import LLMMessage, SystemMessage, UserMessage
from pydantic import BaseModel

from simulator.agents import BatchedChatClient
from simulator.backends.base import ChatMessage, SamplingParams
from simulator.batcher import RequestBatcher
from simulator.judge import prompts
from simulator.judge.filter import FilterRule
from simulator.judge.intents import (
    PHRASE_STOP,
    IntentSettings,
    TextGenerator,
    TurnIntent,
    clean_phrase,
    episode_intents,
    tokens_for_words,
)
from simulator.judge.prompts import CultureContext
from simulator.judge.verdicts import (
    PriorCache,
    answer_probabilities,
    answer_request,
    calibrate,
    verdict_from_probabilities,
)
from simulator.records import Episode, Judgement, Verdict

CONFIDENCE_BANDS = ("not sure", "confident", "very confident")
NO_REVIEW = ("N/A", "N/A")


@dataclass(frozen=True)
class JudgeSettings:
    rule: FilterRule = field(default_factory=FilterRule)
    intents: IntentSettings = field(default_factory=IntentSettings)
    critique_max_words: int = 40
    # Reasons for intents are asked for only when the alignment verdict is at least this sure.
    reason_min_band: str = "confident"
    with_intents: bool = True
    calibrate: bool = True  # divide out the model's content-free prior (see verdicts.py)

    def __post_init__(self) -> None:
        if self.reason_min_band not in CONFIDENCE_BANDS:
            raise ValueError(f"reason_min_band must be one of {CONFIDENCE_BANDS}")


class JudgeEpisode(BaseModel):
    """The message that asks the judge agent for one episode's judgement."""

    episode: Episode
    culture: CultureContext


class EpisodeJudged(BaseModel):
    judgement: Judgement
    intents: dict[int, TurnIntent]

    @property
    def fallback_intents(self) -> int:
        return sum(intent.fallback for intent in self.intents.values())


def to_autogen(messages: list[ChatMessage]) -> list[LLMMessage]:
    converted: list[LLMMessage] = []
    for message in messages:
        if message["role"] == "system":
            converted.append(SystemMessage(content=message["content"]))
        elif message["role"] == "user":
            converted.append(UserMessage(content=message["content"], source="user"))
        else:
            raise ValueError("judge prompts contain only system and user messages")
    return converted


def client_generator(batcher: RequestBatcher) -> TextGenerator:
    """Free text through the project's autogen model client, one client per sampling setting
    (BatchedChatClient fixes its parameters at construction; its seed comes from `params.seed`)."""

    async def generate(messages: list[ChatMessage], params: SamplingParams) -> str:
        result = await BatchedChatClient(batcher, params).create(to_autogen(messages))
        return result.content if isinstance(result.content, str) else ""

    return generate


# (messages, the same without the episode's content, the answers scored, the verdict label of each answer)
Question = tuple[list[ChatMessage], list[ChatMessage], list[str], list[str]]


def band_at_least(verdict: Verdict, band: str) -> bool:
    return CONFIDENCE_BANDS.index(verdict.confidence_band) >= CONFIDENCE_BANDS.index(band)


class JudgeAgent(RoutedAgent):
    def __init__(self, batcher: RequestBatcher, judge_model: str, settings: JudgeSettings | None = None):
        super().__init__("Judges role-play episodes: quality, cultural alignment, meta-review, intents.")
        self.generate = client_generator(batcher)
        self.batcher = batcher
        self.priors = PriorCache(batcher)
        self.judge_model = judge_model
        self.settings = settings or JudgeSettings()

    async def _verdict(self, question: Question) -> Verdict:
        messages, content_free_messages, answers, labels = question
        # Each request joins the batcher's score lane with those of every other episode in flight.
        request, owners = answer_request(messages, answers)
        if not self.settings.calibrate:
            scores = await self.batcher.score_options(request)
            return verdict_from_probabilities(labels, answer_probabilities(scores, owners, len(answers)))
        scores, prior = await asyncio.gather(
            self.batcher.score_options(request), self.priors.get(content_free_messages, list(answers))
        )
        probabilities = answer_probabilities(scores, owners, len(answers))
        return verdict_from_probabilities(labels, calibrate(probabilities, prior))

    async def _verdicts(self, questions: list[Question]) -> list[Verdict]:
        return list(await asyncio.gather(*(self._verdict(q) for q in questions)))

    async def _critique(
        self, episode: Episode, culture: CultureContext, quality: Verdict, alignment: Verdict
    ) -> str:
        messages = prompts.critique_messages(
            episode,
            culture,
            (quality.label, quality.confidence_band),
            (alignment.label, alignment.confidence_band),
        )
        params = SamplingParams(
            max_new_tokens=tokens_for_words(self.settings.critique_max_words),
            temperature=0.0,
            seed=0,
            stop=PHRASE_STOP,
        )
        text = clean_phrase(await self.generate(messages, params), self.settings.critique_max_words)
        return text + "." if text else ""

    async def _meta_review(
        self, episode: Episode, culture: CultureContext, quality: Verdict, alignment: Verdict
    ) -> tuple[Verdict, str]:
        critique = await self._critique(episode, culture, quality, alignment)
        review = (
            culture,
            (quality.label, quality.confidence_band),
            (alignment.label, alignment.confidence_band),
            critique,
        )
        meta_review = await self._verdict(
            (
                prompts.meta_review_messages(episode, *review),
                # Content-free means the review too: one prior per culture, scored once.
                prompts.meta_review_messages(
                    prompts.content_free(episode), culture, NO_REVIEW, NO_REVIEW, ""
                ),
                prompts.ANSWERS,
                prompts.META_REVIEW_OPTIONS,
            )
        )
        return meta_review, critique

    async def _intents(
        self, episode: Episode, culture: CultureContext, alignment: Verdict
    ) -> dict[int, TurnIntent]:
        if not (self.settings.with_intents and episode.turns):
            return {}
        with_reason = band_at_least(alignment, self.settings.reason_min_band)
        return await episode_intents(episode, culture, with_reason, self.generate, self.settings.intents)

    async def judge(self, episode: Episode, culture: CultureContext) -> EpisodeJudged:
        """Quality and alignment first; then the meta-review and the intents side by side (the
        intents' reasons depend on how sure the alignment verdict is)."""
        empty = prompts.content_free(episode)
        quality, alignment = await self._verdicts(
            [
                (
                    prompts.quality_messages(episode),
                    prompts.quality_messages(empty),
                    prompts.ANSWERS,
                    prompts.QUALITY_OPTIONS,
                ),
                (
                    prompts.alignment_messages(episode, culture),
                    prompts.alignment_messages(empty, culture),
                    prompts.ANSWERS,
                    prompts.ALIGNMENT_OPTIONS,
                ),
            ]
        )
        (meta_review, critique), intents = await asyncio.gather(
            self._meta_review(episode, culture, quality, alignment),
            self._intents(episode, culture, alignment),
        )
        judgement = Judgement(
            episode_id=episode.id,
            quality=quality,
            alignment=alignment,
            meta_review=meta_review,
            critique=critique,
            kept=self.settings.rule.keep(quality, alignment, meta_review),
            judge_model=self.judge_model,
            created_at=time.time(),
        )
        return EpisodeJudged(judgement=judgement, intents=intents)

    @message_handler
    async def on_judge_episode(self, message: JudgeEpisode, ctx: MessageContext) -> EpisodeJudged:
        return await self.judge(message.episode, message.culture)
