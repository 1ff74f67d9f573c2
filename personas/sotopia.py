"""Importing Sotopia agent profiles (`agent_profiles.jsonl`) as personas.

Sotopia (Zhou et al., ICLR 2024) describes each agent with first/last name, age, occupation, gender,
a public description, Big Five levels as text ("Openness to Experience - High; ..."), moral and
Schwartz values, decision-making style, a secret and an MBTI type. Fields with a Persona
counterpart are mapped; the rest are kept in `extra` so nothing is lost.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from personas.cultures import UNSPECIFIED_CULTURE, check_culture_id
from personas.files import BadInputError, describe_validation_error, read_data_file
from personas.schema import Persona

BIG_FIVE_NAMES = {
    "openness to experience": "openness",
    "openness": "openness",
    "conscientiousness": "conscientiousness",
    "extraversion": "extraversion",
    "agreeableness": "agreeableness",
    "neuroticism": "neuroticism",
}
LEVELS = {"low": "low", "medium": "medium", "moderate": "medium", "average": "medium", "high": "high"}


class SotopiaAgentProfile(BaseModel):
    """The fields the importer relies on; anything else in the record is carried along."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    agent_id: str = Field(default="", description="ULID; older dumps call it `pk`")
    pk: str = ""
    first_name: str = Field(min_length=1)
    last_name: str = ""
    age: int = Field(ge=0, le=120)
    occupation: str = Field(min_length=1)
    gender: str = Field(min_length=1)
    gender_pronoun: str = ""
    public_info: str = ""
    big_five: str = ""
    moral_values: list[str] = Field(default_factory=list)
    schwartz_personal_values: list[str] = Field(default_factory=list)
    personality_and_values: str = ""
    decision_making_style: str = ""
    secret: str = ""
    mbti: str = ""


def parse_big_five(text: str) -> dict[str, str] | str:
    """'Openness to Experience - High; ...' -> {'openness': 'high', ...}; unparseable text stays text."""
    traits: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, dash, level = part.rpartition("-")
        trait = BIG_FIVE_NAMES.get(name.strip().lower())
        value = LEVELS.get(level.strip().lower())
        if not dash or trait is None or value is None:
            return text.strip()
        traits[trait] = value
    return traits


def _persona_id(agent_id: str, first_name: str, last_name: str, index: int) -> str:
    base = agent_id or f"{first_name}-{last_name}-{index}"
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    return f"sotopia-{slug}" if slug else f"sotopia-{index}"


def profile_to_persona(profile: SotopiaAgentProfile, culture: str, index: int) -> Persona:
    agent_id = profile.agent_id or profile.pk
    name = " ".join(part for part in (profile.first_name, profile.last_name) if part)
    extra: dict[str, Any] = {
        "source": "sotopia",
        "agent_id": agent_id,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "gender_pronoun": profile.gender_pronoun,
        "moral_values": [v.strip() for v in profile.moral_values if v.strip()],
        "personality_and_values": profile.personality_and_values,
        "decision_making_style": profile.decision_making_style,
        "mbti": profile.mbti,
    }
    extra.update(profile.model_extra or {})  # fields this importer does not know, kept verbatim
    return Persona(
        id=_persona_id(agent_id, profile.first_name, profile.last_name, index),
        name=name,
        age=profile.age,
        gender=profile.gender.lower(),  # "Woman" -> "woman", as sampled personas spell it
        culture=culture,
        occupation=profile.occupation,
        background=profile.public_info,
        personality=parse_big_five(profile.big_five) if profile.big_five else {},
        values=[v.strip().lower() for v in profile.schwartz_personal_values if v.strip()],
        secret=profile.secret,
        extra={key: value for key, value in extra.items() if value not in ("", [], None)},
    )


def import_agent_profiles(path: str | Path, culture: str = UNSPECIFIED_CULTURE) -> list[Persona]:
    """Every record of a Sotopia agent_profiles JSONL (or JSON list) file as a Persona."""
    check_culture_id(culture, "--culture")
    data = read_data_file(path)
    records = data if isinstance(data, list) else [data]
    personas: list[Persona] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadInputError(path, f"expected a mapping, got {type(record).__name__}", record=index)
        label = record.get("agent_id") or record.get("pk") or index
        try:
            profile = SotopiaAgentProfile.model_validate(record)
            persona = profile_to_persona(profile, culture, index)
        except ValidationError as exc:
            field, reason = describe_validation_error(exc)
            raise BadInputError(path, reason, record=label, field=field) from None
        if persona.id in seen:
            raise BadInputError(
                path,
                f"duplicate agent (first seen at record {seen[persona.id]})",
                record=label,
                field="agent_id",
            )
        seen[persona.id] = index
        personas.append(persona)
    if not personas:
        raise BadInputError(path, "no records found")
    return personas
