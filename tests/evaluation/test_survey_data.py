"""The generated survey set: deterministic, in the WorldValuesBench layout, driven by culture scores."""

from __future__ import annotations

import csv
from pathlib import Path

from eval_fakes import make_culture

from evaluation.survey_data import QUESTIONS, answer_probabilities, write_survey
from evaluation.wvs_data import load_value_questions, sample_survey


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_same_seed_same_files_other_seed_other_answers(tmp_path, culture):
    first = write_survey(culture, 30, tmp_path / "a", seed=5)
    second = write_survey(culture, 30, tmp_path / "b", seed=5)
    third = write_survey(culture, 30, tmp_path / "c", seed=6)
    for name in ("question_metadata.json", "full/full_demographic_qa.tsv", "full/full_value_qa.tsv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert (first / "full/full_value_qa.tsv").read_bytes() != (third / "full/full_value_qa.tsv").read_bytes()


def test_layout_loads_with_labels_and_answers_on_the_scale(survey_dir, culture):
    questions = load_value_questions(survey_dir)
    assert [q.id for q in questions] == [q.id for q in QUESTIONS]
    assert all(len(q.labels) == len(q.codes) and all(q.labels) for q in questions)
    sample = sample_survey(survey_dir, culture.country, respondents=1000)
    assert sample.pool_size == 60 and len(sample.respondents) == 60
    rows = read_rows(survey_dir / "full/full_value_qa.tsv")
    for question in questions:
        given = [int(row[question.id]) for row in rows if int(row[question.id]) >= 0]
        assert all(question.low <= code <= question.high for code in given)
        assert sum(sample.reference_counts[question.id]) == len(given)  # missing (-1) answers skipped
    demographics = dict(sample.respondents[0].demographics)
    assert demographics["Which country do you live in?"] == culture.country


def test_answers_follow_the_driving_culture_score(tmp_path):
    # CS04 "better to go along with your group": individualists disagree (higher codes) more.
    collectivist = write_survey(make_culture("low", individualism=10), 300, tmp_path / "low", seed=1)
    individualist = write_survey(make_culture("high", individualism=90), 300, tmp_path / "high", seed=1)

    def mean_answer(directory: Path) -> float:
        codes = [
            int(row["CS04"]) for row in read_rows(directory / "full/full_value_qa.tsv") if row["CS04"] != "-1"
        ]
        return sum(codes) / len(codes)

    assert mean_answer(individualist) > mean_answer(collectivist) + 0.8


def test_answer_probabilities_are_distributions_centred_by_the_latent():
    question = QUESTIONS[0]
    low_end, high_end = answer_probabilities(question, -1.0), answer_probabilities(question, 1.0)
    assert abs(sum(low_end) - 1) < 1e-12 and abs(sum(high_end) - 1) < 1e-12
    assert low_end[0] > low_end[-1] and high_end[-1] > high_end[0]
