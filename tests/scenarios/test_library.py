"""The built-in base library and loading scenarios from the library and user files."""

from __future__ import annotations

from collections import Counter

import pytest

from personas.cultures import culture_ids
from personas.files import BadInputError
from scenarios import placeholders
from scenarios.files import read_scenario_file, slug
from scenarios.library import (
    BASE_LIBRARY_DIR,
    SCENARIOS_PATH_ENV,
    get_scenario,
    load_base_scenarios,
    load_scenarios,
)

LIBRARY_FILES = sorted(BASE_LIBRARY_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: p.name)
def test_every_library_file_validates_as_base_scenarios(path):
    scenarios = read_scenario_file(path)
    assert scenarios
    for scenario in scenarios:
        assert scenario.culture is None
        assert scenario.provenance.method == "none"
        assert slug(scenario.category) == path.stem, "a library file holds one category, named after it"
        assert len(scenario.roles) >= 2
        assert all(role.goal and role.secret for role in scenario.roles), (
            "every role needs a goal and a secret"
        )
        assert placeholders.check(scenario) is None
        assert "{city}" in scenario.setting, "base settings are placed in a culture's city"


def test_library_has_enough_scenarios_and_kinds_of_situation():
    bases = load_base_scenarios()
    categories = Counter(scenario.category for scenario in bases)
    assert len(bases) >= 24
    assert len(categories) >= 8
    assert min(categories.values()) >= 3
    assert len({s.id for s in bases}) == len(bases)


def test_load_scenarios_adapts_every_base_to_every_culture():
    bases = load_base_scenarios()
    cultures = culture_ids()
    assert {"british", "german", "mexican", "japanese", "chinese"} <= set(cultures)
    adapted = load_scenarios()
    assert len(adapted) == len(bases) * len(cultures)
    assert {s.id for s in adapted} == {f"{b.id}.{c}" for b in bases for c in cultures}
    with_base = load_scenarios(["japanese"], include_base=True)
    assert len(with_base) == 2 * len(bases)
    assert {s.culture for s in with_base} == {None, "japanese"}


def test_load_scenarios_accepts_country_names_and_rejects_unknown_cultures():
    assert {s.culture for s in load_scenarios(["Japan"])} == {"japanese"}
    with pytest.raises(BadInputError, match="unknown culture 'atlantean'"):
        load_scenarios(["atlantean"])


def test_get_scenario_by_base_id_and_adapted_id():
    base = get_scenario("market-haggling")
    assert base.culture is None
    adapted = get_scenario("market-haggling.german")
    assert adapted.culture == "german"
    assert adapted.provenance.base_scenario == "market-haggling"
    assert get_scenario("market-haggling.german") == adapted  # cached and stable
    with pytest.raises(BadInputError, match="unknown scenario"):
        get_scenario("no-such-scenario")
    with pytest.raises(BadInputError, match="unknown culture"):
        get_scenario("market-haggling.atlantean")


def test_user_files_from_env_and_paths(monkeypatch, write_file, make_scenario, tmp_path):
    env_file = write_file("env/extra.yaml", [make_scenario(id="env-scenario")])
    given_file = write_file("given.yaml", [make_scenario(id="given-scenario")])
    monkeypatch.setenv(SCENARIOS_PATH_ENV, str(env_file.parent))
    ids = {s.id for s in load_base_scenarios(paths=[given_file])}
    assert {"env-scenario", "given-scenario", "market-haggling"} <= ids
    assert get_scenario("env-scenario.chinese", paths=[given_file]).culture == "chinese"
    assert "given-scenario.mexican" in {s.id for s in load_scenarios(["mexican"], paths=[given_file])}


def test_duplicate_ids_across_files_are_bad_input(write_file, make_scenario):
    first = write_file("a.yaml", [make_scenario(id="same")])
    second = write_file("b.yaml", [make_scenario(id="same")])
    with pytest.raises(BadInputError) as caught:
        load_base_scenarios(paths=[first, second])
    assert caught.value.source == str(second)
    assert caught.value.record == "same"
    assert caught.value.field == "id"
    assert str(first) in caught.value.reason


def test_a_user_id_that_repeats_a_library_id_is_bad_input(write_file, make_scenario):
    clash = write_file("clash.yaml", [make_scenario(id="market-haggling")])
    with pytest.raises(BadInputError, match="duplicate id"):
        load_base_scenarios(paths=[clash])


def test_hand_written_adaptation_replaces_the_template_one(write_file, make_scenario):
    roles = [{"name": "shopper", "goal": "Pay less."}, {"name": "stall keeper", "goal": "Sell high."}]
    own = make_scenario(
        id="market-haggling.japanese",
        culture="japanese",
        setting="A hand-written setting in Osaka.",
        roles=roles,
    )
    path = write_file("own.yaml", [own])
    scenarios = {s.id: s for s in load_scenarios(["japanese"], paths=[path])}
    assert scenarios["market-haggling.japanese"].setting == "A hand-written setting in Osaka."
    assert len(scenarios) == len(load_base_scenarios())
    assert get_scenario("market-haggling.japanese", paths=[path]).setting.startswith("A hand-written")


def test_missing_user_path_is_bad_input(monkeypatch, tmp_path):
    monkeypatch.setenv(SCENARIOS_PATH_ENV, str(tmp_path / "missing"))
    with pytest.raises(BadInputError, match="does not exist"):
        load_base_scenarios()
