"""The judge on the real embedded model: verdict probabilities, intents on every turn, resumability."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest
from judge_samples import CONVERSATIONS, make_episode

from simulator.batcher import RequestBatcher
from simulator.judge import prompts
from simulator.judge.agent import JudgeSettings
from simulator.judge.intents import IntentSettings
from simulator.judge.runner import SUMMARY_KEY, judge_episodes
from simulator.judge.verdicts import score_verdicts
from simulator.store import RunStore

pytestmark = pytest.mark.model

TINY = JudgeSettings(intents=IntentSettings(max_words=8, reason_max_words=8, retries=1), critique_max_words=8)


async def _judge(store: RunStore, backend) -> object:
    batcher = RequestBatcher(backend)
    try:
        return await judge_episodes(store, batcher, backend.model_id, TINY, concurrency=4)
    finally:
        await batcher.aclose()


@pytest.fixture(scope="module")
def judged_run(embedded_backend, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    run = tmp_path_factory.mktemp("judged")
    episodes = [make_episode(0, CONVERSATIONS[2][:2], 10.0)]
    with RunStore(run) as store:
        for episode in episodes:
            store.save_episode(episode)
        progress = asyncio.run(_judge(store, embedded_backend))
    assert (progress.judged, progress.failed) == (1, 0), progress.errors
    return run, [episode.id for episode in episodes]


def test_option_probabilities_of_raw_verdicts_sum_to_one(embedded_backend) -> None:
    episode = make_episode(0, CONVERSATIONS[0], 1.0)
    culture = prompts.CultureContext(name="Japanese")
    questions = [
        (prompts.quality_messages(episode), prompts.ANSWERS, prompts.QUALITY_OPTIONS),
        (prompts.alignment_messages(episode, culture), prompts.ANSWERS, prompts.ALIGNMENT_OPTIONS),
    ]
    verdicts = asyncio.run(score_verdicts(embedded_backend, questions))
    for verdict, (_, _, options) in zip(verdicts, questions):
        assert list(verdict.probabilities) == options
        assert math.isclose(sum(verdict.probabilities.values()), 1.0, abs_tol=1e-9)
        assert verdict.confidence == max(verdict.probabilities.values())


def test_stored_verdicts_are_calibrated_distributions_over_their_options(judged_run) -> None:
    run, ids = judged_run
    with RunStore(run, readonly=True) as store:
        for episode_id in ids:
            judgement = store.judgement(episode_id)
            for verdict, options in [
                (judgement.quality, prompts.QUALITY_OPTIONS),
                (judgement.alignment, prompts.ALIGNMENT_OPTIONS),
                (judgement.meta_review, prompts.META_REVIEW_OPTIONS),
            ]:
                assert list(verdict.probabilities) == options and verdict.label in options
                assert math.isclose(sum(verdict.probabilities.values()), 1.0, abs_tol=1e-9)
                assert verdict.confidence == verdict.probabilities[verdict.label]
            assert judgement.judge_model == "SmolLM2-135M-Instruct"
        assert store.get_value(SUMMARY_KEY)["judged"] == 1


def test_every_turn_of_a_judged_episode_has_a_bounded_intent(judged_run) -> None:
    run, ids = judged_run
    with RunStore(run, readonly=True) as store:
        for episode_id in ids:
            turns = store.turns(episode_id)
            assert turns
            for turn in turns:
                assert turn.intent and turn.intent.strip()
                assert len(turn.intent.split()) <= TINY.intents.max_words
                assert turn.intent_reason is not None


def test_a_second_run_judges_nothing_again(judged_run, embedded_backend) -> None:
    run, ids = judged_run
    with RunStore(run) as store:
        before = {j.episode_id: j.created_at for j in store.judgements()}
        progress = asyncio.run(_judge(store, embedded_backend))
        after = {j.episode_id: j.created_at for j in store.judgements()}
    assert (progress.total, progress.judged) == (0, 0)
    assert after == before and set(after) == set(ids)
