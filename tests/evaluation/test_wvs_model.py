"""The WVS suite through the CLI with the real embedded model on a generated survey (kept tiny)."""

from __future__ import annotations

import json

import pytest

from evaluation import scoring
from simulator.cli import main


@pytest.mark.model
def test_wvs_suite_with_the_embedded_model(tmp_path, culture_file, embedded_backend, monkeypatch, capsys):
    # The session's already loaded model stands in for the one the CLI would load (same class, same weights).
    monkeypatch.setattr(scoring, "backend_factory", lambda kind, model: embedded_backend)
    survey, out = tmp_path / "survey", tmp_path / "report"
    assert (
        main(["survey", "make", "--culture", str(culture_file), "--respondents", "12", "--out", str(survey)])
        == 0
    )
    code = main(
        [
            "evaluate",
            "--suite",
            "wvs",
            "--data",
            str(survey),
            "--culture",
            str(culture_file),
            "--respondents",
            "2",
            "--questions",
            "CS10",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "report:" in capsys.readouterr().out

    report = json.loads((out / "report.json").read_text())
    assert set(report["configs"]) == {"base", "persona"}
    for config in report["configs"].values():
        assert [item["id"] for item in config["items"]] == ["CS10"]
        for item in config["items"]:
            assert sum(item["model"]) == pytest.approx(1.0) and sum(item["reference"]) == pytest.approx(1.0)
            assert len(item["model"]) == len(item["options"]) and item["kl"] >= 0 and 0 <= item["jsd"] <= 1
        assert 0 <= config["summary"]["individual_accuracy"] <= 1
    assert report["configs"]["base"]["items"][0]["options"] == ["0", "1", "2"]  # a scale starting at 0
    for line in (out / "scores.jsonl").read_text().splitlines():
        for probabilities in json.loads(line)["probabilities"]:
            assert sum(probabilities) == pytest.approx(1.0)
    for name in ("report.md", "plots/jsd_per_question.png", "plots/accuracy.png", "plots/summary.png"):
        assert (out / name).stat().st_size > 0
