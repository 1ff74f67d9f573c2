"""The Scenario schema: a social situation, its participants' roles, goals and secrets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

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
    age_range: tuple[int, int] | None = Field(default=None, description="Casting constraint: inclusive ages")
    occupations: list[str] = Field(default_factory=list, description="Casting constraint: allowed occupation groups")

    @model_validator(mode="after")
    def _age_range_ordered(self) -> Role:
        if self.age_range and self.age_range[0] > self.age_range[1]:
            raise ValueError(f"age_range {self.age_range} is reversed")
        return self


class Provenance(StrictModel):
    base_scenario: str | None = Field(default=None, description="Id of the base scenario this was adapted from")
    method: AdaptationMethod = "none"
    source: str = Field(default="culturesim", description="Library, importer or model that produced it")


class Scenario(StrictModel):
    id: str = Identifier
    title: str = Field(min_length=1)
    category: str = Field(min_length=1, description="Kind of social situation, e.g. 'gift giving'")
    setting: str = Field(min_length=1, description="Where and when it happens, what has just happened")
    relationship: Relationship
    roles: list[Role] = Field(min_length=2, description="Two or more participants")
    culture: str | None = Field(default=None, description="Culture id; None for a base scenario")
    provenance: Provenance = Field(default_factory=Provenance)

    @model_validator(mode="after")
    def _distinct_role_names(self) -> Scenario:
        names = [role.name for role in self.roles]
        if len(set(names)) != len(names):
            raise ValueError(f"role names must be distinct, got {names}")
        return self
