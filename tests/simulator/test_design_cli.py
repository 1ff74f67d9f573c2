"""The design commands' handling of drafts: only valid ones are written, rejected ones are reported
with their raw text. The scripted backend replaces the model (see design_fakes.py)."""

from __future__ import annotations

import json

import pytest
from design_fakes import ScriptedBackend

from scenarios.files import read_scenario_file
from simulator.cli import main

DRAFT = {
    "title": "Returning a borrowed umbrella",
    "setting": "A rainy evening at the entrance of an office building in {city}.",
    "relationship": "colleague",
    "roles": [
        {"name": "borrower", "goal": "Return the umbrella and thank properly.", "secret": "It got torn."},
        {"name": "lender", "goal": "Get the umbrella back without fuss.", "secret": ""},
    ],
}


@pytest.fixture
def scripted(monkeypatch):
    def install(replies):
        backend = ScriptedBackend(replies)
        monkeypatch.setattr("simulator.backends.registry.create_backend", lambda *a, **k: backend)
        return backend

    return install


def test_rejected_drafts_are_reported_with_raw_text_and_never_written(scripted, tmp_path, capsys):
    scripted(["Here is a nice scenario about umbrellas!", "{broken", "no"])
    out = tmp_path / "drafts"
    code = main(
        ["scenarios", "generate", "--category", "favours", "-n", "1", "--out", str(out)]
        + ["--strategy", "json", "--retries", "2"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "Here is a nice scenario" not in err  # only the last raw reply is shown ...
    assert "no" in err and "rejected after 3 attempt(s)" in err
    assert not list(out.glob("*.yaml"))  # ... and nothing half-valid is saved
    [rejected] = out.glob("*.rejected.ndjson")
    record = json.loads(rejected.read_text())
    assert [a["raw"] for a in record["attempts"]] == [
        "Here is a nice scenario about umbrellas!",
        "{broken",
        "no",
    ]


def test_valid_drafts_are_written_as_a_loadable_scenario_file(scripted, tmp_path, capsys):
    scripted([f"```json\n{json.dumps(DRAFT)}\n```", json.dumps(DRAFT)])
    out = tmp_path / "drafts"
    code = main(
        ["scenarios", "generate", "--category", "asking favours", "-n", "2", "--out", str(out)]
        + ["--strategy", "json"]
    )
    assert code == 0, capsys.readouterr().err
    [written] = out.glob("*.yaml")
    scenarios = read_scenario_file(written)
    assert [s.id for s in scenarios] == ["returning-a-borrowed-umbrella", "returning-a-borrowed-umbrella-2"]
    assert {s.category for s in scenarios} == {"asking favours"}
    assert all(s.culture is None and s.provenance.source == "scripted-model" for s in scenarios)
    assert main(["scenarios", "validate", str(written)]) == 0


def test_llm_adaptation_command_writes_provenance(scripted, tmp_path, capsys):
    roles = [{"name": "x", "goal": "Keep the relationship warm.", "secret": "Nervous."}] * 2
    scripted(
        [
            json.dumps(
                {"title": "Ein Geschenk ablehnen", "setting": "Nach dem Mittagessen in Köln.", "roles": roles}
            )
        ]
    )
    out = tmp_path / "adapted.yaml"
    code = main(
        [
            "scenarios",
            "adapt",
            "supplier-gift-refusal",
            "--to",
            "german",
            "--method",
            "llm",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    [adapted] = read_scenario_file(out)
    assert adapted.provenance.method == "llm" and adapted.provenance.base_scenario == "supplier-gift-refusal"
    assert adapted.title == "Ein Geschenk ablehnen" and adapted.culture == "german"


def test_bad_flags_are_bad_input(capsys):
    assert main(["scenarios", "generate", "--category", "x", "-n", "0"]) == 2
    assert main(["personas", "generate", "--culture", "atlantis"]) == 2
    assert "unknown culture" in capsys.readouterr().err
