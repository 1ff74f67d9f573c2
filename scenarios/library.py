"""The scenario library: built-in base scenarios, the user's scenario files, and their adaptations.

Sources, in order: the built-in base library (scenarios/library/base/*.yaml), then every path in the
environment variable CULTURESIM_SCENARIOS_PATH (files or directories, separated by os.pathsep), then
the `paths` passed in. An id may be defined only once across all of them.

A scenario without a culture is a base scenario and is adapted (by template) to every requested
culture as `<base-id>.<culture-id>`. A user file may define such an id itself, with its culture set:
that hand-written adaptation then replaces the template one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from personas.files import BadInputError
from personas.schema import CultureProfile
from scenarios.adaptation import adapt_by_template
from scenarios.files import known_culture_ids, read_scenario_file, scenario_files
from scenarios.schema import Scenario

BASE_LIBRARY_DIR = Path(__file__).parent / "library" / "base"
SCENARIOS_PATH_ENV = "CULTURESIM_SCENARIOS_PATH"
PathLike = str | Path


@dataclass(frozen=True)
class Collection:
    key: tuple  # the cache key it was loaded under
    scenarios: dict[str, Scenario]  # id -> scenario, in file order
    sources: dict[str, Path]  # id -> the file that defines it

    @property
    def bases(self) -> list[Scenario]:
        return [s for s in self.scenarios.values() if s.culture is None]


def _locations(paths: Sequence[PathLike] | None) -> tuple[tuple[str, str], ...]:
    """(location, how the user named it) for every source, as a hashable cache key."""
    setting = os.environ.get(SCENARIOS_PATH_ENV, "")
    from_env = [(part, SCENARIOS_PATH_ENV) for part in setting.split(os.pathsep) if part.strip()]
    given = [(str(path), str(path)) for path in paths or ()]
    return ((str(BASE_LIBRARY_DIR), "built-in library"), *from_env, *given)


@lru_cache(maxsize=8)
def _collect(locations: tuple[tuple[str, str], ...], cultures: tuple[str, ...]) -> Collection:
    scenarios: dict[str, Scenario] = {}
    sources: dict[str, Path] = {}
    for location, named_by in locations:
        for path in scenario_files(location, source=named_by):
            if path in sources.values():
                continue  # the same file reached through two locations is one definition, not two
            for scenario in read_scenario_file(path, cultures):
                if scenario.id in scenarios:
                    reason = f"duplicate id (already defined in {sources[scenario.id]})"
                    raise BadInputError(path, reason, record=scenario.id, field="id")
                scenarios[scenario.id] = scenario
                sources[scenario.id] = path
    return Collection((locations, cultures), scenarios, sources)


def collection(paths: Sequence[PathLike] | None = None) -> Collection:
    return _collect(_locations(paths), tuple(known_culture_ids()))


def _adapted(found: Collection, base_id: str, culture_id: str) -> Scenario:
    return _adapted_cached(found.key, base_id, culture_id)


@lru_cache(maxsize=4096)
def _adapted_cached(key: tuple, base_id: str, culture_id: str) -> Scenario:
    return adapt_by_template(_collect(*key).scenarios[base_id], culture_profile(culture_id))


def culture_profile(culture_id: str) -> CultureProfile:
    from personas.cultures import load_culture

    return load_culture(culture_id)


def clear_cache() -> None:
    """Forget loaded files (they are read once per process otherwise)."""
    _collect.cache_clear()
    _adapted_cached.cache_clear()


def load_base_scenarios(paths: Sequence[PathLike] | None = None) -> list[Scenario]:
    """Every scenario without a culture: the built-in base library plus the user's."""
    return collection(paths).bases


def resolve_cultures(cultures: Sequence[str] | None) -> list[str]:
    known = known_culture_ids()
    if cultures is None:
        return known
    resolved = []
    for name in cultures:
        culture_id = name.strip().lower()
        if culture_id not in known:
            culture_id = culture_profile(name).id  # also accepts a country name; unknown -> BadInputError
        resolved.append(culture_id)
    return resolved


def load_scenarios(
    cultures: Sequence[str] | None = None,
    include_base: bool = False,
    paths: Sequence[PathLike] | None = None,
) -> list[Scenario]:
    """Every base scenario adapted to every requested culture (default: all known cultures).

    Culture-specific scenarios from files are included for their culture, and replace the template
    adaptation with the same id. `include_base` adds the base scenarios themselves.
    """
    found = collection(paths)
    wanted = resolve_cultures(cultures)
    result: list[Scenario] = list(found.bases) if include_base else []
    for base in found.bases:
        for culture_id in wanted:
            adapted_id = f"{base.id}.{culture_id}"
            result.append(found.scenarios.get(adapted_id) or _adapted(found, base.id, culture_id))
    listed = {scenario.id for scenario in result}
    result += [s for s in found.scenarios.values() if s.culture in wanted and s.id not in listed]
    return result


def get_scenario(scenario_id: str, paths: Sequence[PathLike] | None = None) -> Scenario:
    """A scenario by id: one defined in a file, or `<base-id>.<culture-id>` adapted on the fly."""
    found = collection(paths)
    if scenario_id in found.scenarios:
        return found.scenarios[scenario_id]
    base_id, dot, culture_id = scenario_id.rpartition(".")
    base = found.scenarios.get(base_id) if dot else None
    if base is not None and base.culture is None:
        return _adapted(found, base.id, resolve_cultures([culture_id])[0])
    reason = f"unknown scenario '{scenario_id}' (see `culturesim scenarios list`)"
    if base is not None:
        reason = f"'{base_id}' is already specific to culture '{base.culture}' and cannot be adapted again"
    raise BadInputError("scenario id", reason)
