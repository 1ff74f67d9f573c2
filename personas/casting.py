"""Casting: choosing personas from a population graph to play a scenario's roles.

A scenario is duck-typed (`.id`, `.relationship`, `.roles[]` with `.name`, `.age_range`,
`.occupations`, optional `.culture`), so this bottom wing never imports `scenarios`.

Relationship rules:
- stranger: no edge at all between the personas;
- acquaintance, service_customer, teacher_student: any personas not related as family or partners
  (they meet in the scenario); a role without occupations whose name says what it does (teacher,
  professor, student, server, shopkeeper, ...) is cast from the matching occupation group;
- manager_subordinate: an edge of that kind, the superior role played by the edge's `manager`
  (the superior role is the one whose name says so, e.g. "manager", else the first role);
- friend, colleague, family, romantic, neighbour: an edge of that kind between every pair of roles.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any, Protocol

import networkx as nx
from pydantic import Field

from personas.files import BadInputError
from personas.population import relationships
from personas.schema import StrictModel

FREE_RELATIONSHIPS = frozenset({"acquaintance", "service_customer", "teacher_student"})
CLOSE_KINDS = frozenset({"family", "romantic"})
SUPERIOR_ROLE_WORDS = (
    "manager",
    "boss",
    "supervisor",
    "director",
    "head",
    "senior",
    "chief",
    "lead",
    "owner",
)
# Where a relationship says who works in the scene, an unconstrained role is cast by its name:
# a 'professor' from the professionals, a 'server' from service and sales workers. The keys are
# words of the role name (singular, lower case); a role's own `occupations` always wins.
IMPLIED_OCCUPATIONS: dict[str, dict[tuple[str, ...], list[str]]] = {
    "teacher_student": {
        ("teacher", "professor", "lecturer", "tutor", "instructor", "sensei", "supervisor"): [
            "professionals"
        ],
        ("student", "pupil"): ["students"],
    },
    "service_customer": {
        (
            "server",
            "waiter",
            "waitres",
            "clerk",
            "cashier",
            "shopkeeper",
            "keeper",
            "vendor",
            "seller",
            "receptionist",
            "staff",
            "shop assistant",
            "hairdresser",
            "barber",
            "bartender",
            "driver",
        ): ["service_sales"],
    },
}
MAX_SEARCH_STEPS = 200_000  # bounds the backtracking on large graphs with few fitting tuples


class RoleLike(Protocol):
    name: str
    age_range: tuple[int, int] | None
    occupations: list[str]


class ScenarioLike(Protocol):
    id: str
    relationship: str
    roles: Sequence[Any]


class Casting(StrictModel):
    """Who plays which role in one scenario."""

    scenario: str
    culture: str | None = None
    roles: dict[str, str] = Field(description="Role name -> persona id, in the scenario's role order")


def cast(scenario: ScenarioLike, graph: nx.Graph, n: int = 1, seed: int = 0) -> list[Casting]:
    """Up to `n` distinct castings of the scenario; bad input when no persona or tuple fits."""
    if n < 1:
        raise BadInputError("-n", f"must be at least 1, got {n}")
    source = f"scenario {scenario.id}"
    rng = random.Random(f"cast/{scenario.id}/{seed}")
    pool = _culture_pool(scenario, graph, source)
    candidates = []
    for index, role in enumerate(scenario.roles):
        occupations = role_occupations(role, scenario.relationship)
        fitting = [node for node in pool if role_fits(role, graph.nodes[node], occupations)]
        if not fitting:
            raise BadInputError(
                source,
                f"no persona in the population fits role '{role.name}' "
                f"({describe_constraints(role, occupations)})",
                field=f"roles.{index}",
            )
        rng.shuffle(fitting)
        candidates.append(fitting)
    superior = superior_role_index(scenario)
    found = _search(graph, scenario.relationship, candidates, superior, n)
    if not found:
        raise BadInputError(
            source,
            f"no {len(scenario.roles)} personas in the population are related as '{scenario.relationship}' "
            "and fit the roles' constraints (try a larger population or looser constraints)",
            field="relationship",
        )
    culture = getattr(scenario, "culture", None) or graph.graph.get("culture")
    return [
        Casting(
            scenario=scenario.id,
            culture=culture,
            roles={role.name: node for role, node in zip(scenario.roles, nodes, strict=True)},
        )
        for nodes in found
    ]


def _culture_pool(scenario: ScenarioLike, graph: nx.Graph, source: str) -> list[str]:
    nodes = sorted(graph.nodes)
    culture = getattr(scenario, "culture", None)
    if culture is None:
        return nodes
    pool = [node for node in nodes if graph.nodes[node].get("culture") == culture]
    if not pool:
        raise BadInputError(source, f"the population has no personas of culture '{culture}'", field="culture")
    return pool


def role_occupations(role: RoleLike, relationship: str) -> list[str]:
    """The role's occupation constraint: its own, else one implied by its name (see IMPLIED_OCCUPATIONS)."""
    stated = list(getattr(role, "occupations", None) or [])
    if stated:
        return stated
    name = " ".join(_words(role.name))
    for words, occupations in IMPLIED_OCCUPATIONS.get(relationship, {}).items():
        if any(re.search(rf"\b{word}\b", name) for word in words):
            return occupations
    return []


def role_fits(role: RoleLike, persona: dict[str, Any], occupations: list[str] | None = None) -> bool:
    """Age and occupation fit; `occupations` defaults to the role's own constraint."""
    age_range = getattr(role, "age_range", None)
    if age_range and not age_range[0] <= persona.get("age", -1) <= age_range[1]:
        return False
    if occupations is None:
        occupations = list(getattr(role, "occupations", None) or [])
    return not occupations or any(occupation_matches(wanted, persona) for wanted in occupations)


def _words(text: str) -> list[str]:
    # Lower case, '_' and '-' as spaces, a plural 's' dropped: "service_sales" ~ "service sale".
    return [
        word[:-1] if len(word) > 3 and word.endswith("s") else word
        for word in re.findall(r"[a-z0-9]+", text.lower())
    ]


def occupation_matches(wanted: str, persona: dict[str, Any]) -> bool:
    """A role's occupation names the persona's occupation group, or words of its occupation."""
    wanted_words = _words(wanted)
    if not wanted_words:
        return False
    if wanted_words == _words(persona.get("occupation_group", "")):
        return True
    occupation_words = set(_words(persona.get("occupation", "")))
    return all(word in occupation_words for word in wanted_words)


def describe_constraints(role: RoleLike, occupations: list[str] | None = None) -> str:
    occupations = list(getattr(role, "occupations", None) or []) if occupations is None else occupations
    parts = []
    if getattr(role, "age_range", None):
        parts.append(f"age {role.age_range[0]}-{role.age_range[1]}")
    if occupations:
        parts.append(f"occupation in {', '.join(occupations)}")
    return "; ".join(parts) or "no constraints"


def superior_role_index(scenario: ScenarioLike) -> int:
    for index, role in enumerate(scenario.roles):
        if any(word in role.name.lower() for word in SUPERIOR_ROLE_WORDS):
            return index
    return 0


def pair_fits(graph: nx.Graph, relationship: str, a: str, b: str, superior: str | None = None) -> bool:
    """Whether personas a and b can play two roles of a scenario with this relationship.

    `superior` is the persona playing the superior role when one of a, b plays it.
    """
    if a == b:
        return False
    kinds = relationships(graph, a, b)
    if relationship == "stranger":
        return not kinds
    if relationship in FREE_RELATIONSHIPS:
        return not CLOSE_KINDS & set(kinds)
    if relationship == "manager_subordinate":
        if superior is None:  # two subordinates of the same manager work together
            return "colleague" in kinds
        return "manager_subordinate" in kinds and graph.edges[a, b].get("manager") == superior
    return relationship in kinds


def _search(
    graph: nx.Graph, relationship: str, candidates: list[list[str]], superior: int, n: int
) -> list[tuple[str, ...]]:
    """Depth-first search for up to n tuples, one persona per role, every pair fitting.

    A first pass takes at most one tuple per persona of the first role, so that n castings show n
    different people there when the population allows it; a second pass fills up the rest.
    """
    found: list[tuple[str, ...]] = []
    seen: set[frozenset[str]] = set()
    steps = 0
    # Personas related by an edge kind are found among the first persona's neighbours: much faster.
    needs_edge = relationship not in FREE_RELATIONSHIPS and relationship != "stranger"

    def extend(chosen: list[str], stop_at: int) -> bool:
        """Grow `chosen`; True once `found` reaches stop_at (or the step budget is spent)."""
        nonlocal steps
        index = len(chosen)
        if index == len(candidates):
            key = frozenset(chosen)
            if key not in seen:  # the same people in swapped roles is not a new casting
                seen.add(key)
                found.append(tuple(chosen))
            return len(found) >= stop_at
        options = candidates[index]
        if needs_edge and chosen:
            neighbours = graph.adj[chosen[0]]
            options = [node for node in options if node in neighbours]
        for node in options:
            steps += 1
            if steps > MAX_SEARCH_STEPS:
                return True
            if node in chosen:
                continue
            fits = all(
                pair_fits(
                    graph, relationship, other, node, _superior_of(chosen, node, other_index, index, superior)
                )
                for other_index, other in enumerate(chosen)
            )
            if fits and extend([*chosen, node], stop_at):
                return True
        return False

    for first in candidates[0]:
        if len(found) >= n or steps > MAX_SEARCH_STEPS:
            break
        extend([first], len(found) + 1)
    if len(found) < n and steps <= MAX_SEARCH_STEPS:
        extend([], n)
    return found


def _superior_of(chosen: list[str], node: str, other_index: int, index: int, superior: int) -> str | None:
    if other_index == superior:
        return chosen[other_index]
    if index == superior:
        return node
    return None
