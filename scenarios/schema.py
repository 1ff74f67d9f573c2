"""The Scenario schema: a social situation, its participants' roles, goals and secrets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from personas.schema import Identifier, StrictModel

Relationship = Literal[
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
]

AdaptationMethod = Literal["none", "template", "llm", "import"]


class Role(StrictModel):
    name: str = Field(min_length=1, description="The role in the situation, e.g. 'host' or 'guest'")
    goal: str = Field(min_length=1, description="What this participant wants; hidden from the others")
    secret: str = Field(default="", description="Something this participant knows and does not want revealed")
    hint: str = Field(
        default="", description="Private strategy advice for this participant (e.g. Sotopia's hints)"
    )
    age_range: tuple[int, int] | None = Field(default=None, description="Casting constraint: inclusive ages")
    occupations: list[str] = Field(
        default_factory=list, description="Casting constraint: allowed occupation groups"
    )

    @field_validator("age_range")
    @classmethod
    def _age_range_ordered(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        # A field validator (not a model one) so that errors name the field: roles.0.age_range.
        if value and value[0] > value[1]:
            raise ValueError(f"age_range {list(value)} is reversed (write [youngest, oldest])")
        return value


class Provenance(StrictModel):
    base_scenario: str | None = Field(
        default=None, description="Id of the base scenario this was adapted from"
    )
    method: AdaptationMethod = "none"
    source: str = Field(default="culturesim", description="Library, importer or model that produced it")
    source_id: str | None = Field(
        default=None, description="The record's id in its source, e.g. Sotopia's env_id"
    )


class Scenario(StrictModel):
    id: str = Identifier
    title: str = Field(min_length=1, description="A short headline for the situation")
    category: str = Field(min_length=1, description="Kind of social situation, e.g. 'gift giving'")
    setting: str = Field(min_length=1, description="Where and when it happens, what has just happened")
    relationship: Relationship = Field(description="How the participants are related")
    roles: list[Role] = Field(min_length=2, description="Two or more participants")
    judge_notes: str = Field(
        default="", description="Facts for the judge only (e.g. a hidden answer); never shown to roles"
    )
    culture: str | None = Field(default=None, description="Culture id; None for a base scenario")
    provenance: Provenance = Field(default_factory=Provenance)

    @field_validator("roles")
    @classmethod
    def _distinct_role_names(cls, roles: list[Role]) -> list[Role]:
        names = [role.name for role in roles]
        if len(set(names)) != len(names):
            raise ValueError(f"role names must be distinct, got {names}")
        return roles
