"""The placeholder syntax of base scenarios, filled in by template adaptation.

A base scenario is written once, culture-free; its text (setting, goals, secrets) may hold
placeholders that adaptation replaces with the target culture's naming:

    {city}            a city of the culture ({city:1}, {city:2} ... name further, different cities)
    {venue:KEY}       the culture's local kind of place for a generic one, e.g. {venue:restaurant},
                      {venue:market}; falls back to the generic word when the culture has no entry
    {currency}        the culture's currency, e.g. "yen"
    {address}         how people in the scenario's relationship address each other
                      ({address:RELATIONSHIP} for another relationship, e.g. {address:stranger})
    {greeting}        the culture's everyday greeting
    {person:N}        a third party (not a participant) with a culture-appropriate full name;
                      the same N is the same person everywhere in the scenario
    {first:N}         the given name of that same person N

Participants are never named in the text: they are referred to by their role ("the host"),
because their names come from the personas cast into the roles later.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

from scenarios.schema import Relationship, Scenario

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
KINDS = ("city", "venue", "currency", "address", "greeting", "person", "first")
RELATIONSHIPS: tuple[str, ...] = get_args(Relationship)


@dataclass(frozen=True)
class Placeholder:
    kind: str
    arg: str
    text: str  # as written, braces included


def parse(token: str) -> Placeholder:
    """Parse the inside of one `{...}`; ValueError explains what is wrong with it."""
    kind, _, arg = token.partition(":")
    kind, arg = kind.strip(), arg.strip()
    text = "{" + token + "}"
    if kind not in KINDS:
        raise ValueError(f"unknown placeholder '{text}' (known: {', '.join(KINDS)})")
    if kind == "venue" and not re.fullmatch(r"[a-z][a-z_ ]*", arg):
        raise ValueError(f"placeholder '{text}' needs a generic place, e.g. {{venue:restaurant}}")
    if kind in ("city", "person", "first") and arg and not arg.isdigit():
        raise ValueError(f"placeholder '{text}' takes a number, e.g. {{{kind}:1}}")
    if kind in ("person", "first") and not arg:
        raise ValueError(f"placeholder '{text}' needs a number, e.g. {{{kind}:0}}")
    if kind == "address" and arg and arg not in RELATIONSHIPS:
        raise ValueError(
            f"placeholder '{text}': unknown relationship '{arg}' (known: {', '.join(RELATIONSHIPS)})"
        )
    if kind in ("currency", "greeting") and arg:
        raise ValueError(f"placeholder '{text}' takes no argument, write {{{kind}}}")
    return Placeholder(kind, arg, text)


def find(text: str) -> list[Placeholder]:
    return [parse(match.group(1)) for match in PLACEHOLDER.finditer(text)]


def text_fields(scenario: Scenario) -> list[tuple[str, str]]:
    """(dotted field path, text) of every field that may hold placeholders."""
    fields = [("title", scenario.title), ("setting", scenario.setting)]
    for index, role in enumerate(scenario.roles):
        fields += [(f"roles.{index}.goal", role.goal), (f"roles.{index}.secret", role.secret)]
        fields.append((f"roles.{index}.hint", role.hint))
    return fields


def check(scenario: Scenario) -> tuple[str, str] | None:
    """The first placeholder problem as (field, reason), or None when every placeholder is valid."""
    for field, text in text_fields(scenario):
        try:
            find(text)
        except ValueError as exc:
            return field, str(exc)
    return None


# A placeholder with its article: "a {venue:restaurant}" must become "an izakaya" in one culture.
WITH_ARTICLE = re.compile(r"(?:\b(a|an|A|An) )?\{([^{}]*)\}")


def fill(text: str, resolve: Callable[[Placeholder], str]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = resolve(parse(match.group(2)))
        article = match.group(1)
        if not article:
            return value
        fitting = "an" if value[:1].lower() in "aeiou" else "a"
        return f"{fitting.capitalize() if article[0] == 'A' else fitting} {value}"

    return WITH_ARTICLE.sub(replace, text)


def skeleton(text: str) -> list[str]:
    """The literal pieces between placeholders: what adaptation must keep, in order."""
    return [piece for piece in PLACEHOLDER.split(text)[::2]]
