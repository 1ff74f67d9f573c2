"""The population graph (rules, determinism, saving and loading) and casting scenarios onto it."""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import pytest

from personas.casting import cast, occupation_matches, pair_fits
from personas.files import BadInputError
from personas.population import (
    EDGE_KINDS,
    build_graph,
    build_population,
    family_name,
    load_graph,
    persona_of,
    relationships,
    save_graph,
)
from personas.sampler import sample_personas
from scenarios.schema import Scenario


@pytest.fixture(scope="module")
def graph() -> nx.Graph:
    return build_population("japanese", 150, seed=3)


def edges_of(graph: nx.Graph, kind: str) -> list[tuple[str, str, dict]]:
    return [(a, b, d) for a, b, d in graph.edges(data=True) if kind in d["relationships"]]


def scenario(relationship: str, *roles: dict, culture: str | None = "japanese") -> Scenario:
    return Scenario.model_validate(
        {
            "id": f"test-{relationship}",
            "title": "t",
            "category": "c",
            "setting": "s",
            "relationship": relationship,
            "culture": culture,
            "roles": [{"goal": "g", **role} for role in roles],
        }
    )


def test_population_is_deterministic(graph):
    again = build_population("japanese", 150, seed=3)
    assert nx.utils.graphs_equal(graph, again)
    other = build_population("japanese", 150, seed=4)
    assert not nx.utils.graphs_equal(graph, other)


def test_population_has_every_kind_of_relationship(graph):
    assert graph.number_of_nodes() == 150 + 8  # sampled plus the library
    for kind in EDGE_KINDS:
        assert edges_of(graph, kind), kind
    assert {kind for _, _, d in graph.edges(data=True) for kind in d["relationships"]} <= set(EDGE_KINDS)


def test_relationship_rules(graph):
    for a, b, _ in edges_of(graph, "family"):
        if "romantic" not in relationships(graph, a, b):  # spouses may keep their own names
            assert family_name(persona_of(graph, a)) == family_name(persona_of(graph, b))
    for a, b, _ in edges_of(graph, "colleague"):
        groups = {graph.nodes[a]["occupation_group"], graph.nodes[b]["occupation_group"]}
        assert len(groups) == 1 or "managers" in groups
        assert not groups & {"students", "retired", "homemakers", "unemployed"}
    for a, b, data in edges_of(graph, "manager_subordinate"):
        assert data["manager"] in (a, b) and "colleague" in data["relationships"]
    for a, b, _ in edges_of(graph, "friend"):
        assert abs(graph.nodes[a]["age"] - graph.nodes[b]["age"]) <= 10
    # the library's father and daughter share a family name and are linked as family
    assert "family" in relationships(graph, "japanese-tanaka-hiroshi", "japanese-tanaka-yui")


def test_family_name_is_read_in_the_culture_order():
    japanese, mexican = sample_personas("japanese", 1, 1)[0], sample_personas("mexican", 1, 1)[0]
    for persona in (japanese, mexican):
        stripped = persona.model_copy(update={"extra": {}})
        assert family_name(stripped) == persona.extra["family_name"]


@pytest.mark.parametrize("suffix", [".json", ".graphml"])
def test_graph_save_load_round_trip(graph, tmp_path, suffix):
    path = save_graph(graph, tmp_path / f"population{suffix}")
    loaded = load_graph(path)
    assert nx.utils.graphs_equal(graph, loaded)  # same nodes, edges and every attribute
    assert persona_of(loaded, "japanese-tanaka-yui") == persona_of(graph, "japanese-tanaka-yui")


def test_casting_respects_role_constraints(graph):
    wanted = scenario(
        "acquaintance",
        {"name": "elder", "age_range": [60, 90]},
        {"name": "student", "occupations": ["students"], "age_range": [18, 30]},
    )
    castings = cast(wanted, graph, n=5, seed=1)
    assert len(castings) == 5 and len({frozenset(c.roles.values()) for c in castings}) == 5
    for casting in castings:
        assert list(casting.roles) == ["elder", "student"]
        elder, student = (graph.nodes[casting.roles[r]] for r in ("elder", "student"))
        assert elder["age"] >= 60 and 18 <= student["age"] <= 30 and student["occupation_group"] == "students"
        assert pair_fits(graph, "acquaintance", casting.roles["elder"], casting.roles["student"])
    assert cast(wanted, graph, n=5, seed=1) == castings  # deterministic


@pytest.mark.parametrize("kind", ["friend", "colleague", "family", "romantic", "neighbour"])
def test_casting_needs_the_edge_for_close_relationships(graph, kind):
    for casting in cast(scenario(kind, {"name": "a"}, {"name": "b"}), graph, n=3, seed=2):
        assert kind in relationships(graph, casting.roles["a"], casting.roles["b"])


def test_strangers_have_no_edge_and_managers_manage(graph):
    for casting in cast(scenario("stranger", {"name": "a"}, {"name": "b"}), graph, n=4):
        assert not graph.has_edge(casting.roles["a"], casting.roles["b"])
    hierarchy = scenario("manager_subordinate", {"name": "employee"}, {"name": "team manager"})
    for casting in cast(hierarchy, graph, n=4):
        boss, employee = casting.roles["team manager"], casting.roles["employee"]
        assert graph.edges[boss, employee]["manager"] == boss


def test_three_roles_are_all_pairwise_related(graph):
    trio = scenario("colleague", {"name": "a"}, {"name": "b"}, {"name": "c"})
    for casting in cast(trio, graph, n=2):
        a, b, c = casting.roles.values()
        assert all("colleague" in relationships(graph, x, y) for x, y in ((a, b), (a, c), (b, c)))


def test_casting_takes_any_scenario_like_object(graph):
    duck = SimpleNamespace(
        id="duck",
        relationship="friend",
        roles=[
            SimpleNamespace(name="x", age_range=None, occupations=[]),
            SimpleNamespace(name="y", age_range=None, occupations=[]),
        ],
    )
    (casting,) = cast(duck, graph)
    assert casting.scenario == "duck" and casting.culture == "japanese"


def test_no_fitting_persona_is_bad_input(graph):
    impossible = scenario("friend", {"name": "a"}, {"name": "pilot", "occupations": ["astronaut"]})
    with pytest.raises(BadInputError) as caught:
        cast(impossible, graph)
    assert (
        caught.value.field == "roles.1"
        and "pilot" in caught.value.reason
        and "astronaut" in caught.value.reason
    )
    ancient = scenario("romantic", {"name": "a", "age_range": [18, 20]}, {"name": "b", "age_range": [85, 90]})
    with pytest.raises(BadInputError, match="related as 'romantic'"):
        cast(ancient, graph)
    with pytest.raises(BadInputError, match="no personas of culture 'german'"):
        cast(scenario("friend", {"name": "a"}, {"name": "b"}, culture="german"), graph)


def test_occupation_constraints_match_groups_and_job_words():
    nurse = {"occupation": "ward nurse", "occupation_group": "technicians"}
    assert occupation_matches("technicians", nurse)
    assert occupation_matches("nurse", nurse)
    assert occupation_matches("Nurses", nurse)
    assert not occupation_matches("professionals", nurse)
    assert not occupation_matches("doctor", nurse)
    assert occupation_matches("service_sales", {"occupation": "barista", "occupation_group": "service_sales"})


def test_graph_from_any_personas_is_connected_by_the_rules():
    personas = sample_personas("mexican", 40, seed=9) + sample_personas("german", 40, seed=9)
    graph = build_graph(personas, seed=1)
    for a, b in graph.edges:
        assert graph.nodes[a]["culture"] == graph.nodes[b]["culture"]  # rules never cross cultures


def test_unconstrained_roles_are_cast_by_what_their_name_says(graph):
    lesson = scenario("teacher_student", {"name": "student"}, {"name": "Professor"})
    for casting in cast(lesson, graph, n=3):
        assert graph.nodes[casting.roles["student"]]["occupation_group"] == "students"
        assert graph.nodes[casting.roles["Professor"]]["occupation_group"] == "professionals"
    shop = scenario("service_customer", {"name": "customer"}, {"name": "stall keeper"})
    for casting in cast(shop, graph, n=3):
        assert graph.nodes[casting.roles["stall keeper"]]["occupation_group"] == "service_sales"
    # a role's own constraint wins over its name
    own = scenario("teacher_student", {"name": "student", "occupations": ["retired"]}, {"name": "tutor"})
    for casting in cast(own, graph, n=2):
        assert graph.nodes[casting.roles["student"]]["occupation_group"] == "retired"
