"""The WVS suite end to end with a scorer that returns known distributions (pure pipeline logic)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from eval_fakes import FixedDistributionScorer

from evaluation import metrics
from evaluation.scoring import ModelConfig
from evaluation.wvs import evaluate_wvs
from evaluation.wvs_data import load_value_questions
from personas.files import BadInputError


def survey_truth(survey_dir):
    """Reference distribution and mode per question, straight from the TSV."""
    with (survey_dir / "full/full_value_qa.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    questions = load_value_questions(survey_dir)
    reference, modes = {}, {}
    for question in questions:
        counts = Counter(int(row[question.id]) for row in rows if int(row[question.id]) >= 0)
        reference[question.id] = [counts[code] / sum(counts.values()) for code in question.codes]
        modes[question.id] = max(question.codes, key=lambda code: counts[code])
    return questions, rows, reference, modes


def test_scorer_returning_the_survey_distribution_scores_zero_and_the_mode_accuracy(
    survey_dir, culture, tmp_path
):
    questions, rows, reference, modes = survey_truth(survey_dir)
    scorer = FixedDistributionScorer({q.text: reference[q.id] for q in questions})
    summary = evaluate_wvs(scorer, survey_dir, culture, tmp_path / "out", respondents=1000)

    # Every respondent is sampled (1000 > 60); the scorer's argmax is each question's mode.
    shares = []
    for row in rows:
        answered = [q.id for q in questions if int(row[q.id]) >= 0]
        shares.append(sum(int(row[qid]) == modes[qid] for qid in answered) / len(answered))
    expected_accuracy = sum(shares) / len(shares)
    for name in ("base", "persona"):
        result = summary["configs"][name]
        assert result["mean_kl"] == pytest.approx(0.0, abs=1e-9)
        assert result["mean_jsd"] == pytest.approx(0.0, abs=1e-6)
        assert result["individual_accuracy"] == pytest.approx(expected_accuracy)
        assert result["questions"] == len(questions) and result["respondents"] == len(rows)

    report = json.loads((tmp_path / "out/report.json").read_text())
    item = report["configs"]["base"]["items"][0]
    assert item["reference"] == pytest.approx(reference[item["id"]])
    assert item["model"] == pytest.approx(reference[item["id"]])
    assert {"kl", "jsd", "accuracy", "predicted", "options"} <= set(item)
    for name in ("report.md", "plots/jsd_per_question.png", "plots/accuracy.png", "plots/distributions.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert "KL(survey || model)" in (tmp_path / "out/report.md").read_text()


def test_a_uniform_scorer_is_measured_against_the_survey(survey_dir, culture, tmp_path):
    questions, _, reference, _ = survey_truth(survey_dir)
    uniform = {q.text: [1 / len(q.codes)] * len(q.codes) for q in questions}
    summary = evaluate_wvs(
        FixedDistributionScorer(uniform), survey_dir, culture, tmp_path / "out", respondents=1000
    )
    expected = sum(metrics.js_distance(reference[q.id], uniform[q.text]) for q in questions) / len(questions)
    assert summary["configs"]["base"]["mean_jsd"] == pytest.approx(expected)
    assert summary["configs"]["base"]["mean_jsd"] > 0.05


class InterruptingScorer(FixedDistributionScorer):
    """Stops the run (as Ctrl-C would) on its n-th call."""

    def __init__(self, distributions, stop_at_call: int):
        super().__init__(distributions)
        self.stop_at_call = stop_at_call

    async def score_options(self, requests):
        if len(self.calls) + 1 == self.stop_at_call:
            raise KeyboardInterrupt
        return await super().score_options(requests)


def test_interrupted_run_resumes_without_rescoring(survey_dir, culture, tmp_path):
    questions, _, reference, _ = survey_truth(survey_dir)
    distributions = {q.text: reference[q.id] for q in questions}
    out = tmp_path / "out"
    base_only = [ModelConfig("base")]
    first = InterruptingScorer(distributions, stop_at_call=4)
    with pytest.raises(KeyboardInterrupt):
        evaluate_wvs(first, survey_dir, culture, out, configs=base_only, respondents=20, batch_size=64)
    assert len((out / "scores.jsonl").read_text().splitlines()) == 3  # three questions were finished and kept

    second = FixedDistributionScorer(distributions)
    summary = evaluate_wvs(second, survey_dir, culture, out, configs=base_only, respondents=20, batch_size=64)
    assert len(second.calls) == len(questions) - 3
    assert summary["configs"]["base"]["questions"] == len(questions)

    third = FixedDistributionScorer(distributions)
    evaluate_wvs(third, survey_dir, culture, out, configs=base_only, respondents=20, batch_size=64)
    assert third.calls == []


def test_out_dir_of_another_evaluation_is_refused_unless_fresh(survey_dir, culture, tmp_path):
    questions, _, reference, _ = survey_truth(survey_dir)
    scorer = FixedDistributionScorer({q.text: reference[q.id] for q in questions})
    evaluate_wvs(scorer, survey_dir, culture, tmp_path / "out", respondents=10, configs=[ModelConfig("base")])
    with pytest.raises(BadInputError, match="different evaluation .*respondents"):
        evaluate_wvs(
            scorer, survey_dir, culture, tmp_path / "out", respondents=12, configs=[ModelConfig("base")]
        )
    summary = evaluate_wvs(
        scorer,
        survey_dir,
        culture,
        tmp_path / "out",
        respondents=12,
        configs=[ModelConfig("base")],
        fresh=True,
    )
    assert summary["configs"]["base"]["respondents"] == 12


def test_batches_respect_the_batch_size(survey_dir, culture, tmp_path):
    questions, _, reference, _ = survey_truth(survey_dir)
    scorer = FixedDistributionScorer({q.text: reference[q.id] for q in questions})
    evaluate_wvs(
        scorer,
        survey_dir,
        culture,
        tmp_path / "out",
        respondents=30,
        questions=["CS01"],
        batch_size=8,
        configs=[ModelConfig("base")],
    )
    assert max(scorer.calls) <= 8 and sum(scorer.calls) <= 30 and len(scorer.calls) >= 3


class OtherModelScorer(FixedDistributionScorer):
    @property
    def model_id(self) -> str:
        return "another-model"


def test_results_of_another_model_under_the_same_name_are_scored_again(survey_dir, culture, tmp_path):
    questions, _, reference, _ = survey_truth(survey_dir)
    distributions = {q.text: reference[q.id] for q in questions}
    options = {"configs": [ModelConfig("base")], "respondents": 10, "questions": ["CS01", "CS02"]}
    evaluate_wvs(FixedDistributionScorer(distributions), survey_dir, culture, tmp_path / "out", **options)
    other = OtherModelScorer(distributions)
    evaluate_wvs(other, survey_dir, culture, tmp_path / "out", **options)
    assert len(other.calls) == 2
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["configs"]["base"]["model"]["model"] == "another-model"
