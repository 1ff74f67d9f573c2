"""Reading and writing scenario files, with the checks a schema alone cannot make.

Beyond the pydantic schema, a scenario file must use only known placeholders, name only known
cultures, and (across files) never reuse an id. Every problem is a `BadInputError` naming the file,
the record and the field.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from personas.files import BadInputError, load_records
from scenarios import placeholders
from scenarios.schema import Scenario

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


def known_culture_ids() -> list[str]:
    from personas.cultures import culture_ids

    return culture_ids()


def scenario_problems(
    scenario: Scenario, known_cultures: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """Every problem beyond the schema, as (field, reason): placeholders and culture."""
    problems = []
    for field, text in placeholders.text_fields(scenario):
        try:
            placeholders.find(text)
        except ValueError as exc:
            problems.append((field, str(exc)))
    known = list(known_cultures) if known_cultures is not None else known_culture_ids()
    if scenario.culture is not None and scenario.culture not in known:
        problems.append(
            ("culture", f"unknown culture '{scenario.culture}'; known cultures: {', '.join(known)}")
        )
    if scenario.culture is not None:
        # Placeholders are filled by adaptation, which only base scenarios go through.
        reported = {field for field, _ in problems}
        for field, text in placeholders.text_fields(scenario):
            found = [match.group(0) for match in placeholders.PLACEHOLDER.finditer(text)]
            if found and field not in reported:
                reason = (
                    f"placeholder '{found[0]}' in a scenario for culture '{scenario.culture}': "
                    "placeholders belong in base scenarios (culture: null); write the text out here"
                )
                problems.append((field, reason))
    return problems


def check_scenario(
    scenario: Scenario, source: str | Path, known_cultures: Iterable[str] | None = None
) -> None:
    """The first problem `scenario_problems` finds, as a `BadInputError`."""
    problems = scenario_problems(scenario, known_cultures)
    if problems:
        field, reason = problems[0]
        raise BadInputError(source, reason, record=scenario.id, field=field)


def read_scenario_file(path: str | Path, known_cultures: Iterable[str] | None = None) -> list[Scenario]:
    """The validated scenarios of one file: a single scenario, a list, or a mapping with `scenarios:`."""
    known = list(known_cultures) if known_cultures is not None else known_culture_ids()
    if Path(path).is_file() and not Path(path).read_text(encoding="utf-8").strip():
        raise BadInputError(path, "the file is empty; expected one scenario or a list of scenarios")
    scenarios = load_records(path, Scenario, key="scenarios")
    for scenario in scenarios:
        check_scenario(scenario, path, known)
    return scenarios


def scenario_files(location: str | Path, source: str | None = None) -> list[Path]:
    """A file as itself, a directory as its scenario files (recursively, sorted)."""
    location = Path(location)
    if location.is_dir():
        return sorted(p for p in location.rglob("*") if p.is_file() and p.suffix.lower() in SCENARIO_SUFFIXES)
    if location.exists():
        return [location]
    raise BadInputError(source or location, f"'{location}' does not exist")


def scenario_to_data(scenario: Scenario) -> dict:
    """The scenario as plain data without default values, so that written files stay short."""
    return scenario.model_dump(mode="json", exclude_defaults=True)


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line text (a setting with its cultural framing) as a `|` block, as a person would write it."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _represent_text)


def dump_yaml(scenarios: list[Scenario]) -> str:
    data = [scenario_to_data(s) for s in scenarios]
    return yaml.dump(data, Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True, width=100)


def _write_atomically(path: Path, text: str) -> None:
    # A crash mid-write must never leave a half-written file where a good one was.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "scenarios"


def write_scenarios(scenarios: list[Scenario], out: str | Path) -> list[Path]:
    """Write to a .yaml/.yml/.json/.jsonl file, or to a directory as one YAML file per category."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in (".yaml", ".yml"):
        _write_atomically(out, dump_yaml(scenarios))
        return [out]
    if suffix == ".json":
        _write_atomically(
            out, json.dumps([scenario_to_data(s) for s in scenarios], indent=2, ensure_ascii=False)
        )
        return [out]
    if suffix == ".jsonl":
        lines = "".join(json.dumps(scenario_to_data(s), ensure_ascii=False) + "\n" for s in scenarios)
        _write_atomically(out, lines)
        return [out]
    if suffix:
        raise BadInputError(
            "--out", f"unsupported file type '{suffix}' (use .yaml, .yml, .json, .jsonl or a directory)"
        )
    by_category: dict[str, list[Scenario]] = {}
    for scenario in scenarios:
        by_category.setdefault(slug(scenario.category), []).append(scenario)
    written = []
    for name, group in by_category.items():
        path = out / f"{name}.yaml"
        _write_atomically(path, dump_yaml(group))
        written.append(path)
    return written
