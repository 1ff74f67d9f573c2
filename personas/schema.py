"""Schemas of who speaks: a culture's profile and a persona."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Identifier = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", min_length=1, max_length=120)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Hofstede(StrictModel):
    """Hofstede's six dimensions, 0-100 (country comparison scores)."""

    power_distance: int = Field(ge=0, le=100)
    individualism: int = Field(ge=0, le=100)
    masculinity: int = Field(ge=0, le=100, description="Motivation towards achievement and success")
    uncertainty_avoidance: int = Field(ge=0, le=100)
    long_term_orientation: int = Field(ge=0, le=100)
    indulgence: int = Field(ge=0, le=100)


class InglehartWelzel(StrictModel):
    """Position on the Inglehart-Welzel cultural map (roughly -2.5..2.5 on each axis)."""

    traditional_secular: float = Field(
        ge=-3, le=3, description="Traditional (<0) vs secular-rational (>0) values"
    )
    survival_self_expression: float = Field(
        ge=-3, le=3, description="Survival (<0) vs self-expression (>0) values"
    )


Distribution = dict[str, float]


class Demographics(StrictModel):
    """Weights (need not sum to 1) from which personas of the culture are sampled."""

    age_bands: Distribution = Field(description='Keys like "18-29"; weights of the adult population')
    gender: Distribution
    education: Distribution
    settlement: Distribution = Field(description="urban / rural shares")
    occupation_groups: Distribution = Field(description="Occupation groups with weights")
    occupations: dict[str, list[str]] = Field(
        default_factory=dict, description="Concrete jobs per occupation group"
    )
    marital_status: Distribution
    household_size: Distribution = Field(description='Keys "1".."5+"')

    @field_validator(
        "age_bands",
        "gender",
        "education",
        "settlement",
        "occupation_groups",
        "marital_status",
        "household_size",
    )
    @classmethod
    def _positive_weights(cls, value: Distribution) -> Distribution:
        if not value:
            raise ValueError("distribution is empty")
        if any(weight < 0 for weight in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return value

    @field_validator("age_bands")
    @classmethod
    def _age_band_keys(cls, value: Distribution) -> Distribution:
        for key in value:
            low, _, high = key.partition("-")
            if not (low.isdigit() and high.isdigit() and int(low) <= int(high)):
                raise ValueError(f"age band '{key}' must look like '18-29'")
        return value

    @model_validator(mode="after")
    def _occupations_name_known_groups(self) -> Demographics:
        # A typo in a group name would silently leave that group without concrete jobs.
        unknown = sorted(set(self.occupations) - set(self.occupation_groups))
        if unknown:
            raise ValueError(f"occupations lists groups not in occupation_groups: {unknown}")
        return self


class Naming(StrictModel):
    """Culture-appropriate names, places and forms of address, used by template adaptation."""

    given_names: dict[str, list[str]] = Field(description="Given names by gender")
    family_names: list[str]
    family_name_first: bool = False
    surname_count: int = Field(
        default=1,
        ge=1,
        le=2,
        description="Family names a person carries (2 in Mexico: paternal and maternal)",
    )
    cities: list[str]
    venues: dict[str, str] = Field(default_factory=dict, description="Generic place -> local place")
    forms_of_address: dict[str, str] = Field(
        default_factory=dict, description="Relationship -> how one addresses the other"
    )
    currency: str = ""
    greeting: str = ""


class CultureProfile(StrictModel):
    id: str = Identifier
    name: str = Field(min_length=1, description="Display name, e.g. 'Japanese'")
    country: str = Field(min_length=1, description="Country name as survey data spells it, e.g. 'Japan'")
    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names surveys use for the country, e.g. 'Britain', 'United Kingdom'",
    )
    language: str = Field(min_length=1)
    hofstede: Hofstede
    inglehart_welzel: InglehartWelzel
    demographics: Demographics
    naming: Naming
    norms: list[str] = Field(default_factory=list, description="Short social norms, written for prompts")
    sources: list[str] = Field(min_length=1, description="Where the figures come from")

    @model_validator(mode="after")
    def _names_for_every_gender(self) -> CultureProfile:
        named = set(self.naming.given_names)
        missing = [
            g for g, w in self.demographics.gender.items() if w > 0 and g not in named and "any" not in named
        ]
        if missing:
            raise ValueError(
                f"naming.given_names has no names for gender {missing} (add them or an 'any' list)"
            )
        return self

    def descriptors(self) -> list[str]:
        """Prompt phrases derived from the scores, never typed by hand."""
        from personas.descriptors import culture_descriptors

        return culture_descriptors(self)


class Persona(StrictModel):
    id: str = Identifier
    name: str = Field(min_length=1)
    age: int = Field(ge=0, le=120)
    gender: str = Field(min_length=1)
    culture: str = Field(min_length=1, description="Culture id, e.g. 'japanese'")
    occupation: str = Field(min_length=1)
    occupation_group: str = Field(
        default="", description="Occupation group as in the culture's demographics; used by casting"
    )
    education: str = ""
    settlement: str = ""
    marital_status: str = ""
    household_size: str = ""
    background: str = ""
    personality: dict[str, Literal["low", "medium", "high"]] | str = Field(
        default_factory=dict,
        description="Big Five traits (openness ... neuroticism) as low/medium/high, or free text",
    )
    values: list[str] = Field(default_factory=list)
    secret: str = ""
    extra: dict[str, Any] = Field(default_factory=dict, description="Free fields kept as they are")

    @field_validator("personality", mode="before")
    @classmethod
    def _trait_levels(cls, value: Any) -> Any:
        # Checked here so a bad level reads "field 'personality'", not pydantic's union-branch path.
        if isinstance(value, dict):
            for trait, trait_level in value.items():
                if trait_level not in ("low", "medium", "high"):
                    raise ValueError(f"trait '{trait}' must be low, medium or high, got {trait_level!r}")
        return value
