"""Sampling personas from a culture: deterministic, plausible and close to the culture's weights."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from personas.cultures import load_culture
from personas.files import BadInputError
from personas.prompts import BIG_FIVE, SECRETS, VALUE_WORDS
from personas.sampler import sample_personas


def test_same_seed_same_personas_different_seed_different():
    first = sample_personas("mexican", 20, seed=7)
    again = sample_personas("mexican", 20, seed=7)
    other = sample_personas("mexican", 20, seed=8)
    assert [p.model_dump() for p in first] == [p.model_dump() for p in again]
    assert [p.model_dump() for p in first] != [p.model_dump() for p in other]
    assert [p.id for p in first][:3] == ["mexican-s7-001", "mexican-s7-002", "mexican-s7-003"]
    assert len({p.id for p in first}) == 20


def test_a_longer_sample_starts_with_the_shorter_one():
    # Persona k depends only on the seed and k, so growing a sample keeps the first personas.
    assert sample_personas("german", 5, 3) == sample_personas("german", 12, 3)[:5]


def test_personas_are_complete_and_consistent():
    culture = load_culture("british")
    for persona in sample_personas(culture, 50, seed=1):
        assert persona.culture == "british"
        assert persona.occupation in culture.demographics.occupations[persona.occupation_group]
        assert set(persona.personality) == set(BIG_FIVE)
        assert 2 <= len(persona.values) <= 3 and set(persona.values) <= set(VALUE_WORDS)
        assert persona.secret in SECRETS
        assert persona.name in persona.background and str(persona.age) in persona.background
        assert persona.name == f"{persona.extra['given_name']} {persona.extra['family_name']}"


def test_names_follow_the_culture():
    for persona in sample_personas("japanese", 20, seed=2):
        assert persona.name.startswith(persona.extra["family_name"] + " ")
        assert persona.extra["given_name"] in load_culture("japanese").naming.given_names[persona.gender]
    for persona in sample_personas("mexican", 20, seed=2):
        assert len(persona.extra["family_name"].split()) == 2  # paternal and maternal


def test_age_rules_keep_personas_plausible():
    for persona in sample_personas("chinese", 1500, seed=4):
        if persona.occupation_group == "retired":
            assert persona.age >= 55
        if persona.occupation_group == "students":
            assert persona.age < 35
        if persona.marital_status == "widowed" or persona.education == "tertiary":
            assert persona.age >= 21 - (persona.marital_status == "widowed")
        if persona.marital_status in ("married", "cohabiting"):
            assert persona.household_size != "1"
    homemakers = Counter(
        p.gender for p in sample_personas("japanese", 1500, seed=4) if p.occupation_group == "homemakers"
    )
    assert homemakers["woman"] > 3 * homemakers["man"]


def within_sampling_error(counts: Counter, weights: dict[str, float], n: int, slack: float = 0.0) -> None:
    """Each share is within 4.5 standard errors (+ slack) of its weight: false alarms ~1e-5 per key."""
    total = sum(weights.values())
    for key, weight in weights.items():
        expected = weight / total
        bound = 4.5 * math.sqrt(expected * (1 - expected) / n) + slack
        assert abs(counts[key] / n - expected) <= bound, (key, counts[key] / n, expected)


@pytest.mark.parametrize("culture_id", ["japanese", "mexican"])
def test_large_samples_follow_the_culture_weights(culture_id):
    culture = load_culture(culture_id)
    n = 4000
    personas = sample_personas(culture, n, seed=11)
    demo = culture.demographics
    bands = Counter(
        next(b for b in demo.age_bands if int(b.split("-")[0]) <= p.age <= int(b.split("-")[1]))
        for p in personas
    )
    within_sampling_error(bands, demo.age_bands, n)
    within_sampling_error(Counter(p.gender for p in personas), demo.gender, n)
    # Occupation and marital status follow age rules, calibrated to keep the overall shares; the
    # slack covers what the calibration leaves over.
    within_sampling_error(
        Counter(p.occupation_group for p in personas), demo.occupation_groups, n, slack=0.01
    )
    within_sampling_error(Counter(p.marital_status for p in personas), demo.marital_status, n, slack=0.01)


def test_values_lean_towards_the_culture():
    # Conformity is weighted by low individualism: more common in China than in Britain.
    china = Counter(v for p in sample_personas("chinese", 1500, seed=5) for v in p.values)
    britain = Counter(v for p in sample_personas("british", 1500, seed=5) for v in p.values)
    assert china["conformity"] > britain["conformity"]
    assert britain["self-direction"] > china["self-direction"]


def test_bad_requests_are_bad_input():
    with pytest.raises(BadInputError, match="unknown culture 'klingon'"):
        sample_personas("klingon", 3)
    with pytest.raises(BadInputError, match="at least 1"):
        sample_personas("german", 0)
