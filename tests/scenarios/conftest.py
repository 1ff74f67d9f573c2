"""Fixtures for the scenario wing: a small made-up culture, a clean library cache, file writers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from personas.schema import CultureProfile
from scenarios.library import SCENARIOS_PATH_ENV, clear_cache


@pytest.fixture(autouse=True)
def clean_library(monkeypatch: pytest.MonkeyPatch):
    """Each test sees only the built-in library unless it adds paths itself."""
    monkeypatch.delenv(SCENARIOS_PATH_ENV, raising=False)
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def test_culture() -> CultureProfile:
    """A small invented culture, so adaptation tests do not depend on the built-in data files."""
    return CultureProfile.model_validate(
        {
            "id": "testland",
            "name": "Testish",
            "country": "Testland",
            "country_code": "TL",
            "language": "Testish",
            "hofstede": {
                "power_distance": 90,
                "individualism": 10,
                "masculinity": 50,
                "uncertainty_avoidance": 50,
                "long_term_orientation": 80,
                "indulgence": 20,
            },
            "inglehart_welzel": {"traditional_secular": -1.0, "survival_self_expression": 0.0},
            "demographics": {
                "age_bands": {"18-99": 1},
                "gender": {"woman": 1, "man": 1},
                "education": {"any": 1},
                "settlement": {"urban": 1},
                "occupation_groups": {"any": 1},
                "marital_status": {"any": 1},
                "household_size": {"1": 1},
            },
            "naming": {
                "given_names": {"woman": ["Ama"], "man": ["Bo"]},
                "family_names": ["Quill", "Reed"],
                "family_name_first": True,
                "surname_count": 2,
                "cities": ["Alphaville", "Betatown", "Gammaburg"],
                "venues": {"restaurant": "eel house", "market": "night bazaar"},
                "forms_of_address": {"colleague": "title and family name"},
                "currency": "testcoin",
                "greeting": "Well met",
            },
            "norms": [
                "Gifts are refused three times before they are accepted.",
                "Elders speak first at any meeting.",
            ],
            "sources": ["invented for tests"],
        }
    )


def base_scenario_data(**changes) -> dict:
    """A valid base scenario as plain data; tests break it one field at a time."""
    data = {
        "id": "tea-invitation",
        "title": "An invitation to tea",
        "category": "invitations and hospitality",
        "setting": "An afternoon in {city} at a {venue:restaurant}. {person:0} has sent a message.",
        "relationship": "colleague",
        "roles": [
            {
                "name": "host",
                "goal": "Get the guest to stay for tea in {city:1}.",
                "secret": "The cake is burnt.",
            },
            {"name": "guest", "goal": "Leave politely within ten minutes.", "age_range": [20, 40]},
        ],
    }
    data.update(changes)
    return data


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
            path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_scenario() -> Callable[..., dict]:
    return base_scenario_data
