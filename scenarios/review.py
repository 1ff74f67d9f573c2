"""Reviewing a scenario file: every record as a panel, every problem listed, adaptations diffed.

`validate` stops at a file's first problem (one clear line, exit 2); `review` is for a person
reading a file, e.g. a model's drafts: it lists all problems of every record (all of pydantic's
errors, then the placeholder and culture checks), and for an adapted scenario shows what changed
against its base, as a coloured diff of the two YAML texts.
"""

from __future__ import annotations

import difflib
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from personas.files import BadInputError, read_data_file
from scenarios import placeholders
from scenarios.files import dump_yaml, known_culture_ids, scenario_problems
from scenarios.schema import Scenario

Problem = tuple[str, str]  # (field path, reason)


@dataclass
class ReviewedRecord:
    position: int
    data: Any
    scenario: Scenario | None = None
    problems: list[Problem] = field(default_factory=list)
    base: Scenario | None = None
    base_note: str = ""  # why an adapted scenario's base could not be shown

    @property
    def label(self) -> str:
        record_id = self.data.get("id") if isinstance(self.data, dict) else None
        return f"record {self.position}" + (f" ({record_id})" if record_id else "")

    @property
    def base_id(self) -> str | None:
        if self.scenario is not None:
            return self.scenario.provenance.base_scenario
        provenance = self.data.get("provenance") if isinstance(self.data, dict) else None
        return provenance.get("base_scenario") if isinstance(provenance, dict) else None


def schema_problems(error: ValidationError) -> list[Problem]:
    names = {"missing": "missing required field", "extra_forbidden": "unknown field"}
    return [
        (".".join(str(part) for part in e["loc"]) or "(record)", names.get(e["type"], e["msg"]))
        for e in error.errors()
    ]


def raw_placeholder_problems(data: dict) -> list[Problem]:
    """Placeholder problems of a record the schema refused (so they are listed too)."""
    texts = [(name, data.get(name)) for name in ("title", "setting")]
    roles = data.get("roles")
    for index, role in enumerate(roles if isinstance(roles, list) else []):
        if isinstance(role, dict):
            texts += [(f"roles.{index}.{name}", role.get(name)) for name in ("goal", "secret", "hint")]
    problems = []
    for where, text in texts:
        if isinstance(text, str):
            for match in placeholders.PLACEHOLDER.finditer(text):
                try:
                    placeholders.parse(match.group(1))
                except ValueError as exc:
                    problems.append((where, str(exc)))
    return problems


def _records(data: Any) -> list[Any]:
    if isinstance(data, dict) and "scenarios" in data:
        data = data["scenarios"]
    return data if isinstance(data, list) else [data]


def review_file(path: str | Path, paths: Sequence[str | Path] = ()) -> list[ReviewedRecord]:
    """Every record of the file with all its problems; a file that cannot be parsed is bad input."""
    from scenarios.library import get_scenario

    records = _records(read_data_file(path))
    if not records or records == [None]:
        raise BadInputError(path, "the file is empty; expected one scenario or a list of scenarios")
    known = known_culture_ids()
    reviewed = [ReviewedRecord(position, data) for position, data in enumerate(records)]
    seen: dict[str, int] = {}
    for record in reviewed:
        if not isinstance(record.data, dict):
            record.problems.append(("(record)", f"expected a mapping, got {type(record.data).__name__}"))
            continue
        try:
            record.scenario = Scenario.model_validate(record.data)
        except ValidationError as exc:
            record.problems += schema_problems(exc) + raw_placeholder_problems(record.data)
        if record.scenario is not None:
            record.problems += scenario_problems(record.scenario, known)
            if record.scenario.id in seen:
                record.problems.append(("id", f"duplicate id (first at record {seen[record.scenario.id]})"))
            seen.setdefault(record.scenario.id, record.position)
    in_file = {r.scenario.id: r.scenario for r in reviewed if r.scenario is not None}
    for record in reviewed:
        base_id = record.base_id
        if not base_id:
            continue
        try:
            record.base = in_file.get(base_id) or get_scenario(base_id, paths=paths)
        except BadInputError as exc:
            record.base_note = exc.reason
    return reviewed


# -- rendering ---------------------------------------------------------------------------------------


DIFF_WIDTH = 88


def diff_lines(data: Any, indent: str = "") -> list[str]:
    """A record as YAML-like lines with every text wrapped the same way, so that the diff shows the
    changed words' lines rather than lines moved by different folding."""
    lines: list[str] = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        label = f"{indent}{key}:" if isinstance(data, dict) else f"{indent}- [{key}]"
        if isinstance(value, (dict, list)) and value:
            lines.append(label)
            lines += diff_lines(value, indent + "  ")
        elif isinstance(value, str) and (len(value) > DIFF_WIDTH - len(label) or "\n" in value):
            lines.append(label)
            for paragraph in value.split("\n"):
                wrapped = textwrap.wrap(paragraph, DIFF_WIDTH - len(indent) - 2) or [""]
                lines += [f"{indent}  {line}" for line in wrapped]
        else:
            lines.append(f"{label} {value}")
    return lines


def record_data(record: ReviewedRecord) -> Any:
    if record.scenario is not None:
        return record.scenario.model_dump(mode="json", exclude_defaults=True)
    return record.data


def yaml_text(record: ReviewedRecord) -> str:
    if record.scenario is not None:
        return dump_yaml([record.scenario])
    return yaml.safe_dump([record.data], sort_keys=False, allow_unicode=True, width=100)


def render_diff(base: Scenario, record: ReviewedRecord) -> Text:
    """Unified diff of the base's YAML against the record's: removed red, added green."""
    lines = difflib.unified_diff(
        diff_lines(base.model_dump(mode="json", exclude_defaults=True)),
        diff_lines(record_data(record)),
        fromfile=f"base {base.id}",
        tofile=record.label,
        lineterm="",
    )
    text = Text()
    for line in lines:
        if line.startswith(("---", "+++")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = {"-": "red", "+": "green"}.get(line[:1], "dim")
        text.append(line + "\n", style=style)
    return text


def render_problems(problems: Sequence[Problem]) -> Table:
    table = Table(title=f"{len(problems)} problem(s)", title_style="bold red", expand=True)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("problem", overflow="fold")
    for where, reason in problems:
        table.add_row(Text(where), Text(reason))  # Text: a reason may hold [brackets] rich would eat
    return table


def render_record(record: ReviewedRecord) -> list[RenderableType]:
    from scenarios.commands import render_scenario

    if record.scenario is not None and not record.problems:
        parts: list[RenderableType] = [render_scenario(record.scenario)]
    else:
        body = Syntax(yaml_text(record), "yaml", word_wrap=True)
        parts = [Panel(Group(body, render_problems(record.problems)), title=record.label, border_style="red")]
    if record.base is not None:
        parts.append(Panel(render_diff(record.base, record), title=f"changes from base {record.base.id}"))
    elif record.base_id:
        parts.append(Text(f"base scenario '{record.base_id}' not shown: {record.base_note}", style="yellow"))
    return parts
