"""Drawing personas from a culture's demographic distributions.

Deterministic: the same culture, n and seed always give the same personas (one `random.Random`
seeded with the culture id and the seed, no global state). Age and gender follow the culture's
weights directly; education, occupation, settlement, marital status and household size are drawn
from the culture's weights adjusted by what was drawn before (age, gender, education, occupation),
so that nobody is a 19-year-old widow, a 70-year-old student or an urban rice farmer, and most
full-time homemakers are women. Occupation and marital weights are calibrated first (raking) so
that, overall, their shares still match the file's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from personas import prompts
from personas.cultures import load_culture
from personas.files import BadInputError
from personas.schema import CultureProfile, Demographics, Persona

NOT_WORKING_GROUPS = frozenset({"students", "retired", "homemakers", "unemployed"})
SKILLED_GROUPS = frozenset({"managers", "professionals", "technicians"})
MANUAL_GROUPS = frozenset({"agriculture", "crafts", "operators", "elementary"})
TRAIT_LEVELS = ("low", "medium", "high")
TRAIT_LEVEL_WEIGHTS = (1, 2, 1)

# Which Hofstede dimension makes a Schwartz value more likely among a culture's personas, and in
# which direction (+1: a high score favours it, -1: a low score does).
VALUE_AFFINITY: dict[str, tuple[str, int]] = {
    "self-direction": ("individualism", +1),
    "stimulation": ("indulgence", +1),
    "hedonism": ("indulgence", +1),
    "achievement": ("masculinity", +1),
    "power": ("power_distance", +1),
    "security": ("uncertainty_avoidance", +1),
    "conformity": ("individualism", -1),
    "tradition": ("long_term_orientation", -1),
    "benevolence": ("individualism", -1),
    "universalism": ("masculinity", -1),
}


def sample_personas(culture: CultureProfile | str, n: int, seed: int = 0) -> list[Persona]:
    """`n` personas of the culture, ids like `mexican-s7-003`."""
    return list(iter_personas(culture, n, seed))


def iter_personas(culture: CultureProfile | str, n: int, seed: int = 0) -> Iterator[Persona]:
    """The same personas as `sample_personas`, one at a time (for progress bars and streaming)."""
    if isinstance(culture, str):
        culture = load_culture(culture)
    if n < 1:
        raise BadInputError("-n", f"must be at least 1, got {n}")
    groups, marital = _calibrated_weights(culture.demographics.model_dump_json())
    weights = _Weights(values=_value_weights(culture), groups=groups, marital=marital)
    return _generate(culture, n, seed, weights)  # a plain function: bad arguments fail right away


def _generate(culture: CultureProfile, n: int, seed: int, weights: _Weights) -> Iterator[Persona]:
    rng = random.Random(f"{culture.id}/{seed}")  # str seeds are hashed with SHA-512: stable across runs
    for index in range(1, n + 1):
        yield _sample_one(culture, rng, weights, f"{culture.id}-s{seed}-{index:03d}")


@dataclass(frozen=True)
class _Weights:
    values: dict[str, float]
    groups: dict[str, float]  # occupation group weights, calibrated for the age rules
    marital: dict[str, float]  # marital status weights, calibrated for the age rules


def _sample_one(culture: CultureProfile, rng: random.Random, weights: _Weights, persona_id: str) -> Persona:
    demo = culture.demographics
    low, high = (int(part) for part in _choose(rng, demo.age_bands).split("-"))
    age = rng.randint(low, high)
    gender = _choose(rng, demo.gender)
    education = _choose(
        rng, {k: w * _education_factor(k, age) for k, w in demo.education.items()}, demo.education
    )
    group_weights = {k: w * _occupation_factor(k, age, education, gender) for k, w in weights.groups.items()}
    group = _choose(rng, group_weights, demo.occupation_groups)
    settlement = _choose(
        rng, {k: w * _settlement_factor(k, group) for k, w in demo.settlement.items()}, demo.settlement
    )
    occupation = rng.choice(demo.occupations.get(group) or [group.replace("_", " ")])
    marital = _choose(
        rng, {k: w * _marital_factor(k, age) for k, w in weights.marital.items()}, demo.marital_status
    )
    household = _choose(
        rng,
        {k: w * _household_factor(k, marital) for k, w in demo.household_size.items()},
        demo.household_size,
    )
    given_name, family_name = _sample_name(culture, rng, gender)
    name = (
        f"{family_name} {given_name}" if culture.naming.family_name_first else f"{given_name} {family_name}"
    )
    city = rng.choice(culture.naming.cities)
    personality = {trait: rng.choices(TRAIT_LEVELS, TRAIT_LEVEL_WEIGHTS)[0] for trait in prompts.BIG_FIVE}
    values = _weighted_sample(rng, weights.values, rng.choice((2, 3)))
    place = city if settlement == "urban" else prompts.RURAL_PLACE.format(city=city)
    background = _background(
        rng, name, age, gender, occupation, group, place, marital, household, education, values
    )
    return Persona(
        id=persona_id,
        name=name,
        age=age,
        gender=gender,
        culture=culture.id,
        occupation=occupation,
        occupation_group=group,
        education=education,
        settlement=settlement,
        marital_status=marital,
        household_size=household,
        background=background,
        personality=personality,
        values=values,
        secret=rng.choice(prompts.SECRETS),
        extra={"given_name": given_name, "family_name": family_name, "city": city},
    )


# One (probability, age, education, gender) cell per kind of person, for calibrating the rules.
Cell = tuple[float, int, str, str]


@lru_cache(maxsize=32)
def _calibrated_weights(demographics_json: str) -> tuple[dict[str, float], dict[str, float]]:
    """Occupation group and marital status weights for the age rules (cached: ~0.1 s per culture)."""
    demo = Demographics.model_validate_json(demographics_json)
    cells = _person_cells(demo)
    return (
        _calibrated(demo.occupation_groups, cells, _occupation_factor),
        _calibrated(demo.marital_status, cells, _marital_fit),
    )


def _person_cells(demo: Demographics) -> list[Cell]:
    age_total = sum(demo.age_bands.values())
    gender_total = sum(demo.gender.values())
    cells = []
    for band, band_weight in demo.age_bands.items():
        low, high = (int(part) for part in band.split("-"))
        for age in range(low, high + 1):
            education = {k: w * _education_factor(k, age) for k, w in demo.education.items()}
            if sum(education.values()) <= 0:
                education = dict(demo.education)
            education_total = sum(education.values())
            for level, weight in education.items():
                share = band_weight / age_total / (high - low + 1) * weight / education_total
                for gender, gender_weight in demo.gender.items():
                    cells.append((share * gender_weight / gender_total, age, level, gender))
    return cells


def _calibrated(
    weights: dict[str, float], cells: list[Cell], fit: Callable[[str, int, str, str], float], rounds: int = 25
) -> dict[str, float]:
    """Weights that, once multiplied by the age rules, give back the file's overall shares.

    Raking (iterative proportional fitting): without it the rules would, for example, turn most
    of Japan's many over-60s into retirees and push the retired share far above the census figure.
    """
    total = sum(weights.values())
    target = {key: weight / total for key, weight in weights.items()}
    calibrated = dict(target)
    for _ in range(rounds):
        achieved = dict.fromkeys(calibrated, 0.0)
        for probability, age, education, gender in cells:
            scores = {key: calibrated[key] * fit(key, age, education, gender) for key in calibrated}
            norm = sum(scores.values())
            if norm > 0:
                for key, score in scores.items():
                    achieved[key] += probability * score / norm
        calibrated = {k: w * target[k] / achieved[k] if achieved[k] > 0 else w for k, w in calibrated.items()}
    return calibrated


def _marital_fit(status: str, age: int, _education: str, _gender: str) -> float:
    return _marital_factor(status, age)


def _choose(rng: random.Random, weights: dict[str, float], fallback: dict[str, float] | None = None) -> str:
    # When age rules rule out every option (a culture with unusual groups), use the plain weights.
    if sum(weights.values()) <= 0 and fallback is not None:
        weights = fallback
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def _weighted_sample(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    remaining = dict(weights)
    chosen = []
    for _ in range(min(k, len(remaining))):
        pick = _choose(rng, remaining)
        chosen.append(pick)
        del remaining[pick]
    return chosen


def _value_weights(culture: CultureProfile) -> dict[str, float]:
    weights = {}
    for value, (dimension, direction) in VALUE_AFFINITY.items():
        score = getattr(culture.hofstede, dimension)
        weights[value] = 20 + (score if direction > 0 else 100 - score)
    return weights


def _occupation_factor(group: str, age: int, education: str, gender: str) -> float:
    # Full-time homemakers are overwhelmingly women in all five built-in cultures' statistics.
    gender_fit = 0.15 if group == "homemakers" and gender == "man" else 1.0
    return _age_fit(group, age) * _education_fit(group, education) * gender_fit


def _education_fit(group: str, education: str) -> float:
    if group in SKILLED_GROUPS:
        return 0.1 if education == "below upper secondary" else 3.0 if education == "tertiary" else 1.0
    if group in MANUAL_GROUPS:
        return 0.3 if education == "tertiary" else 1.0
    return 1.0


def _settlement_factor(settlement: str, group: str) -> float:
    # Farmers live in the countryside: an urban rice farmer would read as a mistake.
    return 0.1 if group == "agriculture" and settlement == "urban" else 1.0


def _age_fit(group: str, age: int) -> float:
    if group == "students":
        return 4.0 if age < 25 else 1.0 if age < 30 else 0.3 if age < 35 else 0.0
    if group == "retired":
        return 0.0 if age < 55 else 0.3 if age < 60 else 3.0 if age < 65 else 10.0
    if group == "homemakers":
        return 1.0
    if group == "managers" and age < 25:
        return 0.1
    # Everyone else works (or looks for work): fewer with age, nobody past 74.
    return 1.0 if age < 60 else 0.7 if age < 65 else 0.35 if age < 70 else 0.15 if age < 75 else 0.0


def _marital_factor(status: str, age: int) -> float:
    if status in ("married", "cohabiting"):
        return 0.2 if age < 22 else 0.5 if age < 25 else 1.0
    if status == "divorced":
        return 0.1 if age < 25 else 1.0
    if status == "widowed":
        return 0.02 if age < 40 else 0.3 if age < 60 else 1.0 if age < 70 else 4.0
    if status == "single":
        return 0.5 if age >= 60 else 1.0
    return 1.0


def _household_factor(size: str, marital: str) -> float:
    return 0.0 if size == "1" and marital in ("married", "cohabiting") else 1.0


def _education_factor(level: str, age: int) -> float:
    return 0.0 if level == "tertiary" and age < 21 else 1.0


def _sample_name(culture: CultureProfile, rng: random.Random, gender: str) -> tuple[str, str]:
    naming = culture.naming
    given_pool = naming.given_names.get(gender) or naming.given_names.get("any")
    if not given_pool:  # a gender the naming does not list: any of the culture's given names
        given_pool = [name for names in naming.given_names.values() for name in names]
    count = min(naming.surname_count, len(naming.family_names))
    family_name = " ".join(rng.sample(naming.family_names, count))
    return rng.choice(given_pool), family_name


def _background(
    rng: random.Random,
    name: str,
    age: int,
    gender: str,
    occupation: str,
    group: str,
    place: str,
    marital: str,
    household: str,
    education: str,
    values: list[str],
) -> str:
    subject, object_ = prompts.PRONOUNS.get(gender, prompts.NEUTRAL_PRONOUNS)
    marital_phrase = prompts.MARITAL_PHRASES.get(marital, f"is {marital}")
    household_phrase = prompts.HOUSEHOLD_PHRASES.get(household, f"lives in a household of {household}")
    templates = (
        prompts.BACKGROUND_TEMPLATES_NOT_WORKING
        if group in NOT_WORKING_GROUPS
        else prompts.BACKGROUND_TEMPLATES
    )
    return rng.choice(templates).format(
        name=name,
        age=age,
        a_occupation=prompts.with_article(occupation),
        place=place,
        pronoun=subject,
        object=object_,
        life=f"{marital_phrase} and {household_phrase}",
        schooling=prompts.EDUCATION_PHRASES.get(education, f"{education} education"),
        values=prompts.values_phrase(values),
    )
