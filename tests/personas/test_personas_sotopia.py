"""Importing Sotopia agent profiles as personas."""

from __future__ import annotations

import pytest

from personas.files import BadInputError
from personas.sotopia import import_agent_profiles, parse_big_five

AMARA = {
    "agent_id": "01H5TNE5PRCAF1CK5ERS5MVZ22",
    "first_name": "Amara",
    "last_name": "Fieldwell",
    "age": 29,
    "occupation": "Wildlife Biologist",
    "gender": "Woman",
    "gender_pronoun": "She/her",
    "public_info": "Amara counts owls for a living.",
    "big_five": "Openness to Experience - High; Conscientiousness - High; Extraversion - Low; "
    "Agreeableness - High; Neuroticism - Low",
    "moral_values": ["Care", " Fairness"],
    "schwartz_personal_values": ["Universalism", " Benevolence"],
    "personality_and_values": "Open-minded and analytical.",
    "decision_making_style": "Analytical, intuitive",
    "secret": "Feeds the foxes she is meant to study",
    "mbti": "INFJ",
}
BAXTER = {
    **AMARA,
    "agent_id": "01H5TNE5PR54W6SFXKNQWKGPAS",
    "first_name": "Baxter",
    "gender": "Man",
    "age": 42,
}


def test_records_map_to_personas_and_keep_the_rest_in_extra(write_file):
    path = write_file("agents.jsonl", [AMARA, {**BAXTER, "favourite_colour": "teal"}])
    amara, baxter = import_agent_profiles(path, culture="german")
    assert amara.id == "sotopia-01h5tne5prcaf1ck5ers5mvz22"
    assert (amara.name, amara.age, amara.gender, amara.culture) == ("Amara Fieldwell", 29, "woman", "german")
    assert amara.background == AMARA["public_info"] and amara.secret == AMARA["secret"]
    assert amara.personality == {
        "openness": "high",
        "conscientiousness": "high",
        "extraversion": "low",
        "agreeableness": "high",
        "neuroticism": "low",
    }
    assert amara.values == ["universalism", "benevolence"]
    assert amara.extra["moral_values"] == ["Care", "Fairness"]
    assert amara.extra["mbti"] == "INFJ" and amara.extra["agent_id"] == AMARA["agent_id"]
    assert baxter.extra["favourite_colour"] == "teal"  # unknown fields are not lost


def test_default_culture_is_unspecified(write_file):
    (persona,) = import_agent_profiles(write_file("one.jsonl", [AMARA]))
    assert persona.culture == "unspecified"


def test_big_five_text_that_does_not_parse_is_kept_as_text():
    assert parse_big_five("Neuroticism - Moderate") == {"neuroticism": "medium"}
    assert parse_big_five("very open, rather shy") == "very open, rather shy"


@pytest.mark.parametrize(
    ("records", "record", "field", "reason"),
    [
        ([{k: v for k, v in AMARA.items() if k != "first_name"}], AMARA["agent_id"], "first_name", "missing"),
        ([{**AMARA, "age": "twenty-nine"}], AMARA["agent_id"], "age", "integer"),
        ([AMARA, AMARA], AMARA["agent_id"], "agent_id", "duplicate"),
        ([AMARA, ["not", "a", "mapping"]], "1", None, "expected a mapping"),
    ],
)
def test_bad_records_name_the_record_and_field(write_file, records, record, field, reason):
    path = write_file("bad.jsonl", records)
    with pytest.raises(BadInputError) as caught:
        import_agent_profiles(path)
    error = caught.value
    assert error.source == str(path) and str(error.record) == record and error.field == field
    assert reason in error.reason


def test_unknown_culture_flag_is_bad_input(write_file):
    with pytest.raises(BadInputError, match="unknown culture 'american'"):
        import_agent_profiles(write_file("one.jsonl", [AMARA]), culture="american")


def test_real_sotopia_agent_profiles(shared_data):
    path = shared_data / "sotopia" / "agent_profiles.jsonl"
    if not path.exists():
        pytest.skip("no Sotopia agent profiles in ../shared")
    personas = import_agent_profiles(path)
    assert len(personas) == 40 and len({p.id for p in personas}) == 40
    assert all(isinstance(p.personality, dict) and len(p.personality) == 5 for p in personas)
    assert all(p.extra["mbti"] and p.secret and p.values for p in personas)
