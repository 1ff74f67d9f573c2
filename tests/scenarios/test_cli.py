"""`culturesim scenarios ...` end to end through simulator.cli.main, including bad input."""

from __future__ import annotations

import json

import pytest
import yaml

from scenarios.files import read_scenario_file
from simulator.cli import main


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """Rich tables fold cells in a narrow terminal; tests read whole ids from the output."""
    monkeypatch.setenv("COLUMNS", "200")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["scenarios", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_base_scenarios_and_their_adaptations(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "market-haggling" in out and "dinner-invitation-decline" in out
    assert "GB CN DE JP MX" in out
    assert "adaptations" in out


def test_list_for_one_culture_and_category(capsys):
    code, out, _ = run(capsys, "list", "--culture", "japanese", "--category", "gift giving")
    assert code == 0
    assert "supplier-gift-refusal.japanese" in out
    assert "market-haggling" not in out
    code, _, err = run(capsys, "list", "--category", "astrology")
    assert code == 2 and "--category" in err and "gift giving" in err


def test_show_an_adapted_scenario(capsys):
    code, out, _ = run(capsys, "show", "dinner-invitation-decline.japanese")
    assert code == 0
    assert "Declining a colleague's dinner invitation" in out
    assert "invitee" in out and "japanese" in out
    code, out, _ = run(capsys, "show", "dinner-invitation-decline.japanese", "--yaml")
    assert yaml.safe_load(out)[0]["provenance"]["method"] == "template"
    code, _, err = run(capsys, "show", "no-such-thing")
    assert code == 2 and "unknown scenario 'no-such-thing'" in err


def test_adapt_writes_a_file_that_validates(capsys, tmp_path):
    out_file = tmp_path / "adapted.yaml"
    code, _, _ = run(
        capsys, "adapt", "market-haggling", "--to", "japanese", "--to", "mexican", "--out", str(out_file)
    )
    assert code == 0
    adapted = read_scenario_file(out_file)
    assert [s.id for s in adapted] == ["market-haggling.japanese", "market-haggling.mexican"]
    assert run(capsys, "validate", str(out_file))[0] == 0
    code, _, err = run(capsys, "adapt", "market-haggling", "--to", "atlantean")
    assert code == 2 and "unknown culture 'atlantean'" in err
    with pytest.raises(SystemExit):  # template and llm (tests/simulator/test_design_*.py) only
        main(["scenarios", "adapt", "market-haggling", "--to", "german", "--method", "magic"])


def test_import_writes_files_that_validate(capsys, tmp_path, write_file):
    record = {
        "env_id": "E1",
        "codename": "lost_umbrella",
        "source": "social_iqa",
        "scenario": "Two strangers at a bus stop in the rain.",
        "agent_goals": [
            "Get your umbrella back",
            "Keep the umbrella (<extra_info>You found it.</extra_info>)",
        ],
        "relationship": "0",
        "age_constraint": "[(18, 70), (18, 70)]",
        "occupation_constraint": "nan",
        "agent_constraint": "none",
    }
    source = write_file("environment_profiles.jsonl", [record, record | {"codename": "lost_umbrella"}])
    code, out, _ = run(capsys, "import", str(source), "--out", str(tmp_path / "imported"))
    assert code == 0
    assert "imported 2 scenarios" in out
    written = tmp_path / "imported" / "social_iqa.yaml"
    assert [s.id for s in read_scenario_file(written)] == ["lost_umbrella", "lost_umbrella_2"]
    code, _, _ = run(capsys, "import", str(source), "--out", str(tmp_path / "imported.jsonl"))
    lines = (tmp_path / "imported.jsonl").read_text().splitlines()
    assert code == 0 and json.loads(lines[1])["id"] == "lost_umbrella_2"


def test_import_of_the_real_sotopia_file(capsys, shared_data):
    path = shared_data / "sotopia" / "environment_profiles.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    code, out, _ = run(capsys, "import", str(path))
    assert code == 0 and "imported 90 scenarios" in out


VALID = {
    "id": "umbrella-return",
    "title": "Returning an umbrella",
    "category": "asking favours",
    "setting": "A rainy evening in {city}.",
    "relationship": "neighbour",
    "roles": [
        {"name": "lender", "goal": "Get the umbrella back."},
        {"name": "borrower", "goal": "Keep it one more day.", "age_range": [20, 40]},
    ],
}


def broken(**changes) -> dict:
    """VALID with some top-level fields replaced."""
    return json.loads(json.dumps(VALID)) | changes


MALFORMED = {
    # name: (file name, content, expected pieces of the one-line message)
    "invalid yaml": ("s.yaml", "- id: x\n  roles: [unclosed\n", ["invalid YAML", "line"]),
    "invalid json": ("s.json", '{"id": "x",', ["invalid JSON", "line 1"]),
    "invalid jsonl": ("s.jsonl", json.dumps(VALID) + "\n{oops\n", ["invalid JSON on line 2"]),
    "missing goal": (
        "s.yaml",
        [broken(roles=[{"name": "a"}, {"name": "b", "goal": "g"}])],
        ["roles.0.goal", "missing"],
    ),
    "empty goal": (
        "s.yaml",
        [broken(roles=[{"name": "a", "goal": "  "}, {"name": "b", "goal": "g"}])],
        ["roles.0.goal"],
    ),
    "one role": ("s.yaml", [broken(roles=[{"name": "a", "goal": "g"}])], ["field 'roles'", "at least 2"]),
    "unknown relationship": (
        "s.yaml",
        [broken(relationship="nemesis")],
        ["field 'relationship'", "stranger"],
    ),
    "duplicate ids": ("s.yaml", [VALID, VALID], ["record umbrella-return", "field 'id'", "duplicate id"]),
    "duplicate role names": (
        "s.yaml",
        [broken(roles=[{"name": "a", "goal": "g"}, {"name": "a", "goal": "h"}])],
        ["field 'roles'", "distinct"],
    ),
    "reversed age range": (
        "s.yaml",
        [broken(roles=[{"name": "a", "goal": "g", "age_range": [60, 20]}, {"name": "b", "goal": "g"}])],
        ["roles.0.age_range", "reversed"],
    ),
    "unknown field": ("s.yaml", [broken(mood="tense")], ["field 'mood'", "unknown field"]),
    "wrong type": ("s.yaml", [broken(roles="host and guest")], ["field 'roles'", "list"]),
    "wrong age type": (
        "s.yaml",
        [broken(roles=[{"name": "a", "goal": "g", "age_range": "young"}, {"name": "b", "goal": "g"}])],
        ["roles.0.age_range"],
    ),
    "unknown culture": (
        "s.yaml",
        [broken(culture="atlantean")],
        ["field 'culture'", "unknown culture 'atlantean'", "japanese"],
    ),
    "unknown placeholder": (
        "s.yaml",
        [broken(setting="Rain in {town}.")],
        ["field 'setting'", "unknown placeholder '{town}'"],
    ),
    "placeholder argument": (
        "s.yaml",
        [broken(roles=[{"name": "a", "goal": "Meet {person}."}, {"name": "b", "goal": "g"}])],
        ["roles.0.goal", "{person}"],
    ),
    "placeholder in adapted": (
        "s.yaml",
        [broken(id="umbrella.german", culture="german")],
        ["record umbrella.german", "field 'setting'", "'{city}'", "base scenarios"],
    ),
    "bad id": ("s.yaml", [broken(id="Umbrella Return!")], ["field 'id'", "pattern"]),
    "not a mapping": ("s.yaml", ["just a sentence"], ["record 0", "expected a mapping"]),
    "empty file": ("s.yaml", "", ["the file is empty"]),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_validate_reports_bad_files_in_one_line_with_exit_code_2(capsys, write_file, case):
    name, content, expected = MALFORMED[case]
    path = write_file(name, content)
    code, out, err = run(capsys, "validate", str(path))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}")
    for piece in expected:
        assert piece in lines[0], f"{piece!r} not in {lines[0]!r}"
    if (
        isinstance(content, list)
        and isinstance(content[0], dict)
        and case not in ("bad id", "placeholder in adapted")
    ):
        assert "record umbrella-return" in lines[0]
    assert "Traceback" not in err


def test_validate_finds_duplicate_ids_across_files_and_checks_every_file(capsys, write_file):
    first = write_file("one.yaml", [VALID])
    second = write_file("two.yaml", [VALID])
    good = write_file("three.yaml", [broken(id="another")])
    code, out, err = run(capsys, "validate", str(first), str(second), str(good))
    assert code == 2
    assert (
        f"error: {second}, record umbrella-return, field 'id': duplicate id (already defined in {first})"
        in err
    )
    assert str(good) in out and "1 scenario" in out


def test_validate_accepts_the_library_and_a_culture_specific_scenario(capsys, write_file):
    path = write_file(
        "ok.yaml", {"scenarios": [broken(id="umbrella.german", culture="german", setting="Rain in Bonn.")]}
    )
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0 and "ok" in out
