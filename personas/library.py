"""The built-in persona library plus the user's persona files, and writing personas to a file.

Built-in personas live in `personas/data/library/<culture>.yaml`. Users add theirs by naming files
or directories in CULTURESIM_PERSONAS_PATH (separated by os.pathsep), or by passing paths.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from personas.cultures import UNSPECIFIED_CULTURE, check_culture_id, load_culture
from personas.files import BadInputError, load_records
from personas.schema import Persona

BUILTIN_LIBRARY_DIR = Path(__file__).parent / "data" / "library"
PERSONAS_PATH_ENV = "CULTURESIM_PERSONAS_PATH"
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


def load_persona_file(path: str | Path) -> list[Persona]:
    """A user's persona file, validated; every persona must name a known culture."""
    personas = load_records(path, Persona, key="personas")
    for persona in personas:
        check_culture_id(persona.culture, str(path), record=persona.id)
    return personas


def load_persona_files(paths: Iterable[str | Path]) -> list[Persona]:
    """Several files, with ids unique across all of them."""
    personas: list[Persona] = []
    origin: dict[str, Path] = {}
    for path in paths:
        for persona in load_persona_file(path):
            if persona.id in origin:
                raise BadInputError(
                    path, f"duplicate id (also in {origin[persona.id]})", record=persona.id, field="id"
                )
            origin[persona.id] = Path(path)
            personas.append(persona)
    return personas


def library_files(extra_paths: Sequence[str | Path] = ()) -> list[Path]:
    setting = os.environ.get(PERSONAS_PATH_ENV, "")
    locations = [BUILTIN_LIBRARY_DIR, *(Path(p) for p in setting.split(os.pathsep) if p.strip())]
    locations += [Path(p) for p in extra_paths]
    files: list[Path] = []
    for location in locations:
        if location.is_dir():
            files.extend(sorted(p for p in location.iterdir() if p.suffix.lower() in DATA_SUFFIXES))
        else:
            files.append(location)  # a missing file is reported by load_records
    return files


def load_personas(culture: str | None = None, extra_paths: Sequence[str | Path] = ()) -> list[Persona]:
    """Built-in and user personas, optionally of one culture (id or country name)."""
    personas = load_persona_files(library_files(extra_paths))
    if culture is None:
        return personas
    culture_id = culture if culture == UNSPECIFIED_CULTURE else load_culture(culture).id
    return [p for p in personas if p.culture == culture_id]


def get_persona(persona_id: str, extra_paths: Sequence[str | Path] = ()) -> Persona:
    personas = {p.id: p for p in load_personas(extra_paths=extra_paths)}
    if persona_id in personas:
        return personas[persona_id]
    close = difflib.get_close_matches(persona_id, personas, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `culturesim personas list` shows them"
    raise BadInputError("persona id", f"unknown persona '{persona_id}'{hint}")


def save_personas(personas: Sequence[Persona], path: str | Path) -> Path:
    """Write personas as YAML (a `personas:` list), JSON or JSONL, chosen by the file suffix."""
    path = Path(path)
    records = [p.model_dump(mode="json", exclude_defaults=True) for p in personas]
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise BadInputError(path, f"unsupported file type '{suffix}' (use .yaml, .yml, .json or .jsonl)")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    elif suffix == ".json":
        text = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    else:
        text = yaml.safe_dump({"personas": records}, allow_unicode=True, sort_keys=False, width=100)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)  # never leave a half-written file behind
    return path
