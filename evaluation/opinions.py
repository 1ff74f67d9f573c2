"""The opinion-distribution suite: a country's answer shares per question vs the model's option probabilities.

Items come in the GlobalOpinionQA layout (a JSON list of {country, question, options, distribution},
one record per country and question). Options are shown lettered (A, B, ...) and the letters are
scored, so long option texts are not penalised for their length. By default non-answers ("Don't know",
"No answer", "Missing ...") are dropped and the country's shares renormalised over the real options.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from evaluation import metrics, prompts
from evaluation.report import summarise, write_reports
from evaluation.scoring import (
    BackendPool,
    BackendSource,
    ModelConfig,
    NoProgress,
    ProgressSink,
    config_spec,
    open_out_dir,
    ordered_by_backend,
    parse_configs,
    score_in_batches,
)
from evaluation.wvs_data import no_country_message
from personas.files import BadInputError, read_data_file, validate_record
from personas.schema import CultureProfile
from simulator.backends.base import OptionScoringRequest

NON_ANSWER = re.compile(
    r"^\s*(dk\b|don['’´]?t know|no answer|(other )?missing|refused|not applicable|inap\b)", re.I
)


class OpinionRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    country: str
    question: str
    options: list[str]
    distribution: list[float]

    @field_validator("options", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: Any) -> Any:
        # The published file has scale points stored as numbers (1.0, 2.0, ...) among text options.
        if isinstance(value, list):
            return [f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
        return value

    @model_validator(mode="after")
    def _aligned(self) -> OpinionRecord:
        if len(self.options) != len(self.distribution):
            raise ValueError(f"{len(self.options)} options but {len(self.distribution)} shares")
        if any(share < 0 for share in self.distribution):
            raise ValueError("shares must be non-negative")
        return self


@dataclass(frozen=True)
class OpinionItem:
    id: str  # the record's index in the file, stable for resuming
    question: str
    options: list[str]
    reference: list[float]


def load_opinion_items(
    path: str | Path,
    country: str | Sequence[str],
    limit: int | None = None,
    keep_nonsubstantive: bool = False,
) -> tuple[list[OpinionItem], int, str]:
    """The country's items (file order, at most `limit`), how many were unusable, and the country name matched.

    `country` may be several names of one country (a culture's country and aliases): the first with data wins.
    """
    path = Path(path)
    names = [country] if isinstance(country, str) else list(country)
    data = read_data_file(path)
    if not isinstance(data, list):
        raise BadInputError(
            path, "expected a JSON list of {country, question, options, distribution} records"
        )
    by_country: dict[str, list[tuple[int, dict]]] = {}
    for index, raw in enumerate(data):
        if not isinstance(raw, dict) or not isinstance(raw.get("country"), str):
            raise BadInputError(
                path, "expected a mapping with a text 'country'", record=index, field="country"
            )
        by_country.setdefault(raw["country"].strip().casefold(), []).append((index, raw))
    matched = next((name for name in names if name.strip().casefold() in by_country), None)
    if matched is None:
        present = Counter({records[0][1]["country"]: len(records) for records in by_country.values()})
        raise BadInputError(path, no_country_message(names[0], present))
    chosen = by_country[matched.strip().casefold()]
    items, skipped = [], 0
    for index, raw in chosen:
        record = validate_record(OpinionRecord, raw, path, index)
        keep = [
            i
            for i, option in enumerate(record.options)
            if keep_nonsubstantive or not NON_ANSWER.match(option)
        ]
        shares = [record.distribution[i] for i in keep]
        if len(keep) < 2 or len(keep) > len(prompts.OPTION_LETTERS) or sum(shares) <= 0:
            skipped += 1
            continue
        items.append(
            OpinionItem(
                str(index), record.question, [record.options[i] for i in keep], metrics.normalise(shares)
            )
        )
        if limit is not None and len(items) >= limit:
            break
    return items, skipped, chosen[0][1]["country"]


async def run_opinions(
    backends: BackendSource,
    data_file: str | Path,
    country: str | Sequence[str],
    out_dir: str | Path,
    *,
    culture: CultureProfile | None = None,
    configs: list[ModelConfig] | None = None,
    limit: int | None = None,
    keep_nonsubstantive: bool = False,
    batch_size: int | None = None,
    fresh: bool = False,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """Score every item once per configuration; returns the summary per configuration."""
    data_file, out_dir = Path(data_file), Path(out_dir)
    configs = configs or parse_configs(None, None)
    progress = progress or NoProgress()
    items, skipped, country = await asyncio.to_thread(
        load_opinion_items, data_file, country, limit, keep_nonsubstantive
    )
    identity = {
        "suite": "opinions",
        "data": str(data_file.resolve()),
        "country": country,
        "culture": culture.id if culture else None,
        "keep_nonsubstantive": keep_nonsubstantive,
        "items": [item.id for item in items],
    }
    log = open_out_dir(out_dir, identity, fresh)
    progress.start(len(configs) * len(items), f"scoring {country} opinion items")
    models: dict[str, dict[str, Any]] = {}
    pool = BackendPool(backends)
    try:
        for config in ordered_by_backend(configs):
            backend = await pool.get(config)
            models[config.name] = backend.describe()
            spec = config_spec(config, backend)
            system = prompts.system_prompt(prompts.OPINION_SYSTEM, config.persona, country, culture)
            todo = [item for item in items if log.get(config.name, item.id, spec) is None]
            progress.advance(len(items) - len(todo))
            size = batch_size or backend.preferred_batch_size()
            for start in range(0, len(todo), size):
                chunk = todo[start : start + size]
                requests = [
                    OptionScoringRequest(
                        prompts.opinion_messages(
                            system, prompts.lettered_question(item.question, item.options)
                        ),
                        prompts.option_letters(len(item.options)),
                    )
                    for item in chunk
                ]
                probabilities = await score_in_batches(backend, requests, size, progress.advance)
                for item, distribution in zip(chunk, probabilities):
                    log.append(
                        {"config": config.name, "item": item.id, "spec": spec, "probabilities": distribution}
                    )
    finally:
        await pool.aclose()
    results = build_results(items, skipped, country, culture, configs, models, log, data_file)
    await asyncio.to_thread(write_reports, out_dir, results)
    return summarise(results, out_dir)


def evaluate_opinions(
    backends: BackendSource,
    data_file: str | Path,
    country: str | Sequence[str],
    out_dir: str | Path,
    **options: Any,
) -> dict[str, Any]:
    """Synchronous entry point for the pipeline: see `run_opinions`."""
    return asyncio.run(run_opinions(backends, data_file, country, out_dir, **options))


def build_results(items, skipped, country, culture, configs, models, log, data_file) -> dict[str, Any]:
    config_results = {}
    for config in configs:
        rows = []
        for item in items:
            record = log.get(config.name, item.id)
            if record is None:
                continue
            model = metrics.normalise(record["probabilities"])
            rows.append(
                {
                    "id": item.id,
                    "text": item.question,
                    "options": item.options,
                    "reference": item.reference,
                    "model": model,
                    "kl": metrics.kl_divergence(item.reference, model),
                    "jsd": metrics.js_distance(item.reference, model),
                    "top_match": metrics.argmax(model) == metrics.argmax(item.reference),
                }
            )
        config_results[config.name] = {
            "model": models.get(config.name, {}),
            "adapter": config.adapter,
            "persona": config.persona,
            "summary": {
                "mean_kl": metrics.mean(row["kl"] for row in rows),
                "mean_jsd": metrics.mean(row["jsd"] for row in rows),
                "top_match_rate": metrics.mean(float(row["top_match"]) for row in rows),
                "items": len(rows),
            },
            "items": rows,
        }
    return {
        "suite": "opinions",
        "title": f"Opinion distributions: {country}",
        "target": {"country": country, "culture": culture.id if culture else None},
        "data": {"file": str(data_file), "items": len(items), "skipped_items": skipped},
        "reference_note": "reference = the country's answer shares (non-answers dropped and renormalised "
        "unless --keep-nonsubstantive); model = option-letter probabilities",
        "metric_notes": list(metrics.METRIC_NOTES[:2])
        + ["top-option match = the model's most probable option is the country's most chosen one."],
        "configs": config_results,
    }
