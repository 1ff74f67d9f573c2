"""Every prompt of model-driven design: scenario drafting, LLM culture adaptation, persona fleshing-out.

Instructions for a whole record are built from the schema's own field descriptions
(`model_json_schema()`), so a field documented for editors is documented for the model too.
Prompts stay short and concrete on purpose: the embedded model has 135M parameters, so one worked
example (a library record) and "answer with X only" do more than long rules.
"""

from __future__ import annotations

import json
from typing import Any

from personas.prompts import BIG_FIVE, VALUE_WORDS
from personas.schema import CultureProfile, Persona
from scenarios.schema import Relationship, Scenario

# -- shared ------------------------------------------------------------------------------------------

RETRY_FEEDBACK = (
    "That answer could not be used: {error}. Write the whole JSON object again, corrected. "
    "Answer with the JSON object only."
)
CUT_OFF = "the reply was cut off after {tokens} tokens; write a shorter JSON object"
# Pieces of our own questions that a small model sometimes writes back as its answer.
INSTRUCTION_ECHOES = (
    "in one or two sentences",
    "in one sentence, for the",
    "social situation:",
    "rewrite this",
    "answer with",
    "refer to the people by their roles",
)

# Fields without a schema description get one here (the schema stays the first source).
FALLBACK_DESCRIPTIONS = {
    "background": "Two or three sentences about the person's life, work and family",
    "values": "Two or three of: " + ", ".join(VALUE_WORDS),
    "secret": "Something this person knows and does not want others to find out",
    "personality": "Each Big Five trait (" + ", ".join(BIG_FIVE) + ") as low, medium or high",
}


def field_description(schema: dict[str, Any], field: str) -> str:
    """A field's description for the model: the schema's, else ours, else its title."""
    spec = schema["properties"][field]
    if "enum" in spec:
        return f"{spec.get('description', field)}; one of: {', '.join(spec['enum'])}"
    return spec.get("description") or FALLBACK_DESCRIPTIONS.get(field) or spec.get("title", field)


def schema_lines(schema: dict[str, Any], fields: tuple[str, ...]) -> str:
    return "\n".join(f"- {field}: {field_description(schema, field)}" for field in fields)


def compact_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


# -- scenario generation ----------------------------------------------------------------------------

SCENARIO_FIELDS = ("title", "setting", "relationship", "roles")
ROLE_FIELDS = ("name", "goal", "secret")
RELATIONSHIPS: tuple[str, ...] = Relationship.__args__  # type: ignore[attr-defined]

SCENARIO_SYSTEM = "You write short social scenarios for role-play as JSON objects."
SCENARIO_REQUEST = (
    "Write a social scenario of the category '{category}' as one JSON object with these fields:\n"
    "{fields}\n"
    "Each role has:\n{role_fields}\n"
    "Refer to the participants by their roles, never by name. Answer with the JSON object only."
)
SCENARIO_ANOTHER = (
    "Now write a new, different scenario of the category '{category}' as one JSON object with the "
    "same fields. Answer with the JSON object only."
)


def scenario_example(scenario: Scenario) -> str:
    """A library scenario as the model should answer: only the fields it drafts."""
    data = scenario.model_dump(mode="json")
    roles = [{field: role[field] for field in ROLE_FIELDS} for role in data["roles"]]
    return compact_json({field: data[field] for field in SCENARIO_FIELDS[:-1]} | {"roles": roles})


def scenario_conversation(category: str, example: Scenario) -> list[dict[str, str]]:
    schema = Scenario.model_json_schema()
    role_schema = schema["$defs"]["Role"]
    request = SCENARIO_REQUEST.format(
        category=example.category,
        fields=schema_lines(schema, SCENARIO_FIELDS),
        role_fields=schema_lines(role_schema, ROLE_FIELDS),
    )
    return [
        {"role": "system", "content": SCENARIO_SYSTEM},
        {"role": "user", "content": request},
        {"role": "assistant", "content": scenario_example(example)},
        {"role": "user", "content": SCENARIO_ANOTHER.format(category=category)},
    ]


# Field by field (the fallback for models too weak for a whole JSON object). Each question is asked
# first about the library example, with the example's own text as the answer (one-shot).
FIELD_SYSTEM = "You help write short social scenarios for role-play. Answer with the requested text only."
TITLE_PROMPT = (
    "Write a title (at most ten words) for a new social situation about {category}: {description}. "
    "Answer with the title only."
)
SETTING_PROMPT = (
    "Social situation about {category}: '{title}'. In one or two sentences: {description}. "
    "Refer to the people by their roles, never by name."
)
ROLES_PROMPT = (
    "Social situation: '{title}'. Who are the two people in it? Answer with their two roles, "
    "separated by a comma."
)
RELATIONSHIP_PROMPT = (
    "Social situation: '{title}'. {setting} How are the two people related? Answer with one word: {options}."
)
ROLE_TEXT_PROMPT = (
    "Social situation: '{title}'. {setting} The people are the {roles}. "
    "In one sentence, for the {role}: {description}."
)
# Placeholders of a library example shown to the model, as plain words (a small model would copy
# the braces, and an invented placeholder makes a draft invalid).
GENERIC_PLACEHOLDERS = {
    "city": "the city",
    "currency": "money",
    "greeting": "hello",
    "address": "polite forms of address",
    "person": "a friend",
    "first": "the friend",
}


def generic_text(text: str) -> str:
    from scenarios.placeholders import fill

    return fill(
        text, lambda p: p.arg.replace("_", " ") if p.kind == "venue" else GENERIC_PLACEHOLDERS[p.kind]
    )


def one_shot(system: str, example_question: str, example_answer: str, question: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": example_question},
        {"role": "assistant", "content": example_answer},
        {"role": "user", "content": question},
    ]


# Relationship answers as one word each, differing in their first token so that every backend can score
# them (chat-only servers read only the first token's probabilities: simulator/backends/option_logprobs.py).
RELATIONSHIP_WORDS: dict[str, str] = {
    "stranger": "strangers",
    "acquaintance": "acquaintances",
    "friend": "friends",
    "colleague": "colleagues",
    "family": "relatives",
    "romantic": "lovers",
    "manager_subordinate": "boss-employee",
    "service_customer": "seller-customer",
    "teacher_student": "teacher-student",
    "neighbour": "neighbours",
}
# The roles used when the model cannot name two distinct ones itself.
ROLE_PAIRS: dict[str, tuple[str, str]] = {
    "stranger": ("first stranger", "second stranger"),
    "acquaintance": ("host", "visitor"),
    "friend": ("first friend", "second friend"),
    "colleague": ("colleague asking", "colleague asked"),
    "family": ("parent", "adult child"),
    "romantic": ("first partner", "second partner"),
    "manager_subordinate": ("manager", "employee"),
    "service_customer": ("shop assistant", "customer"),
    "teacher_student": ("teacher", "student"),
    "neighbour": ("first neighbour", "second neighbour"),
}


# -- LLM culture adaptation -------------------------------------------------------------------------

ADAPT_SYSTEM = "You adapt social scenarios to a culture. You answer with JSON objects."
ADAPT_REQUEST = (
    "{culture_brief}\n\n"
    "Rewrite this scenario so that it happens in {country} among {culture_name} people: use "
    "{culture_name} names, places and forms of address, and the norms that matter there. Keep the same "
    "{count} roles in the same order, and keep what each role wants comparable. Write in English. Answer with one JSON "
    "object with the fields title, setting and roles (each with name, goal, secret).\n\n"
    "Scenario:\n{scenario}"
)
ADAPT_FIELD_SYSTEM = "You adapt short texts to a culture. Answer in English with the rewritten text only."
ADAPT_FIELD_PROMPT = (
    "{culture_brief}\n\nRewrite this {what} so that it fits {country} and {culture_name} people "
    "(names, places, forms of address). Keep its meaning and write in English. Text: {text}"
)
# One worked rewrite per kind of text, shown before the real one (written for this project). A
# different culture on purpose: the model learns the move, not the answer.
ADAPT_DEMO_CULTURE = ("Mexico", "Mexican")
ADAPT_DEMO_BRIEF = (
    "Culture: Mexican (Mexico). Typical names: Sofía, Diego; family names García, López. "
    "Cities: Guadalajara, Puebla. Norm: Hospitality is generous; declining food or an invitation needs a "
    "good excuse and several polite refusals."
)
ADAPT_DEMOS: dict[str, tuple[str, str]] = {
    "title": ("Turning down a second helping", "Turning down a second plate of pozole at Sunday comida"),
    "setting": (
        "A Sunday lunch at a friend's home. The host is about to serve a second helping to a guest who is "
        "already full.",
        "A long Sunday comida at the García family's home in Guadalajara. Señora García is about to serve "
        "a second plate of pozole to a guest who is already full, while the whole family watches.",
    ),
    "goal": (
        "Decline the second helping without offending the host.",
        "Decline the second plate of pozole without offending Señora García, with the several polite "
        "refusals that are expected.",
    ),
    "secret": (
        "You are on a strict diet that nobody knows about.",
        "You are on a strict diet and have not told anyone, not even your compadre Diego.",
    ),
}


def culture_brief(culture: CultureProfile, norms: list[str]) -> str:
    naming = culture.naming
    given = [name for names in naming.given_names.values() for name in names[:2]]
    facts = [
        # No "language: Spanish" here: the embedded model takes it as an order to write in Spanish.
        f"Culture: {culture.name} ({culture.country}).",
        f"Typical names: {', '.join(given[:4])}; family names {', '.join(naming.family_names[:3])}.",
        f"Cities: {', '.join(naming.cities[:3])}.",
    ]
    if naming.currency:
        facts.append(f"Currency: {naming.currency}.")
    facts += [f"Norm: {norm}" for norm in norms]
    return " ".join(facts)


def adaptable_view(scenario: Scenario) -> str:
    """The fields an adaptation rewrites, as the JSON the model answers with."""
    roles = [{"name": r.name, "goal": r.goal, "secret": r.secret} for r in scenario.roles]
    return compact_json({"title": scenario.title, "setting": scenario.setting, "roles": roles})


# -- persona generation -----------------------------------------------------------------------------

PERSONA_FIELDS = ("background", "personality", "values", "secret")
PERSONA_SYSTEM = "You write believable persona profiles for role-play as JSON objects."
PERSONA_REQUEST = (
    "Flesh out this {culture_name} person ({country}). Facts: {facts}\n"
    "Answer with one JSON object with these fields:\n{fields}"
)
PERSONA_FIELD_SYSTEM = (
    "You write believable persona profiles for role-play. Answer with the requested text only."
)
# Background: one-shot with a library persona (it sets the tone); secret: zero-shot, because the
# embedded model copies an example secret word for word.
PERSONA_BACKGROUND_PROMPT = "{facts} {description}: write it in two or three sentences about {name}."
PERSONA_SECRET_PROMPT = (
    "{facts} What secret does {name} keep from family and colleagues? Answer in one sentence."
)
TRAIT_PROMPT = "{facts} How high is {name}'s {trait}? Answer low, medium or high."
VALUE_PROMPT = "{facts} What matters most to {name}? Answer with one of: {options}."
TRAIT_LEVELS = ("low", "medium", "high")
# The content-free profile option scores are calibrated against (persona_generation.traits_and_values).
NOBODY_NAME = "this person"
NOBODY = "Nothing is known about this person."


def persona_facts(persona: Persona) -> str:
    parts = [f"{persona.name}, {persona.age}, {persona.gender}, {persona.occupation}"]
    for label, value in (
        ("education", persona.education),
        ("lives", persona.settlement and f"{persona.settlement} ({persona.extra.get('city', '')})"),
        ("marital status", persona.marital_status),
        ("household", persona.household_size and f"{persona.household_size} people"),
    ):
        if value:
            parts.append(f"{label}: {value}")
    return "; ".join(parts) + "."


def persona_example(persona: Persona) -> str:
    data = persona.model_dump(mode="json")
    return compact_json({field: data[field] for field in PERSONA_FIELDS})


def persona_conversation(persona: Persona, culture: CultureProfile, example: Persona) -> list[dict[str, str]]:
    schema = Persona.model_json_schema()
    fields = schema_lines(schema, PERSONA_FIELDS)

    def request(who: Persona) -> str:
        return PERSONA_REQUEST.format(
            culture_name=culture.name, country=culture.country, facts=persona_facts(who), fields=fields
        )

    return [
        {"role": "system", "content": PERSONA_SYSTEM},
        {"role": "user", "content": request(example)},
        {"role": "assistant", "content": persona_example(example)},
        {"role": "user", "content": request(persona)},
    ]
