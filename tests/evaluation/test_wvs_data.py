"""Reading the WorldValuesBench layout: labels after answer adjustment, missing codes, sampling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.wvs_data import load_value_questions, sample_survey
from personas.files import BadInputError


def write_layout(directory: Path, demographic_rows: list[str], value_rows: list[str]) -> Path:
    metadata = {
        "D_INTERVIEW": {"question": "Interview id", "use_case": "demographic"},
        "B_COUNTRY": {"question": "Country?", "use_case": "demographic"},
        "Q260": {"question": "Sex?", "use_case": "demographic"},
        "V1": {
            "question": "How is life compared with your parents'?",
            "use_case": "value",
            "answer_scale_min": 1,
            "answer_scale_max": 3,
            "answer_data_type": "ordinal",
        },
        "V2": {"question": "Trust?", "use_case": "value", "answer_scale_min": 1, "answer_scale_max": 2},
    }
    # Raw codes as published: 1 better, 2 worse, 3 same; the adjustment orders them 1 better, 2 same, 3 worse.
    codebook = {
        "V1": {"choices": {"1": "Better off", "2": "Worse off", "3": "About the same", "-1": "Don't know"}}
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "question_metadata.json").write_text(json.dumps(metadata))
    (directory / "codebook.json").write_text(json.dumps(codebook))
    (directory / "answer_adjustment.json").write_text(json.dumps({"V1": {"2": "3", "3": "2"}}))
    (directory / "test").mkdir(exist_ok=True)
    (directory / "test/test_demographic_qa.tsv").write_text(
        "\n".join(["D_INTERVIEW\tB_COUNTRY\tQ260", *demographic_rows]) + "\n"
    )
    (directory / "test/test_value_qa.tsv").write_text("\n".join(["D_INTERVIEW\tV1\tV2", *value_rows]) + "\n")
    return directory


def test_labels_follow_the_answer_adjustment(tmp_path):
    directory = write_layout(tmp_path, ["1\tJapan\tMale"], ["1\t1\t2"])
    v1, v2 = load_value_questions(directory)
    assert v1.labels == ("Better off", "About the same", "Worse off")
    assert v2.labels == (None, None)  # no codebook entry: the scale is shown by its numbers only


def test_missing_codes_are_skipped_and_countries_filtered(tmp_path):
    directory = write_layout(
        tmp_path,
        ["1\tJapan\tMale", "2\tJapan\tNo answer", "3\tMexico\tFemale", "4\tjapan\tFemale"],
        ["1\t1.0\t-2", "2\t\t1", "3\t3\t1", "4\t3\t2"],
    )
    sample = sample_survey(directory, ["Nippon", "Japan"], respondents=10)
    assert sample.pool_size == 3  # country names match case-insensitively, Mexico is left out
    assert sample.reference_counts == {"V1": [1, 0, 1], "V2": [1, 1]}
    by_id = {r.id: r for r in sample.respondents}
    assert by_id["1"].answers == {"V1": 1}
    assert ("Sex?", "No answer") not in by_id["2"].demographics  # WVS missing text stays out of the prompt


def test_sampling_is_seeded_and_sized(tmp_path):
    rows = [f"{i}\tJapan\tMale" for i in range(50)]
    directory = write_layout(tmp_path, rows, [f"{i}\t1\t1" for i in range(50)])
    first = [r.id for r in sample_survey(directory, "Japan", respondents=7, seed=1).respondents]
    again = [r.id for r in sample_survey(directory, "Japan", respondents=7, seed=1).respondents]
    other = [r.id for r in sample_survey(directory, "Japan", respondents=7, seed=2).respondents]
    assert first == again and len(set(first)) == 7 and set(first) != set(other)


def test_out_of_scale_answer_names_file_line_and_column(tmp_path):
    directory = write_layout(tmp_path, ["1\tJapan\tMale", "2\tJapan\tMale"], ["1\t1\t1", "2\t0\t1"])
    with pytest.raises(
        BadInputError, match=r"test_value_qa.tsv: line 3, column 'V1': answer 0 is outside the scale 1..3"
    ):
        sample_survey(directory, "Japan", respondents=5)


def test_real_wvs_metadata_labels_after_adjustment(shared_data):
    wvs = shared_data / "wvs"
    questions = {q.id: q for q in load_value_questions(wvs, ["Q56", "Q119", "Q164", "Q1"])}
    assert questions["Q56"].labels == ("Better off", "Or about the same", "Worse off")
    assert questions["Q119"].labels[2] == "Hard to say" and questions["Q119"].labels[4] == "Strongly disagree"
    assert (
        questions["Q164"].labels[0] and questions["Q164"].labels[-1] and questions["Q164"].labels[4] is None
    )
    assert questions["Q1"].options == ["1", "2", "3", "4"]
    assert len(load_value_questions(wvs)) == 239


def test_metadata_without_answer_tables_is_explained(shared_data):
    # The licensed answers are not distributed: the directory has metadata only.
    with pytest.raises(BadInputError, match="no <split>_demographic_qa.tsv"):
        sample_survey(shared_data / "wvs", "Japan", respondents=5)
