"""Fixtures of the evaluation tests: a made-up culture, its file, and a generated survey set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from eval_fakes import make_culture

from evaluation.survey_data import write_survey
from personas.schema import CultureProfile


@pytest.fixture
def culture() -> CultureProfile:
    return make_culture()


@pytest.fixture
def culture_file(tmp_path: Path, culture: CultureProfile) -> Path:
    path = tmp_path / "testland.yaml"
    path.write_text(yaml.safe_dump(culture.model_dump(mode="json")), encoding="utf-8")
    return path


@pytest.fixture
def survey_dir(tmp_path: Path, culture: CultureProfile) -> Path:
    """60 generated respondents of the test culture, in the WorldValuesBench layout."""
    return write_survey(culture, 60, tmp_path / "survey", seed=3)
