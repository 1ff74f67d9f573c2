"""Template adaptation: a base scenario made specific to one culture, without a model.

Placeholders (see scenarios/placeholders.py) are filled from the culture's `Naming`, and one short
paragraph of cultural framing is added to the setting, built from the culture's score-derived
descriptors and its written norms, chosen for the kind of situation. Roles, their goals and their
count are kept: adaptation changes where and among whom a situation happens, not what people want.
Choices (which city, which names) are seeded by the base id and culture id, so an adaptation is
the same on every machine and every run.
"""

from __future__ import annotations

import hashlib

from personas.descriptors import HOFSTEDE_PHRASES
from personas.schema import CultureProfile
from scenarios import placeholders
from scenarios.placeholders import Placeholder
from scenarios.schema import Provenance, Role, Scenario

# CultureProfile.descriptors() lists one phrase per Hofstede dimension, then the two Inglehart-Welzel axes.
DESCRIPTOR_KEYS = (*HOFSTEDE_PHRASES, "traditional_secular", "survival_self_expression")

# Which cultural dimensions shape each kind of situation most (the first two are used).
CATEGORY_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "invitations and hospitality": ("individualism", "indulgence"),
    "gift giving": ("individualism", "long_term_orientation"),
    "workplace hierarchy": ("power_distance", "uncertainty_avoidance"),
    "negotiation": ("masculinity", "uncertainty_avoidance"),
    "family obligations": ("individualism", "traditional_secular"),
    "complaints and conflict": ("individualism", "masculinity"),
    "asking favours": ("individualism", "power_distance"),
    "public etiquette": ("uncertainty_avoidance", "indulgence"),
}
DEFAULT_DIMENSIONS = ("individualism", "power_distance")

# Words that make a culture's written norm relevant to a kind of situation.
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "invitations and hospitality": ("invit", "guest", "host", "meal", "dinner", "food", "visit", "bill"),
    "gift giving": ("gift", "present", "reciproc"),
    "workplace hierarchy": ("boss", "manager", "senior", "superior", "hierarch", "work", "title"),
    "negotiation": ("price", "negotiat", "bargain", "haggl", "money", "business", "deal"),
    "family obligations": ("family", "parent", "elder", "filial", "relative"),
    "complaints and conflict": ("complain", "conflict", "critic", "direct", "disagree", "confront", "face"),
    "asking favours": ("favour", "favor", "help", "oblig", "reciproc", "owe", "request"),
    "public etiquette": ("public", "queue", "quiet", "stranger", "transport", "noise", "rule"),
}

GENERIC_ADDRESS = {
    "stranger": "polite, formal address",
    "acquaintance": "polite address with family names",
    "colleague": "the usual workplace form of address",
    "friend": "first names",
    "family": "family terms of address",
    "romantic": "first names or terms of endearment",
    "manager_subordinate": "formal address towards the superior",
    "service_customer": "polite, formal address",
    "teacher_student": "the teacher's title and family name",
    "neighbour": "polite address with family names",
}


class NamingPicker:
    """Fills placeholders from one culture's naming, deterministically for one base scenario."""

    def __init__(self, base: Scenario, culture: CultureProfile):
        self.base = base
        self.culture = culture
        self.naming = culture.naming

    def _index(self, *key: object, modulo: int) -> int:
        digest = hashlib.sha256("|".join([self.base.id, self.culture.id, *map(str, key)]).encode()).digest()
        return int.from_bytes(digest[:8], "big") % modulo

    def city(self, number: int = 0) -> str:
        cities = self.naming.cities
        if not cities:
            return f"a {self.culture.name} city"
        return cities[(self._index("city", modulo=len(cities)) + number) % len(cities)]

    def person(self, number: int) -> tuple[str, str]:
        """(full name, given name) of third party `number`."""
        genders = sorted(gender for gender, names in self.naming.given_names.items() if names)
        if not genders or not self.naming.family_names:
            return (f"a {self.culture.name} acquaintance", "they")
        gender = genders[self._index("gender", number, modulo=len(genders))]
        given_names = self.naming.given_names[gender]
        given = given_names[self._index("given", number, modulo=len(given_names))]
        family_names = self.naming.family_names
        # Some cultures carry two family names (Mexico: paternal, then maternal).
        count = getattr(self.naming, "surname_count", 1)
        family = " ".join(
            family_names[
                (self._index("family", number, modulo=len(family_names)) + offset) % len(family_names)
            ]
            for offset in range(count)
        )
        full = f"{family} {given}" if self.naming.family_name_first else f"{given} {family}"
        return full, given

    def address(self, relationship: str) -> str:
        forms = self.naming.forms_of_address
        return (
            forms.get(relationship)
            or forms.get("default")
            or GENERIC_ADDRESS.get(relationship, "polite address")
        )

    def resolve(self, placeholder: Placeholder) -> str:
        kind, arg = placeholder.kind, placeholder.arg
        if kind == "city":
            return self.city(int(arg or 0))
        if kind == "venue":
            return self.naming.venues.get(arg) or arg.replace("_", " ")
        if kind == "currency":
            return self.naming.currency or f"{self.culture.name} currency"
        if kind == "address":
            return self.address(arg or self.base.relationship)
        if kind == "greeting":
            return self.naming.greeting or "the usual greeting"
        if kind in ("person", "first"):
            full, given = self.person(int(arg))
            return full if kind == "person" else given
        raise ValueError(f"no rule for placeholder {placeholder.text}")  # parse() admits only known kinds

    def fill(self, text: str) -> str:
        return placeholders.fill(text, self.resolve)

    def fill_roles(self, roles: list[Role]) -> list[Role]:
        """The roles with the placeholders of their goal, secret and hint filled."""
        return [
            role.model_copy(
                update={
                    "goal": self.fill(role.goal),
                    "secret": self.fill(role.secret),
                    "hint": self.fill(role.hint),
                }
            )
            for role in roles
        ]


def norm_category(norm: str) -> str | None:
    """The kind of situation a written norm speaks to most (keyword occurrences), or None."""
    text = norm.lower()
    hits = {
        category: sum(text.count(word) for word in words) for category, words in CATEGORY_KEYWORDS.items()
    }
    best = max(hits, key=lambda category: hits[category])
    return best if hits[best] > 0 else None


def relevant_norms(culture: CultureProfile, category: str, limit: int = 1) -> list[str]:
    """The culture's norms about this kind of situation; its first (most general) norm otherwise."""
    matching = [norm for norm in culture.norms if norm_category(norm) == category]
    return (matching or culture.norms)[:limit]


def cultural_framing(base: Scenario, culture: CultureProfile, picker: NamingPicker) -> str:
    """One short paragraph that tells the role-players which culture they are in and what matters here."""
    descriptors = dict(zip(DESCRIPTOR_KEYS, culture.descriptors()))
    dimensions = CATEGORY_DIMENSIONS.get(base.category, DEFAULT_DIMENSIONS)
    if base.relationship in ("manager_subordinate", "teacher_student") and "power_distance" not in dimensions:
        dimensions = ("power_distance", *dimensions)
    chosen = [descriptors[key] for key in dimensions[:2] if key in descriptors]
    sentences = [f"Cultural context: {culture.name} ({culture.country}); {'; '.join(chosen)}."]
    sentences += [
        norm if norm.endswith(".") else f"{norm}." for norm in relevant_norms(culture, base.category)
    ]
    used = {p.kind for _, text in placeholders.text_fields(base) for p in placeholders.find(text)}
    if "address" not in used:
        address = picker.address(base.relationship).rstrip(".")
        sentences.append(f"Forms of address between them: {address}.")
    return " ".join(sentences)


def adapt_by_template(base: Scenario, culture: CultureProfile) -> Scenario:
    """`base` made specific to `culture`; id `<base-id>.<culture-id>`."""
    if base.culture is not None:
        raise ValueError(
            f"scenario '{base.id}' is already specific to '{base.culture}'; adapt its base scenario"
        )
    picker = NamingPicker(base, culture)
    roles = picker.fill_roles(base.roles)
    setting = f"{picker.fill(base.setting)}\n\n{cultural_framing(base, culture, picker)}"
    adapted = base.model_dump() | {
        "id": f"{base.id}.{culture.id}",
        "title": picker.fill(base.title),
        "setting": setting,
        "roles": [role.model_dump() for role in roles],
        "culture": culture.id,
        "provenance": Provenance(
            base_scenario=base.id,
            method="template",
            source=base.provenance.source,
            source_id=base.provenance.source_id,
        ).model_dump(),
    }
    return Scenario.model_validate(adapted)
