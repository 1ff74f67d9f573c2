"""Built-in culture profiles, user culture files and the descriptors derived from the scores."""

from __future__ import annotations

import pytest

from personas.cultures import (
    BUILTIN_CULTURES_DIR,
    CULTURES_PATH_ENV,
    culture_by_country,
    list_cultures,
    load_culture,
)
from personas.files import BadInputError, load_records
from personas.schema import CultureProfile

BUILTIN = ("british", "german", "mexican", "japanese", "chinese")
RELATIONSHIPS = (
    "stranger",
    "acquaintance",
    "friend",
    "colleague",
    "family",
    "romantic",
    "manager_subordinate",
    "service_customer",
    "teacher_student",
    "neighbour",
)
GENERIC_PLACES = (
    "restaurant",
    "office",
    "home",
    "park",
    "shop",
    "train station",
    "wedding",
    "hospital",
    "school",
    "market",
)


def test_the_five_builtin_cultures_validate_and_are_complete():
    assert sorted(c.id for c in list_cultures()) == sorted(BUILTIN)
    for path in sorted(BUILTIN_CULTURES_DIR.glob("*.yaml")):
        (culture,) = load_records(path, CultureProfile)
        assert culture.id == path.stem
        assert set(RELATIONSHIPS) <= set(culture.naming.forms_of_address), culture.id
        assert set(GENERIC_PLACES) <= set(culture.naming.venues), culture.id
        assert 4 <= len(culture.norms) <= 8
        assert culture.sources and culture.naming.currency and culture.naming.greeting
        # every occupation group a persona can be drawn into has concrete jobs
        assert set(culture.demographics.occupations) == set(culture.demographics.occupation_groups)
        assert "Hofstede" in path.read_text(encoding="utf-8").split("\nid:")[0]  # the file comment cites it


def test_published_hofstede_scores_are_used():
    scores = {c.id: c.hofstede.model_dump() for c in list_cultures()}
    assert list(scores["mexican"].values()) == [81, 30, 69, 82, 24, 97]
    assert list(scores["japanese"].values()) == [54, 46, 95, 92, 88, 42]
    assert (
        scores["british"]["individualism"]
        > scores["german"]["individualism"]
        > scores["chinese"]["individualism"]
    )


def test_family_name_order_follows_the_culture():
    assert load_culture("japanese").naming.family_name_first
    assert load_culture("chinese").naming.family_name_first
    assert not load_culture("german").naming.family_name_first
    assert load_culture("mexican").naming.surname_count == 2


def test_descriptors_are_derived_from_the_scores():
    mexico = load_culture("mexican").descriptors()
    assert any("hierarchy is respected" in phrase for phrase in mexico)
    assert any("collectivist" in phrase for phrase in mexico)
    assert any(phrase.startswith("strongly indulgent") for phrase in mexico)
    assert any("traditional values" in phrase for phrase in mexico)
    uk = load_culture("british").descriptors()
    assert any("individualistic" in phrase and "collectivist" not in phrase for phrase in uk)
    assert any("question authority" in phrase for phrase in uk)
    japan = load_culture("japanese").descriptors()
    assert any(phrase.startswith("strongly uncomfortable with ambiguity") for phrase in japan)
    china = load_culture("chinese").descriptors()
    assert any("survival values" in phrase for phrase in china)


def test_descriptors_change_when_the_scores_change():
    uk = load_culture("british")
    flipped = uk.model_copy(update={"hofstede": uk.hofstede.model_copy(update={"individualism": 10})})
    assert any("collectivist" in phrase for phrase in flipped.descriptors())
    assert not any("collectivist" in phrase for phrase in uk.descriptors())


def test_lookup_by_country_name_alias_and_code():
    assert culture_by_country("Great Britain").id == "british"
    assert culture_by_country("britain").id == "british"  # GlobalOpinionQA spelling
    assert culture_by_country("United Kingdom").id == "british"
    assert culture_by_country("MX").id == "mexican"
    assert culture_by_country("Atlantis") is None
    assert load_culture("Japan").id == "japanese"
    assert load_culture(" German ").id == "german"


def test_unknown_culture_lists_the_known_ones():
    with pytest.raises(BadInputError) as caught:
        load_culture("japanse")
    message = str(caught.value)
    assert "unknown culture 'japanse'" in message and "did you mean 'japanese'" in message
    assert all(culture_id in message for culture_id in BUILTIN)


def test_a_new_culture_is_just_a_data_file(monkeypatch, tmp_path, write_file, make_culture):
    write_file("more/testish.yaml", make_culture())
    monkeypatch.setenv(CULTURES_PATH_ENV, str(tmp_path / "more"))
    assert "testish" in [c.id for c in list_cultures()]
    assert load_culture("Testland").name == "Testish"
    monkeypatch.delenv(CULTURES_PATH_ENV)
    assert "testish" not in [c.id for c in list_cultures()]  # the cache follows the setting


def test_user_culture_may_not_redefine_a_builtin(monkeypatch, write_file, make_culture):
    path = write_file("british_again.yaml", make_culture(id="british"))
    monkeypatch.setenv(CULTURES_PATH_ENV, str(path))
    with pytest.raises(BadInputError) as caught:
        list_cultures()
    assert "duplicate culture id" in str(caught.value) and "british_again.yaml" in str(caught.value)


def test_missing_culture_directory_is_bad_input(monkeypatch, tmp_path):
    monkeypatch.setenv(CULTURES_PATH_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(BadInputError, match=CULTURES_PATH_ENV):
        list_cultures()
