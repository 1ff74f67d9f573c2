"""Template adaptation: placeholders filled from a culture's naming, meaning and roles kept."""

from __future__ import annotations

import re

import pytest

from personas.cultures import list_cultures
from scenarios import placeholders
from scenarios.adaptation import adapt_by_template
from scenarios.library import load_base_scenarios
from scenarios.schema import Scenario

BASES = load_base_scenarios()
CULTURES = list_cultures()


def test_five_cultures_are_built_in():
    assert {c.id for c in CULTURES} >= {"british", "german", "mexican", "japanese", "chinese"}


@pytest.mark.parametrize("culture", CULTURES, ids=lambda c: c.id)
def test_every_base_adapts_to_every_culture(culture):
    for base in BASES:
        adapted = adapt_by_template(base, culture)
        assert adapted.id == f"{base.id}.{culture.id}"
        assert adapted.culture == culture.id
        assert adapted.provenance.method == "template"
        assert adapted.provenance.base_scenario == base.id
        assert (adapted.category, adapted.relationship) == (base.category, base.relationship)
        assert [r.name for r in adapted.roles] == [r.name for r in base.roles]
        assert [(r.age_range, r.occupations) for r in adapted.roles] == [
            (r.age_range, r.occupations) for r in base.roles
        ]
        for field, text in placeholders.text_fields(adapted):
            assert not placeholders.PLACEHOLDER.search(text), (
                f"{adapted.id} {field} keeps a placeholder: {text}"
            )
        for base_role, role in zip(base.roles, adapted.roles):
            assert_same_structure(base_role.goal, role.goal)
            assert_same_structure(base_role.secret, role.secret)
        assert any(city in adapted.setting for city in culture.naming.cities)
        assert f"Cultural context: {culture.name}" in adapted.setting


def assert_same_structure(template: str, filled: str) -> None:
    """Every literal piece of the base text survives, in order: only placeholders change."""
    position = 0
    for piece in placeholders.skeleton(template):
        piece = piece.removesuffix(" a").removesuffix(" an")  # the article may change with the word
        found = filled.find(piece, position)
        assert found >= 0, f"'{piece}' lost from '{filled}'"
        position = found + len(piece)


def test_adaptation_is_deterministic_and_differs_between_cultures():
    base = next(b for b in BASES if b.id == "market-haggling")
    first = [adapt_by_template(base, c).model_dump() for c in CULTURES]
    again = [adapt_by_template(base, c).model_dump() for c in CULTURES]
    assert first == again
    assert len({a["setting"] for a in first}) == len(CULTURES)


def test_placeholders_are_filled_from_the_culture_naming(test_culture, make_scenario):
    base = Scenario.model_validate(make_scenario())
    adapted = adapt_by_template(base, test_culture)
    # an eel house: the article follows the filled-in word; family name first, two surnames
    assert " at an eel house." in adapted.setting
    match = re.search(r"eel house\. ((\w+) (\w+) (\w+)) has sent a message", adapted.setting)
    assert match, adapted.setting
    assert {match.group(2), match.group(3)} <= {"Quill", "Reed"} and match.group(4) in ("Ama", "Bo")
    city = re.search(r"An afternoon in (\w+) at", adapted.setting).group(1)
    second_city = re.search(r"stay for tea in (\w+)\.", adapted.roles[0].goal).group(1)
    assert {city, second_city} <= set(test_culture.naming.cities)
    assert city != second_city, "{city} and {city:1} are different cities"
    assert "title and family name" in adapted.setting  # forms of address for the relationship
    # Descriptors come from the scores and are chosen for the kind of situation.
    assert "strongly collectivist" in adapted.setting  # individualism 10: relevant to hospitality
    assert "hierarchy is respected" not in adapted.setting  # power distance is not, for hospitality
    workplace = Scenario.model_validate(make_scenario(category="workplace hierarchy"))
    assert "strongly hierarchy is respected" in adapt_by_template(workplace, test_culture).setting


def test_missing_naming_entries_fall_back_to_generic_words(test_culture, make_scenario):
    base = Scenario.model_validate(
        make_scenario(setting="A {venue:bakery} in {city}; prices in {currency}; {greeting}.")
    )
    adapted = adapt_by_template(base, test_culture)
    assert adapted.setting.startswith("A bakery in ")
    assert "prices in testcoin; Well met." in adapted.setting


def test_norm_matching_the_kind_of_situation_is_chosen(test_culture, make_scenario):
    gift = Scenario.model_validate(make_scenario(category="gift giving"))
    assert "Gifts are refused three times" in adapt_by_template(gift, test_culture).setting
    other = Scenario.model_validate(make_scenario(category="sport"))
    assert "Gifts are refused" in adapt_by_template(other, test_culture).setting  # first norm as the default


def test_an_adapted_scenario_cannot_be_adapted_again(test_culture, make_scenario):
    adapted = adapt_by_template(Scenario.model_validate(make_scenario()), test_culture)
    with pytest.raises(ValueError, match="already specific"):
        adapt_by_template(adapted, test_culture)


def test_placeholder_parsing_rejects_malformed_placeholders():
    assert placeholders.find("{city} {city:2} {venue:train station} {person:3} {address:stranger}")
    for bad in ("{town}", "{venue}", "{city:x}", "{person}", "{address:boss}", "{currency:eur}"):
        with pytest.raises(ValueError):
            placeholders.find(bad)
