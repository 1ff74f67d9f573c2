"""Shared fixtures: the embedded model is loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data when present (reference data for checks); tests that need it skip otherwise."""
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def embedded_backend():
    """The real embedded SmolLM2 in fp32, so outputs are exactly reproducible."""
    from simulator.backends.transformers_backend import TransformersBackend

    return TransformersBackend(dtype="float32")
