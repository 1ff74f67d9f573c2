"""What the suites share: model configurations, backends, batched option scoring, incremental results."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from personas.files import BadInputError
from simulator.backends.base import Backend, OptionScoringRequest

SCORES_FILE = "scores.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class ModelConfig:
    """One column of the comparison: which weights, and whether the culture persona frames the prompt."""

    name: str
    adapter: str | None = None
    persona: bool = False


CONFIG_NAMES = ("base", "persona", "adapter", "adapter+persona")


def parse_configs(names: Sequence[str] | None, adapter: str | None) -> list[ModelConfig]:
    """`base`, `persona`, `adapter`, `adapter+persona`; default: base and persona, plus adapter if given."""
    if not names:
        names = ["base", "persona"] + (["adapter"] if adapter else [])
    configs = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        if name not in CONFIG_NAMES:
            raise BadInputError(
                "--configs", f"unknown configuration '{name}' (choose from {', '.join(CONFIG_NAMES)})"
            )
        uses_adapter = name.startswith("adapter")
        if uses_adapter and not adapter:
            raise BadInputError("--configs", f"configuration '{name}' needs --adapter PATH")
        configs.append(ModelConfig(name, adapter if uses_adapter else None, name.endswith("persona")))
    return configs


BackendSource = Backend | Callable[[ModelConfig], Backend]


def backend_factory(
    kind: str = "transformers", model: str | None = None, **options: Any
) -> Callable[[ModelConfig], Backend]:
    """A factory that loads `model` (None: the embedded one) with each configuration's adapter."""

    def make(config: ModelConfig) -> Backend:
        from simulator.backends.registry import create_backend

        extra = {"adapter": config.adapter} if config.adapter else {}
        return create_backend(kind, model=model, **options, **extra)

    return make


class BackendPool:
    """Hands out one backend per distinct adapter; closes a factory-made one before loading the next."""

    def __init__(self, source: BackendSource):
        self.source = source
        self._key: str | None = None
        self._backend: Backend | None = None

    async def get(self, config: ModelConfig) -> Backend:
        if isinstance(self.source, Backend):
            if config.adapter:
                raise BadInputError(
                    "--adapter", f"configuration '{config.name}' needs a backend factory, got one backend"
                )
            return self.source
        key = config.adapter or ""
        if self._backend is None or key != self._key:
            await self.aclose()
            self._backend, self._key = self.source(config), key
        return self._backend

    async def aclose(self) -> None:
        if self._backend is not None and not isinstance(self.source, Backend):
            await self._backend.aclose()
        self._backend = None


def config_spec(config: ModelConfig, backend: Backend) -> dict[str, Any]:
    """What must match for a stored result to be reused under the same configuration name."""
    return {"model": backend.model_id, "adapter": config.adapter, "persona": config.persona}


def ordered_by_backend(configs: Sequence[ModelConfig]) -> list[ModelConfig]:
    """Configs sharing weights run back to back, so each model is loaded once."""
    first_seen: dict[str, int] = {}
    for index, config in enumerate(configs):
        first_seen.setdefault(config.adapter or "", index)
    return sorted(configs, key=lambda c: first_seen[c.adapter or ""])


class ProgressSink(Protocol):
    def start(self, total: int, description: str) -> None: ...

    def advance(self, amount: int) -> None: ...


class NoProgress:
    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


async def score_in_batches(
    backend: Backend,
    requests: Sequence[OptionScoringRequest],
    batch_size: int,
    on_batch: Callable[[int], None],
) -> list[list[float]]:
    """Option probabilities for every request, `batch_size` requests per backend call."""
    probabilities: list[list[float]] = []
    for start in range(0, len(requests), batch_size):
        chunk = requests[start : start + batch_size]
        scores = await backend.score_options(chunk)
        probabilities += [list(score.probabilities) for score in scores]
        on_batch(len(chunk))
    return probabilities


class ResultLog:
    """Append-only JSONL of finished (config, item) results: a killed run resumes where it stopped."""

    def __init__(self, path: Path):
        self.path = path
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill; that item is simply scored again
                self.records[(record["config"], record["item"])] = record

    def get(self, config: str, item: str, spec: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The finished record, if any, and (given `spec`) only if it came from the same model setup."""
        record = self.records.get((config, item))
        if record is not None and spec is not None and record.get("spec") != spec:
            return None  # e.g. --adapter now points elsewhere: score again, the new line wins on reload
        return record

    def append(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.records[(record["config"], record["item"])] = record


def open_out_dir(out_dir: Path, identity: dict[str, Any], fresh: bool) -> ResultLog:
    """Prepare the output directory; refuse to mix results of a different evaluation into it."""
    manifest_path = out_dir / MANIFEST_FILE
    if fresh and out_dir.exists():
        for name in (SCORES_FILE, MANIFEST_FILE):
            (out_dir / name).unlink(missing_ok=True)
        shutil.rmtree(out_dir / "plots", ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    if manifest_path.exists():
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        differing = sorted(key for key in identity if previous.get(key) != identity[key])
        if differing:
            raise BadInputError(
                "--out",
                f"{out_dir} holds results of a different evaluation (differs in: {', '.join(differing)}); "
                "choose another --out or pass --fresh",
            )
    manifest_path.write_text(json.dumps(identity, indent=2, ensure_ascii=False), encoding="utf-8")
    return ResultLog(out_dir / SCORES_FILE)
