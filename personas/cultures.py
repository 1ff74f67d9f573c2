"""Culture profiles: the built-in data files plus any the user adds.

A new culture is a new data file, never a code change: drop a YAML/JSON file validating against
`CultureProfile` into `personas/data/cultures/` or into a directory named in the environment
variable CULTURESIM_CULTURES_PATH (several directories separated by os.pathsep; a file path works too).
"""

from __future__ import annotations

import difflib
import os
from functools import lru_cache
from pathlib import Path

from personas.files import BadInputError, load_records
from personas.schema import CultureProfile

BUILTIN_CULTURES_DIR = Path(__file__).parent / "data" / "cultures"
CULTURES_PATH_ENV = "CULTURESIM_CULTURES_PATH"
DATA_SUFFIXES = (".yaml", ".yml", ".json")
# Personas imported from culture-neutral sources (e.g. Sotopia) carry this id; it has no profile.
UNSPECIFIED_CULTURE = "unspecified"


def culture_files(extra_path: str | None = None) -> list[Path]:
    """Built-in culture files first, then the user's, each directory in sorted order."""
    setting = os.environ.get(CULTURES_PATH_ENV, "") if extra_path is None else extra_path
    locations = [BUILTIN_CULTURES_DIR] + [Path(part) for part in setting.split(os.pathsep) if part.strip()]
    files: list[Path] = []
    for location in locations:
        if location.is_dir():
            files.extend(sorted(p for p in location.iterdir() if p.suffix.lower() in DATA_SUFFIXES))
        elif location.exists():
            files.append(location)
        else:
            raise BadInputError(CULTURES_PATH_ENV, f"'{location}' does not exist")
    return files


@lru_cache(maxsize=8)
def _load_all(setting: str) -> dict[str, tuple[CultureProfile, Path]]:
    # Cached per value of the path setting, so changing CULTURESIM_CULTURES_PATH takes effect.
    cultures: dict[str, tuple[CultureProfile, Path]] = {}
    for path in culture_files(setting):
        for culture in load_records(path, CultureProfile, key="cultures"):
            if culture.id in cultures:
                first = cultures[culture.id][1]
                raise BadInputError(
                    path, f"duplicate culture id (also defined in {first})", record=culture.id, field="id"
                )
            if culture.id == UNSPECIFIED_CULTURE:
                raise BadInputError(
                    path, f"'{UNSPECIFIED_CULTURE}' is reserved", record=culture.id, field="id"
                )
            cultures[culture.id] = (culture, path)
    return cultures


def _all_cultures() -> dict[str, tuple[CultureProfile, Path]]:
    return _load_all(os.environ.get(CULTURES_PATH_ENV, ""))


def list_cultures() -> list[CultureProfile]:
    return [culture for culture, _ in _all_cultures().values()]


def culture_ids() -> list[str]:
    return list(_all_cultures())


def culture_source(culture_id: str) -> Path:
    """The file a culture was loaded from."""
    load_culture(culture_id)
    return _all_cultures()[culture_id.strip().lower()][1]


def load_culture(culture_id: str, source: str = "--culture") -> CultureProfile:
    """The profile with this id; an unknown id is bad input naming the known ones."""
    cultures = _all_cultures()
    key = culture_id.strip().lower()
    if key in cultures:
        return cultures[key][0]
    by_country = culture_by_country(culture_id)
    if by_country is not None:
        return by_country
    close = difflib.get_close_matches(key, cultures, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise BadInputError(
        source, f"unknown culture '{culture_id}'{hint}; known cultures: {', '.join(cultures)}"
    )


def culture_by_country(name: str) -> CultureProfile | None:
    """The culture whose country, display name, ISO code or alias is `name` (case-insensitive)."""
    wanted = name.strip().casefold()
    for culture in list_cultures():
        names = [culture.country, culture.name, culture.country_code, culture.id, *culture.aliases]
        if wanted in (n.casefold() for n in names):
            return culture
    return None


def check_culture_id(culture_id: str, source: str, record: str | int | None = None) -> None:
    """Bad input unless the id names a known culture or is the neutral 'unspecified'."""
    if culture_id == UNSPECIFIED_CULTURE or culture_id in _all_cultures():
        return
    known = ", ".join([*_all_cultures(), UNSPECIFIED_CULTURE])
    raise BadInputError(
        source, f"unknown culture '{culture_id}'; known cultures: {known}", record=record, field="culture"
    )
