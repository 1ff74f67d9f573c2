"""Fixtures for the personas wing: clean user paths, file writers, a CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from personas.cultures import BUILTIN_CULTURES_DIR, CULTURES_PATH_ENV
from personas.library import PERSONAS_PATH_ENV
from simulator.cli import main


@pytest.fixture(autouse=True)
def only_builtin_data(monkeypatch: pytest.MonkeyPatch):
    """Each test sees only the built-in cultures and personas unless it adds paths itself."""
    monkeypatch.delenv(CULTURES_PATH_ENV, raising=False)
    monkeypatch.delenv(PERSONAS_PATH_ENV, raising=False)


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    """write_file(name, data_or_text): YAML/JSON/JSONL by suffix, or raw text when given a str."""

    def write(name: str, content) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif path.suffix == ".json":
            path.write_text(json.dumps(content), encoding="utf-8")
        elif path.suffix == ".jsonl":
            path.write_text("".join(json.dumps(item) + "\n" for item in content), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """cli(*argv) -> (exit code, stdout, stderr) of `culturesim argv...`."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def persona_data(**changes) -> dict:
    """A valid persona as plain data; tests break it one field at a time."""
    data = {
        "id": "test-ana",
        "name": "Ana Test",
        "age": 30,
        "gender": "woman",
        "culture": "mexican",
        "occupation": "nurse",
        "occupation_group": "technicians",
        "personality": {"openness": "high"},
        "values": ["benevolence"],
    }
    data.update(changes)
    return data


def culture_data(**changes) -> dict:
    """The built-in British profile as plain data with a new id; tests change or break it."""
    data = yaml.safe_load((BUILTIN_CULTURES_DIR / "british.yaml").read_text(encoding="utf-8"))
    data.update(
        {"id": "testish", "name": "Testish", "country": "Testland", "country_code": "TL", "aliases": []}
    )
    data.update(changes)
    return data


@pytest.fixture
def make_persona() -> Callable[..., dict]:
    return persona_data


@pytest.fixture
def make_culture() -> Callable[..., dict]:
    return culture_data
