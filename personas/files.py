"""Reading user files into pydantic models, with one clear message per problem.

Every user-written file (scenario, persona, culture, run config) goes through `load_records`,
so a bad file always fails the same way: `BadInputError` naming the file, the record, the field
and the reason. The CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class BadInputError(Exception):
    """A user file or argument is malformed. `str()` is the whole message for the user."""

    def __init__(
        self, source: str | Path, reason: str, record: str | int | None = None, field: str | None = None
    ):
        self.source = str(source)
        self.record = record
        self.field = field
        self.reason = reason
        parts = [self.source]
        if record is not None:
            parts.append(f"record {record}")
        if field:
            parts.append(f"field '{field}'")
        super().__init__(": ".join([", ".join(parts), reason]))


def read_data_file(path: str | Path) -> Any:
    """Parse a YAML, JSON or JSONL file; syntax errors become `BadInputError` with a line number."""
    path = Path(path)
    if not path.exists():
        raise BadInputError(path, "file not found")
    if path.is_dir():
        raise BadInputError(path, "is a directory, expected a file")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        records = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BadInputError(path, f"invalid JSON on line {line_no}: {exc.msg}") from None
        return records
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInputError(
                path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
    if suffix in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise BadInputError(path, f"invalid YAML{where}: {problem}") from None
    raise BadInputError(path, f"unsupported file type '{suffix}' (use .yaml, .yml, .json or .jsonl)")


def describe_validation_error(exc: ValidationError) -> tuple[str, str]:
    """The first problem of a pydantic error as (dotted field path, reason)."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(record)"
    reason = first["msg"]
    if first["type"] == "missing":
        reason = "missing required field"
    elif first["type"] == "extra_forbidden":
        reason = "unknown field"
    return field, reason


def validate_record(model: type[Model], data: Any, source: str | Path, record: str | int) -> Model:
    if not isinstance(data, dict):
        raise BadInputError(source, f"expected a mapping, got {type(data).__name__}", record=record)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, reason = describe_validation_error(exc)
        raise BadInputError(source, reason, record=data.get("id", record), field=field) from None


def load_records(path: str | Path, model: type[Model], key: str | None = None) -> list[Model]:
    """Load one record or a list of records (optionally under `key`) from a file, validated.

    Duplicate ids inside the file are an error: ids are how runs refer to records.
    """
    data = read_data_file(path)
    if isinstance(data, dict) and key and key in data:
        data = data[key]
    items: Iterable[Any] = data if isinstance(data, list) else [data]
    records: list[Model] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        record = validate_record(model, item, path, index)
        record_id = getattr(record, "id", None)
        if record_id is not None:
            if record_id in seen:
                raise BadInputError(
                    path,
                    f"duplicate id (first seen at record {seen[record_id]})",
                    record=record_id,
                    field="id",
                )
            seen[record_id] = index
        records.append(record)
    if not records:
        raise BadInputError(path, "no records found")
    return records
