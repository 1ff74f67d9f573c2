"""`culturesim personas|cultures|cast|schema` end to end through simulator.cli.main, bad input included."""

from __future__ import annotations

import json

import pytest
import yaml

from personas.cultures import CULTURES_PATH_ENV
from personas.library import load_persona_file
from personas.schema import CultureProfile, Persona
from scenarios.library import load_base_scenarios


def test_sample_prints_a_table_and_writes_a_valid_file(cli, tmp_path):
    out = tmp_path / "mexican.yaml"
    code, stdout, _ = cli(
        "personas", "sample", "--culture", "Mexico", "-n", "20", "--seed", "7", "--out", out
    )
    assert code == 0
    assert "mexican-s7-001" in stdout and "mexican-s7-020" in stdout
    assert [p.id for p in load_persona_file(out)][-1] == "mexican-s7-020"
    assert cli("personas", "validate", out)[0] == 0
    # the same seed writes the same file
    again = tmp_path / "again.yaml"
    cli("personas", "sample", "--culture", "mexican", "-n", "20", "--seed", "7", "--out", again)
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_list_and_show_personas(cli):
    code, stdout, _ = cli("personas", "list", "--culture", "german")
    assert code == 0 and "german-klaus-becker" in stdout and "japanese-" not in stdout
    code, stdout, _ = cli("personas", "show", "german-klaus-becker")
    assert code == 0 and "retired master carpenter" in stdout and "secret" in stdout


def test_cultures_list_and_show(cli):
    code, stdout, _ = cli("cultures", "list")
    assert code == 0
    for culture_id in ("british", "german", "mexican", "japanese", "chinese"):
        assert culture_id in stdout
    code, stdout, _ = cli("cultures", "show", "mexican")
    assert code == 0 and "hierarchy is respected" in stdout and "INEGI" in stdout


@pytest.mark.parametrize(
    ("kind", "title"), [("persona", "Persona"), ("culture", "CultureProfile"), ("scenario", "Scenario")]
)
def test_schema_prints_json_schema(cli, kind, title):
    code, stdout, _ = cli("schema", kind)
    schema = json.loads(stdout)
    assert code == 0 and schema["title"] == title and "properties" in schema
    if kind == "persona":
        assert schema == Persona.model_json_schema()


def test_import_sotopia_profiles(cli, write_file, tmp_path):
    record = {
        "agent_id": "A1",
        "first_name": "Lin",
        "last_name": "Ode",
        "age": 40,
        "occupation": "Poet",
        "gender": "Man",
    }
    out = tmp_path / "imported.jsonl"
    code, stdout, _ = cli(
        "personas", "import", write_file("agents.jsonl", [record]), "--culture", "chinese", "--out", out
    )
    assert code == 0 and "sotopia-a1" in stdout
    (persona,) = load_persona_file(out)
    assert persona.culture == "chinese" and persona.name == "Lin Ode"


def test_cast_a_scenario_and_reuse_the_saved_graph(cli, tmp_path):
    base = next(s for s in load_base_scenarios() if s.relationship == "friend")
    graph_file, castings_file = tmp_path / "population.graphml", tmp_path / "castings.yaml"
    argv = ["cast", "--scenario", base.id, "-n", "2", "--seed", "5"]
    code, stdout, _ = cli(
        *argv,
        "--culture",
        "japanese",
        "--population",
        "80",
        "--graph-out",
        graph_file,
        "--out",
        castings_file,
    )
    assert code == 0 and f"{base.id}.japanese" in stdout
    castings = yaml.safe_load(castings_file.read_text(encoding="utf-8"))["castings"]
    assert len(castings) == 2 and all(c["culture"] == "japanese" for c in castings)
    assert [r.name for r in base.roles] == list(castings[0]["roles"])
    reused = tmp_path / "reused.yaml"
    assert cli(*argv, "--graph", graph_file, "--out", reused)[0] == 0
    assert yaml.safe_load(reused.read_text(encoding="utf-8"))["castings"] == castings


# --- bad input: one line on stderr naming the file, the record and the field; exit code 2 ---------


def expect_bad_input(cli, argv, *fragments):
    code, _, stderr = cli(*argv)
    assert code == 2, stderr
    assert stderr.startswith("error: ") and "Traceback" not in stderr and stderr.count("\n") == 1
    for fragment in fragments:
        assert fragment in stderr, (fragment, stderr)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("- id: a\n  name: [unclosed\n", ("invalid YAML at line",)),
        ("{'not': json}", ("invalid JSON at line 1",)),
        ({"personas": [{"id": "x", "age": 3}]}, ("record x", "field 'name'", "missing required field")),
        ("MISTYPED_AGE", ("record test-ana", "field 'age'", "valid integer")),
        ("CULTURE", ("record test-ana", "field 'culture'", "unknown culture 'atlantean'", "mexican")),
        ("EMPTY_NAME", ("record test-ana", "field 'name'", "at least 1 character")),
        ("DUPLICATE", ("record test-ana", "field 'id'", "duplicate id")),
        ("EXTRA_FIELD", ("record test-ana", "field 'hobby'", "unknown field")),
        ("BAD_TRAIT", ("record test-ana", "field 'personality'", "trait 'openness'")),
        ("NOT_A_MAPPING", ("record 1", "expected a mapping, got str")),
        ("BAD_ID", ("record Ana Test", "field 'id'", "pattern")),
    ],
    ids=[
        "invalid-yaml",
        "invalid-json",
        "missing-field",
        "mistyped-age",
        "unknown-culture",
        "empty-name",
        "duplicate-ids",
        "unknown-field",
        "bad-trait-level",
        "non-mapping-record",
        "bad-id",
    ],
)
def test_bad_persona_files(cli, write_file, make_persona, content, fragments):
    variants = {
        "MISTYPED_AGE": [make_persona(age="old")],
        "CULTURE": [make_persona(culture="atlantean")],
        "EMPTY_NAME": [make_persona(name="  ")],
        "DUPLICATE": [make_persona(), make_persona()],
        "EXTRA_FIELD": [make_persona(hobby="chess")],
        "BAD_TRAIT": [make_persona(personality={"openness": "very"})],
        "NOT_A_MAPPING": [make_persona(), "just a sentence"],
        "BAD_ID": [make_persona(id="Ana Test")],
    }
    content = variants.get(content, content) if isinstance(content, str) else content
    suffix = ".json" if fragments[0].startswith("invalid JSON") else ".yaml"
    path = write_file(f"personas{suffix}", content)
    expect_bad_input(cli, ["personas", "validate", path], str(path), *fragments)


def test_missing_and_unsupported_files(cli, tmp_path, write_file):
    expect_bad_input(cli, ["personas", "validate", tmp_path / "nope.yaml"], "nope.yaml", "file not found")
    expect_bad_input(
        cli, ["personas", "validate", write_file("p.txt", "x")], "p.txt", "unsupported file type"
    )
    expect_bad_input(cli, ["personas", "import", tmp_path / "gone.jsonl"], "gone.jsonl", "file not found")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            {"hofstede": {"power_distance": 135}},
            ("field 'hofstede.power_distance'", "less than or equal to 100"),
        ),
        (
            {"demographics": {"age_bands": {"eighteen-29": 1}}},
            ("field 'demographics.age_bands'", "must look like '18-29'"),
        ),
        (
            {"demographics": {"gender": {"woman": -1, "man": 1}}},
            ("field 'demographics.gender'", "non-negative"),
        ),
        ({"country_code": "Testland"}, ("field 'country_code'", "pattern")),
        ({"sources": []}, ("field 'sources'", "at least 1")),
        ({"naming": {"given_names": {"woman": ["A"]}}}, ("gender ['man']",)),
    ],
    ids=[
        "hofstede-out-of-range",
        "bad-age-band",
        "negative-weight",
        "bad-country-code",
        "no-sources",
        "unnamed-gender",
    ],
)
def test_bad_culture_files(cli, write_file, make_culture, change, fragments):
    data = make_culture()
    for key, value in change.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    path = write_file("testish.yaml", data)
    expect_bad_input(cli, ["cultures", "validate", path], str(path), "record testish", *fragments)


def test_a_broken_user_culture_is_reported_wherever_cultures_are_needed(
    cli, monkeypatch, write_file, make_culture
):
    path = write_file("cultures/testish.yaml", make_culture(hofstede={"power_distance": 50}))
    monkeypatch.setenv(CULTURES_PATH_ENV, str(path.parent))
    expect_bad_input(
        cli, ["personas", "sample", "--culture", "german"], str(path), "field 'hofstede.individualism'"
    )


def test_bad_flags(cli, write_file):
    expect_bad_input(
        cli, ["personas", "sample", "--culture", "atlantean"], "--culture", "unknown culture", "japanese"
    )
    expect_bad_input(cli, ["personas", "sample", "--culture", "german", "-n", "0"], "-n", "at least 1")
    expect_bad_input(cli, ["cultures", "show", "vulcan"], "unknown culture 'vulcan'")
    expect_bad_input(cli, ["personas", "show", "nobody-at-all"], "unknown persona 'nobody-at-all'")
    expect_bad_input(cli, ["cast", "--scenario", "all"], "give --culture")
    expect_bad_input(
        cli, ["cast", "--culture", "german", "--scenario", "all", "--out", "c.txt"], "--out", "unsupported"
    )
    record = {"agent_id": "A1", "first_name": "Lin", "age": 40, "occupation": "Poet", "gender": "Man"}
    jsonl = write_file("agents.jsonl", [record])
    expect_bad_input(
        cli, ["personas", "import", jsonl, "--culture", "american"], "--culture", "unknown culture 'american'"
    )
    broken = write_file("agents2.jsonl", '{"agent_id": "A1"}\n{"agent_id": \n')
    expect_bad_input(cli, ["personas", "import", broken], "agents2.jsonl", "invalid JSON on line 2")


def test_bad_graph_files(cli, write_file):
    base = load_base_scenarios()[0].id
    not_a_graph = write_file("graph.json", {"hello": "world"})
    expect_bad_input(
        cli, ["cast", "--graph", not_a_graph, "--scenario", base], "graph.json", "not a population graph"
    )
    bad_persona = write_file(
        "graph2.json",
        {
            "directed": False,
            "multigraph": False,
            "graph": {},
            "nodes": [{"id": "p1", "age": "old"}],
            "edges": [],
        },
    )
    expect_bad_input(
        cli, ["cast", "--graph", bad_persona, "--scenario", base], "graph2.json", "record p1", "field '"
    )
    bad_edge = write_file(
        "graph3.json",
        {
            "directed": False,
            "multigraph": False,
            "graph": {},
            "nodes": [{"id": "p1", **_persona_fields()}, {"id": "p2", **_persona_fields()}],
            "edges": [{"source": "p1", "target": "p2", "relationships": ["enemies"]}],
        },
    )
    expect_bad_input(
        cli, ["cast", "--graph", bad_edge, "--scenario", base], "graph3.json", "edge p1--p2", "relationships"
    )
    garbled = write_file("graph.graphml", "<graphml><graph>")
    expect_bad_input(
        cli, ["cast", "--graph", garbled, "--scenario", base], "graph.graphml", "invalid GraphML"
    )


def _persona_fields() -> dict:
    return {"name": "P", "age": 30, "gender": "man", "culture": "german", "occupation": "baker"}


def test_builtin_culture_files_pass_cultures_validate(cli):
    from personas.cultures import BUILTIN_CULTURES_DIR

    files = sorted(BUILTIN_CULTURES_DIR.glob("*.yaml"))
    code, stdout, _ = cli("cultures", "validate", *files)
    assert code == 0 and "5 valid culture profile(s)" in stdout
    assert CultureProfile  # the schema the command validates against
