"""A culture's population as a networkx graph: personas are nodes, relationships are edge attributes.

Node attributes are the persona's fields (`Persona.model_dump(mode="json")`). Each edge carries
`relationships`, a sorted list of kinds (friend, colleague, family, romantic, manager_subordinate,
neighbour), and, for manager_subordinate, `manager`: the id of the superior.

The edges come from simple, deterministic rules (one `random.Random` per seed, nodes visited in
id order), meant to be plausible rather than realistic:
- family: personas of the same culture sharing a family name, in households of up to four;
- spouses: married or cohabiting personas of similar age in the same settlement (family + romantic),
  and some young singles dating (romantic);
- colleagues: working personas of the same occupation group and settlement, in workplaces of 3-6;
  the head is a persona from the `managers` group when one is free (offices, shops and services
  only), else the most educated, then oldest, member; the head has a manager_subordinate edge to
  everyone else there;
- neighbours: personas of the same city and settlement, in blocks of 3-5;
- friends: one to three per persona, of similar age (within 10 years).
"""

from __future__ import annotations

import bisect
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx

from personas.cultures import culture_ids, load_culture
from personas.files import BadInputError, read_data_file, validate_record
from personas.library import load_personas
from personas.sampler import NOT_WORKING_GROUPS, sample_personas
from personas.schema import Persona

EDGE_KINDS = ("family", "romantic", "colleague", "manager_subordinate", "neighbour", "friend")
MANAGED_GROUPS = frozenset({"professionals", "technicians", "clerical", "service_sales"})
EDUCATION_RANK = {"below upper secondary": 0, "upper secondary": 1, "tertiary": 2}
MAX_FAMILY_SIZE = 4
SPOUSE_AGE_GAP = 8
DATING_SHARE = 0.25
FRIEND_AGE_GAP = 10
FRIEND_ATTEMPTS = 5  # random draws per friend wanted before giving up


def build_population(culture: str, n: int, seed: int = 0, include_library: bool = True) -> nx.Graph:
    """Sample `n` personas of a culture (plus its built-in library personas) and connect them."""
    profile = load_culture(culture)
    personas = sample_personas(profile, n, seed)
    if include_library:
        personas = load_personas(profile.id) + personas
    graph = build_graph(personas, seed)
    graph.graph.update({"culture": profile.id, "seed": seed, "sampled": n, "library": include_library})
    return graph


def build_graph(personas: Sequence[Persona], seed: int = 0) -> nx.Graph:
    """Connect the given personas by the rules in the module docstring."""
    rng = random.Random(f"population/{seed}")
    ordered = sorted(personas, key=lambda p: p.id)
    graph = nx.Graph()
    for persona in ordered:
        graph.add_node(persona.id, **persona.model_dump(mode="json"))
    _link_families(graph, ordered, rng)
    _link_couples(graph, ordered, rng)
    _link_workplaces(graph, ordered, rng)
    _link_neighbours(graph, ordered, rng)
    _link_friends(graph, ordered, rng)
    return graph


def add_relationship(graph: nx.Graph, a: str, b: str, kind: str, manager: str | None = None) -> None:
    if a == b:
        return
    if not graph.has_edge(a, b):
        graph.add_edge(a, b, relationships=[])
    data = graph.edges[a, b]
    if kind not in data["relationships"]:
        data["relationships"] = sorted([*data["relationships"], kind])
    if manager is not None:
        data["manager"] = manager


def relationships(graph: nx.Graph, a: str, b: str) -> list[str]:
    return list(graph.edges[a, b]["relationships"]) if graph.has_edge(a, b) else []


def persona_of(graph: nx.Graph, node: str) -> Persona:
    return Persona.model_validate(graph.nodes[node])


def family_name(persona: Persona) -> str:
    """The persona's family name: `extra.family_name`, else taken from the name in the culture's order."""
    stated = persona.extra.get("family_name")
    if isinstance(stated, str) and stated.strip():
        return stated.strip()
    parts = persona.name.split()
    count, first = 1, False
    if persona.culture in culture_ids():
        naming = load_culture(persona.culture).naming
        count, first = naming.surname_count, naming.family_name_first
    if len(parts) <= count:
        return persona.name
    return " ".join(parts[:count] if first else parts[-count:])


def _chunks(items: list[str], rng: random.Random, low: int, high: int) -> Iterable[list[str]]:
    index = 0
    while index < len(items):
        size = rng.randint(low, high)
        yield items[index : index + size]
        index += size


def _link_clique(graph: nx.Graph, members: Sequence[str], kind: str) -> None:
    for a, b in combinations(members, 2):
        add_relationship(graph, a, b, kind)


def _link_families(graph: nx.Graph, personas: Sequence[Persona], rng: random.Random) -> None:
    by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    for persona in personas:
        by_name[(persona.culture, family_name(persona).casefold())].append(persona.id)
    for key in sorted(by_name):
        members = by_name[key]
        rng.shuffle(members)
        # A common surname (Wang, Müller) is shared by many unrelated people: split into households.
        for household in _chunks(members, rng, 2, MAX_FAMILY_SIZE):
            _link_clique(graph, household, "family")


def _link_couples(graph: nx.Graph, personas: Sequence[Persona], rng: random.Random) -> None:
    partnered = [p for p in personas if p.marital_status in ("married", "cohabiting")]
    dating = [
        p for p in personas if p.marital_status == "single" and p.age < 40 and rng.random() < DATING_SHARE
    ]
    for pool, kinds, gap in ((partnered, ("romantic", "family"), SPOUSE_AGE_GAP), (dating, ("romantic",), 6)):
        # Free personas by (culture, settlement, gender, age): finding a partner looks at a few
        # buckets instead of the whole pool, so large populations stay linear.
        buckets: dict[tuple[str, str, str, int], list[str]] = defaultdict(list)
        for persona in pool:
            buckets[(persona.culture, persona.settlement, persona.gender, persona.age)].append(persona.id)
        for members in buckets.values():
            rng.shuffle(members)  # ties between equally good partners are broken by the seed
        genders = sorted({p.gender for p in pool})
        taken: set[str] = set()
        for persona in pool:
            if persona.id in taken:
                continue
            taken.add(persona.id)
            partner = _closest_free(graph, persona, buckets, genders, taken, gap)
            if partner is None:
                continue
            taken.add(partner)
            for kind in kinds:
                add_relationship(graph, persona.id, partner, kind)


def _closest_free(
    graph: nx.Graph,
    persona: Persona,
    buckets: dict[tuple[str, str, str, int], list[str]],
    genders: list[str],
    taken: set[str],
    gap: int,
) -> str | None:
    """The free persona closest in age, preferring another gender, not already related."""
    preferred = [g for g in genders if g != persona.gender] + [persona.gender]
    for gender in preferred:
        for distance in range(gap + 1):
            for age in (persona.age - distance, persona.age + distance) if distance else (persona.age,):
                for other in buckets.get((persona.culture, persona.settlement, gender, age), ()):
                    if other not in taken and not graph.has_edge(persona.id, other):
                        return other
    return None


def _seniority(persona: Persona) -> tuple[int, int, str]:
    return (EDUCATION_RANK.get(persona.education, 1), persona.age, persona.id)


def _link_workplaces(graph: nx.Graph, personas: Sequence[Persona], rng: random.Random) -> None:
    workers: dict[tuple[str, str, str], list[Persona]] = defaultdict(list)
    heads: dict[tuple[str, str], list[Persona]] = defaultdict(list)
    for persona in personas:
        group = persona.occupation_group or persona.occupation
        if group in NOT_WORKING_GROUPS:
            continue
        if group == "managers":
            heads[(persona.culture, persona.settlement)].append(persona)
        else:
            workers[(persona.culture, group, persona.settlement)].append(persona)
    for free_heads in heads.values():
        rng.shuffle(free_heads)
    for key in sorted(workers):
        members = workers[key]
        rng.shuffle(members)
        for team in _chunks(members, rng, 3, 6):
            # Managers lead offices, shops and services; farms and workshops follow their senior hand.
            free_heads = heads[(key[0], key[2])] if key[1] in MANAGED_GROUPS else []
            head = free_heads.pop() if free_heads else max(team, key=_seniority)
            staff = [p for p in team if p.id != head.id]
            if not staff:
                continue
            _link_clique(graph, [p.id for p in (head, *staff)], "colleague")
            for member in staff:
                add_relationship(graph, head.id, member.id, "manager_subordinate", manager=head.id)
    # Managers left without a team work together at head office, the most senior one leading.
    for free_heads in heads.values():
        if len(free_heads) >= 2:
            leader = max(free_heads, key=_seniority)
            _link_clique(graph, [p.id for p in free_heads], "colleague")
            for member in free_heads:
                add_relationship(graph, leader.id, member.id, "manager_subordinate", manager=leader.id)


def _link_neighbours(graph: nx.Graph, personas: Sequence[Persona], rng: random.Random) -> None:
    streets: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for persona in personas:
        streets[(persona.culture, str(persona.extra.get("city", "")), persona.settlement)].append(persona.id)
    for key in sorted(streets):
        members = streets[key]
        rng.shuffle(members)
        for block in _chunks(members, rng, 3, 5):
            for a, b in combinations(block, 2):
                if "family" not in relationships(graph, a, b):  # relatives under one roof are family
                    add_relationship(graph, a, b, "neighbour")


def _link_friends(graph: nx.Graph, personas: Sequence[Persona], rng: random.Random) -> None:
    # Draw candidates at random from an age-sorted window rather than scanning everyone, so the
    # cost grows with n, not n squared (a 10,000-persona population stays quick).
    by_culture: dict[str, list[Persona]] = defaultdict(list)
    for persona in personas:
        by_culture[persona.culture].append(persona)
    for members in by_culture.values():
        members.sort(key=lambda p: (p.age, p.id))
        ages = [p.age for p in members]
        for persona in sorted(members, key=lambda p: p.id):
            low = bisect.bisect_left(ages, persona.age - FRIEND_AGE_GAP)
            high = bisect.bisect_right(ages, persona.age + FRIEND_AGE_GAP)
            wanted = rng.randint(1, 3)
            for _ in range(FRIEND_ATTEMPTS * wanted):
                if wanted == 0:
                    break
                other = members[rng.randrange(low, high)]
                kinds = relationships(graph, persona.id, other.id)
                if other.id != persona.id and not {"family", "romantic", "friend"} & set(kinds):
                    add_relationship(graph, persona.id, other.id, "friend")
                    wanted -= 1


# --- saving and loading -------------------------------------------------------------------------

GRAPH_SUFFIXES = (".json", ".graphml")


def save_graph(graph: nx.Graph, path: str | Path) -> Path:
    """JSON (networkx node-link data) or GraphML, chosen by the suffix; written atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GRAPH_SUFFIXES:
        raise BadInputError(path, f"unsupported graph file type '{suffix}' (use .json or .graphml)")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    if suffix == ".json":
        data = nx.node_link_data(graph, edges="edges")
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        nx.write_graphml(_graphml_ready(graph), temporary, encoding="utf-8")
    temporary.replace(path)
    return path


def load_graph(path: str | Path) -> nx.Graph:
    """A graph saved by `save_graph`; every node must be a valid persona, every edge a known kind."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = read_data_file(path)
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
            raise BadInputError(
                path, "not a population graph (expected node-link data with 'nodes' and 'edges')"
            )
        try:
            graph = nx.node_link_graph(data, directed=False, multigraph=False, edges="edges")
        except (KeyError, TypeError, nx.NetworkXError) as exc:
            raise BadInputError(path, f"not a population graph: {exc}") from None
    elif suffix == ".graphml":
        if not path.exists():
            raise BadInputError(path, "file not found")
        try:
            graph = _from_graphml(nx.read_graphml(path))
        except (ElementTree.ParseError, nx.NetworkXError, json.JSONDecodeError) as exc:
            raise BadInputError(path, f"invalid GraphML: {exc}") from None
    else:
        raise BadInputError(path, f"unsupported graph file type '{suffix}' (use .json or .graphml)")
    _check_graph(graph, path)
    return graph


# GraphML holds only scalars: lists and dicts travel as JSON text and are decoded on load.
_JSON_NODE_FIELDS = ("personality", "values", "extra")


def _graphml_ready(graph: nx.Graph) -> nx.Graph:
    flat = nx.Graph(**{k: v for k, v in graph.graph.items() if isinstance(v, str | int | float | bool)})
    for node, data in graph.nodes(data=True):
        flat.add_node(
            node,
            **{
                k: json.dumps(v, ensure_ascii=False) if k in _JSON_NODE_FIELDS else v for k, v in data.items()
            },
        )
    for a, b, data in graph.edges(data=True):
        attrs = dict(data)
        attrs["relationships"] = json.dumps(data.get("relationships", []))
        flat.add_edge(a, b, **attrs)
    return flat


def _from_graphml(flat: nx.Graph) -> nx.Graph:
    # read_graphml adds its own node_default/edge_default entries: not part of what was saved
    graph = nx.Graph(**{k: v for k, v in flat.graph.items() if k not in ("node_default", "edge_default")})
    for node, data in flat.nodes(data=True):
        graph.add_node(node, **{k: json.loads(v) if k in _JSON_NODE_FIELDS else v for k, v in data.items()})
    for a, b, data in flat.edges(data=True):
        attrs = dict(data)
        attrs["relationships"] = json.loads(data.get("relationships", "[]"))
        graph.add_edge(a, b, **attrs)
    return graph


def _check_graph(graph: nx.Graph, path: Path) -> None:
    for node, data in graph.nodes(data=True):
        persona = validate_record(
            Persona, {k: v for k, v in data.items() if k != "id"} | {"id": node}, path, node
        )
        graph.nodes[node].clear()
        graph.nodes[node].update(persona.model_dump(mode="json"))
    for a, b, data in graph.edges(data=True):
        kinds = data.get("relationships")
        if not isinstance(kinds, list) or not kinds or any(kind not in EDGE_KINDS for kind in kinds):
            raise BadInputError(
                path,
                f"relationships must be a non-empty list of {', '.join(EDGE_KINDS)}, got {kinds!r}",
                record=f"edge {a}--{b}",
                field="relationships",
            )
        if "manager_subordinate" in kinds and data.get("manager") not in (a, b):
            raise BadInputError(
                path,
                "manager_subordinate edge needs 'manager' naming one of its ends",
                record=f"edge {a}--{b}",
                field="manager",
            )
