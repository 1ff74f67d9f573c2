"""The judge's pure logic: the filter rule, verdicts from probabilities, calibration, intent cleaning."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from judge_samples import sample_episodes, write_run

from simulator.backends.base import OptionScores
from simulator.cli import main
from simulator.judge import prompts
from simulator.judge.filter import FilterRule
from simulator.judge.intents import FALLBACK_REASON, clean_phrase, echoes, is_fallback, is_repetitive, usable
from simulator.judge.runner import apply_rule, pending_episodes, summarize
from simulator.judge.verdicts import answer_probabilities, calibrate, spellings, verdict_from_probabilities
from simulator.records import Judgement, Verdict
from simulator.store import RunStore


def verdict(label: str, confidence: float, options: tuple[str, str] = ("good", "bad")) -> Verdict:
    other = options[1] if label == options[0] else options[0]
    return Verdict(
        label=label, confidence=confidence, probabilities={label: confidence, other: 1 - confidence}
    )


QUALITY = {
    "good-sure": verdict("good", 0.9),
    "bad-sure": verdict("bad", 0.9),
    "bad-unsure": verdict("bad", 0.7),
}
META = {
    "good-sure": verdict("good", 0.95),
    "bad-sure": verdict("bad", 0.85),
    "bad-unsure": verdict("bad", 0.55),
}
ALIGNMENT = {
    "aligned": verdict("aligned", 0.9, ("aligned", "not aligned")),
    "not aligned": verdict("not aligned", 0.9, ("aligned", "not aligned")),
}


@pytest.mark.parametrize(
    ("quality", "meta", "alignment", "require_alignment"),
    list(itertools.product(QUALITY, META, ALIGNMENT, [False, True])),
)
def test_filter_truth_table(quality: str, meta: str, alignment: str, require_alignment: bool) -> None:
    """CLCA's rule: drop on a very confident 'bad' quality or meta-review; optionally require alignment."""
    rule = FilterRule(require_alignment=require_alignment)
    kept = rule.keep(QUALITY[quality], ALIGNMENT[alignment], META[meta])
    expected = (
        quality != "bad-sure" and meta != "bad-sure" and (not require_alignment or alignment == "aligned")
    )
    assert kept is expected


def test_filter_threshold_is_configurable_and_inclusive() -> None:
    unsure_bad = verdict("bad", 0.7)
    good, aligned = verdict("good", 0.9), ALIGNMENT["aligned"]
    assert FilterRule().keep(unsure_bad, aligned, good)  # 0.7 is only 'confident', below the default 0.8
    assert not FilterRule(confidence_threshold=0.7).keep(unsure_bad, aligned, good)
    assert not FilterRule(confidence_threshold=0.7).keep(good, aligned, unsure_bad)
    assert (
        FilterRule().confidence_threshold == 0.8 and verdict("bad", 0.8).confidence_band == "very confident"
    )
    with pytest.raises(ValueError):
        FilterRule(confidence_threshold=1.5)


def test_verdict_is_the_most_probable_option_with_its_probability() -> None:
    result = verdict_from_probabilities(["aligned", "not aligned"], [0.3, 0.7])
    assert (result.label, result.confidence) == ("not aligned", 0.7)
    assert result.probabilities == {"aligned": 0.3, "not aligned": 0.7}
    with pytest.raises(ValueError):
        verdict_from_probabilities(["good", "bad"], [1.0])


def test_an_answer_counts_in_both_spellings_a_reply_starts_with() -> None:
    options, owners = spellings(["yes", "no"])
    assert options == ["yes", "Yes", "no", "No"] and owners == [0, 0, 1, 1]
    # The model mostly writes "No": scoring "no" alone would read this as a 'yes'.
    scores = OptionScores([math.log(0.2), math.log(0.1), math.log(0.05), math.log(0.65)])
    assert answer_probabilities(scores, owners, 2) == pytest.approx([0.3, 0.7])


def test_calibration_divides_out_the_content_free_prior() -> None:
    # The model says 'good' 65% of the time when it sees nothing: 65% with content is no evidence.
    assert calibrate([0.65, 0.35], [0.65, 0.35]) == pytest.approx([0.5, 0.5])
    shifted = calibrate([0.6, 0.4], [0.8, 0.2])
    assert shifted[1] > shifted[0] and math.isclose(sum(shifted), 1.0)
    assert calibrate([0.5, 0.5], [1.0, 0.0])[1] > 0.99  # a zero prior is floored, not a crash


def test_clean_phrase_strips_labels_leads_quotes_and_extra_sentences() -> None:
    assert clean_phrase("Intent: Ren wants to greet the host. Then he sits.", 25) == "greet the host"
    assert clean_phrase('Ren Sato (guest): "thank her"', 25) == "thank her"
    assert clean_phrase("\n\n  apologise for being late\nmore", 25) == "apologise for being late"
    assert clean_phrase("one two three four five", 3) == "one two three"
    assert clean_phrase("In Japanese culture, gifts are opened later", 30, "In Japanese culture,") == (
        "gifts are opened later"
    )
    assert clean_phrase('"..."', 25) == ""


def test_unusable_intents_are_echoes_loops_and_empty_text() -> None:
    turn = "Thank you, please come in."
    assert echoes("please come in", turn) and not usable("please come in", turn)
    loop = "say I am sorry I am sorry I am sorry"
    assert is_repetitive(loop) and not usable(loop, turn) and not is_repetitive("say I am sorry twice")
    assert not usable("", turn)
    assert usable("welcome the guest warmly", turn)


def test_fallback_intent_follows_the_turn_action() -> None:
    episode = sample_episodes(1)[0]  # speak, speak, non-verbal, leave
    assert prompts.fallback_intent(episode, 0) == "start the conversation with Aiko Mori"
    assert prompts.fallback_intent(episode, 1) == "respond to Ren Sato"
    assert prompts.fallback_intent(episode, 2) == "react without words to Aiko Mori"
    assert prompts.fallback_intent(episode, 3) == "leave the conversation"
    assert (
        is_fallback(FALLBACK_REASON) and not is_fallback("In Japanese culture, ...") and not is_fallback(None)
    )


def test_prompts_end_with_the_scored_options_and_put_the_episode_first() -> None:
    episode = sample_episodes(1)[0]
    culture = prompts.CultureContext(name="Japanese", norms=["Gifts are opened later."])
    quality = prompts.quality_messages(episode)[-1]["content"]
    alignment = prompts.alignment_messages(episode, culture)[-1]["content"]
    assert quality.endswith("yes or no.") and alignment.endswith("yes or no.")
    shared = prompts.situation(episode) + "\n\nConversation:\n" + prompts.transcript(episode.turns)
    assert quality.startswith(shared) and alignment.startswith(shared)
    assert "Gifts are opened later." in alignment
    empty = prompts.quality_messages(prompts.content_free(episode))[-1]["content"]
    assert "Ren" not in empty and "(no turns)" in empty


def _judgement(episode_id: str, quality: Verdict, meta: Verdict, kept: bool) -> Judgement:
    return Judgement(
        episode_id=episode_id,
        quality=quality,
        alignment=ALIGNMENT["not aligned"],
        meta_review=meta,
        kept=kept,
        judge_model="hand-written",
        created_at=123.0,
    )


def test_changed_rule_is_reapplied_to_stored_verdicts_and_summarized(tmp_path: Path) -> None:
    episodes = write_run(tmp_path, count=3)
    with RunStore(tmp_path) as store:
        store.save_judgement(
            _judgement(episodes[0].id, QUALITY["good-sure"], META["good-sure"], True), {0: ("greet", "")}
        )
        store.save_judgement(
            _judgement(episodes[1].id, QUALITY["bad-unsure"], META["good-sure"], True),
            {0: ("start the conversation with Aiko Mori", FALLBACK_REASON)},
        )
        assert pending_episodes(store) == [episodes[2].id]  # the failed episode is never pending
        assert apply_rule(store, FilterRule(confidence_threshold=0.7)) == 1
        assert (
            not store.judgement(episodes[1].id).kept and store.judgement(episodes[1].id).created_at == 123.0
        )
        assert apply_rule(store, FilterRule(require_alignment=True)) == 1  # nothing is aligned
        summary = summarize(store, FilterRule(require_alignment=True))
    assert (summary["judged"], summary["kept"], summary["dropped"]) == (2, 0, 2)
    assert summary["verdicts"]["quality"] == {"good": 1, "bad": 1}
    assert summary["labels"]["quality bad"] == 1 and summary["labels"]["not aligned"] == 2
    assert summary["mean_confidence"]["quality"] == pytest.approx(0.8)
    assert (summary["intents"], summary["intent_fallbacks"]) == (2, 1)


def test_judge_cli_reports_bad_input_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", str(tmp_path / "nowhere")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    write_run(tmp_path, count=1)
    assert main(["judge", str(tmp_path), "--confidence-threshold", "2"]) == 2
    assert main(["judge", str(tmp_path), "--base-url", "http://127.0.0.1:1/v1"]) == 2
    assert main(["judge", str(tmp_path), "--concurrency", "0"]) == 2
    assert "--concurrency" in capsys.readouterr().err
