"""Planning a run: which scenarios, which personas in which roles, how many samples, which seeds.

The plan is a pure function of the configuration (and the scenario and persona libraries), so a
resumed run plans the same episodes and recognises the finished ones by their ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx

from personas.casting import cast
from personas.files import BadInputError
from personas.population import build_population
from personas.schema import Persona
from scenarios.library import get_scenario, load_scenarios, resolve_cultures
from scenarios.schema import Role, Scenario
from simulator.agents import derive_seed
from simulator.manifest import SimulationConfig
from simulator.records import EpisodePlan, episode_id

POPULATION_SIZE = 200  # sampled personas per culture (plus its library personas), related in a graph


@dataclass(frozen=True)
class PlannedEpisode:
    plan: EpisodePlan
    scenario: Scenario
    personas: list[Persona]  # in the order of scenario.roles


def select_scenarios(config: SimulationConfig) -> list[Scenario]:
    """`all`, or the named ids: a base id is adapted to every requested culture."""
    try:
        cultures = resolve_cultures(config.cultures)
    except BadInputError as exc:
        raise BadInputError("--cultures", exc.reason) from None
    if config.scenarios == ["all"]:
        return load_scenarios(cultures)
    chosen: list[Scenario] = []
    for scenario_id in config.scenarios:
        try:
            scenario = get_scenario(scenario_id)
        except BadInputError as exc:
            raise BadInputError("--scenarios", exc.reason) from None
        if scenario.culture is None:
            chosen += [get_scenario(f"{scenario.id}.{culture}") for culture in cultures]
        else:
            chosen.append(scenario)
    return list({s.id: s for s in chosen}.values())  # named twice: planned once


def plan_run(config: SimulationConfig) -> list[PlannedEpisode]:
    """Every episode of the run, in a stable order, capped at `limit`."""
    scenarios = select_scenarios(config)
    populations: dict[str, nx.Graph] = {}
    castings = {}
    for scenario in scenarios:
        culture = scenario.culture or config.cultures[0]
        if culture not in populations:
            populations[culture] = build_population(culture, POPULATION_SIZE, seed=config.seed)
        castings[scenario.id] = cast_scenario(scenario, populations[culture], config.samples, config.seed)
    planned: list[PlannedEpisode] = []
    for sample_index in range(config.samples):  # sample-major: --limit spreads over scenarios
        for scenario in scenarios:
            options = castings[scenario.id]
            personas = options[sample_index % len(options)]
            persona_ids = [p.id for p in personas]
            seed = derive_seed(config.seed, scenario.id, sample_index)
            plan = EpisodePlan(
                id=episode_id(scenario.id, persona_ids, sample_index, seed),
                scenario_id=scenario.id,
                culture=scenario.culture,
                persona_ids=persona_ids,
                sample_index=sample_index,
                seed=seed,
            )
            planned.append(PlannedEpisode(plan, scenario, personas))
            if config.limit is not None and len(planned) >= config.limit:
                return planned
    return planned


def cast_scenario(scenario: Scenario, population: nx.Graph, samples: int, seed: int) -> list[list[Persona]]:
    """Up to `samples` distinct casts from the population (related as the scenario says); where no
    related group fits, personas are cast by the roles' age and occupation constraints alone."""

    def persona(node: str) -> Persona:
        return Persona.model_validate(population.nodes[node])

    try:
        found = cast(scenario, population, n=samples, seed=seed)
        return [[persona(c.roles[role.name]) for role in scenario.roles] for c in found]
    except BadInputError:
        pool = [persona(node) for node in sorted(population.nodes)]
        return [cast_roles(scenario.roles, pool, random.Random(derive_seed(seed, scenario.id)))]


def cast_roles(roles: list[Role], pool: list[Persona], rng: random.Random) -> list[Persona]:
    """One distinct persona per role, fitting the role's age range and occupation groups when the
    pool allows it (constraints are relaxed rather than failing the plan)."""
    cast: list[Persona] = []
    for role in roles:
        free = [p for p in pool if p not in cast]
        if not free:
            raise BadInputError("persona pool", f"{len(pool)} personas cannot fill {len(roles)} roles")
        candidates = [p for p in free if _fits(p, role)] or [p for p in free if _fits_age(p, role)] or free
        cast.append(rng.choice(candidates))
    return cast


def _fits_age(persona: Persona, role: Role) -> bool:
    return role.age_range is None or role.age_range[0] <= persona.age <= role.age_range[1]


def _fits(persona: Persona, role: Role) -> bool:
    return _fits_age(persona, role) and (not role.occupations or persona.occupation_group in role.occupations)
