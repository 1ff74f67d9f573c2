"""The opinion-distribution suite on a project-written fixture (and the real file when present)."""

from __future__ import annotations

import json

import pytest
from eval_fakes import FixedDistributionScorer
from opinion_fixture import write_opinions

from evaluation.opinions import evaluate_opinions, load_opinion_items
from evaluation.scoring import ModelConfig
from personas.files import BadInputError


def test_items_of_the_country_with_non_answers_dropped(tmp_path):
    items, skipped, country = load_opinion_items(write_opinions(tmp_path / "eval.json"), "testland")
    assert country == "Testland"
    assert [item.id for item in items] == ["0", "2", "4"]
    assert skipped == 1  # the item whose shares are all zero
    assert items[0].options == ["Yes, much more", "A little more", "No more than now"]
    assert items[0].reference == pytest.approx([0.3 / 0.9, 0.4 / 0.9, 0.2 / 0.9])
    assert items[1].options == ["Not at all", "1", "2", "Very much"]  # numbers stored as floats become text


def test_keep_nonsubstantive_and_limit(tmp_path):
    path = write_opinions(tmp_path / "eval.json")
    items, _, _ = load_opinion_items(path, "Testland", limit=1, keep_nonsubstantive=True)
    assert len(items) == 1 and items[0].options[-1] == "Don't know"


def test_first_known_name_of_the_country_is_used(tmp_path):
    _, _, country = load_opinion_items(write_opinions(tmp_path / "eval.json"), ["Testlandia", "Otherland"])
    assert country == "Otherland"


def test_missing_country_lists_close_matches(tmp_path):
    with pytest.raises(BadInputError, match="no data for country 'Testlnd'; close matches: Testland"):
        load_opinion_items(write_opinions(tmp_path / "eval.json"), "Testlnd")


def test_misaligned_record_is_reported_with_its_index(tmp_path):
    bad = [{"country": "Testland", "question": "Q?", "options": ["a", "b"], "distribution": [1.0]}]
    with pytest.raises(BadInputError, match="record 0.*2 options but 1 shares"):
        load_opinion_items(write_opinions(tmp_path / "eval.json", bad), "Testland")


def test_scorer_returning_the_reference_has_zero_distance(tmp_path):
    path = write_opinions(tmp_path / "eval.json")
    items, _, _ = load_opinion_items(path, "Testland")
    scorer = FixedDistributionScorer({item.question: item.reference for item in items})
    summary = evaluate_opinions(
        scorer,
        path,
        "Testland",
        tmp_path / "out",
        configs=[ModelConfig("base"), ModelConfig("persona", persona=True)],
    )
    for name in ("base", "persona"):
        assert summary["configs"][name]["mean_jsd"] == pytest.approx(0.0, abs=1e-6)
        assert summary["configs"][name]["top_match_rate"] == 1.0
        assert summary["configs"][name]["items"] == 3
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["data"]["skipped_items"] == 1
    assert (tmp_path / "out/plots/jsd_per_question.png").exists()


@pytest.mark.model
def test_real_model_on_the_fixture_and_on_three_real_items(tmp_path, embedded_backend, shared_data):
    # One configuration each keeps this short on a shared CPU; together they cover both prompt framings.
    path = write_opinions(tmp_path / "eval.json")
    evaluate_opinions(embedded_backend, path, "Testland", tmp_path / "fixture", configs=[ModelConfig("base")])
    summary = evaluate_opinions(
        embedded_backend,
        shared_data / "globalopinion/eval.json",
        "Japan",
        tmp_path / "real",
        limit=3,
        configs=[ModelConfig("persona", persona=True)],
    )
    for out in (tmp_path / "fixture", tmp_path / "real"):
        report = json.loads((out / "report.json").read_text())
        for config in report["configs"].values():
            for item in config["items"]:
                assert sum(item["model"]) == pytest.approx(1.0)
                assert len(item["model"]) == len(item["options"]) == len(item["reference"])
                assert 0.0 <= item["jsd"] <= 1.0
        assert (out / "report.md").exists() and (out / "plots/jsd_per_question.png").exists()
    assert summary["configs"]["persona"]["items"] == 3
