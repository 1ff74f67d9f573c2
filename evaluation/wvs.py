"""The WVS suite: respondents' demographics as persona prompts, value questions scored by likelihood.

For every model configuration and every value question, one batched pass scores the question's scale
codes for all sampled respondents who answered it. The model's culture-level distribution is the mean
of those per-respondent probabilities; the reference is the answer distribution of every respondent
of the culture's country in the data. Each finished question is appended to scores.jsonl at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from evaluation import metrics, prompts
from evaluation.report import summarise, write_reports
from evaluation.scoring import (
    BackendPool,
    BackendSource,
    ModelConfig,
    NoProgress,
    ProgressSink,
    ResultLog,
    config_spec,
    open_out_dir,
    ordered_by_backend,
    parse_configs,
    score_in_batches,
)
from evaluation.wvs_data import Respondent, SurveySample, ValueQuestion, sample_survey
from personas.schema import CultureProfile
from simulator.backends.base import OptionScoringRequest


def question_requests(
    question: ValueQuestion, respondents: list[Respondent], system: str
) -> list[OptionScoringRequest]:
    prompt = prompts.scale_question(question.text, question.low, question.high, question.labels)
    return [
        OptionScoringRequest(prompts.wvs_messages(system, respondent.demographics, prompt), question.options)
        for respondent in respondents
    ]


async def run_wvs(
    backends: BackendSource,
    data_dir: str | Path,
    culture: CultureProfile,
    out_dir: str | Path,
    *,
    configs: list[ModelConfig] | None = None,
    respondents: int = 40,
    questions: list[str] | None = None,
    seed: int = 0,
    split: str | None = None,
    batch_size: int | None = None,
    fresh: bool = False,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """Evaluate every configuration on the survey; returns the summary per configuration.

    `backends` is one Backend (for configurations without adapter) or a factory ModelConfig -> Backend.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    configs = configs or parse_configs(None, None)
    progress = progress or NoProgress()
    names = [culture.country, *culture.aliases]
    sample = await asyncio.to_thread(sample_survey, data_dir, names, respondents, questions, seed, split)
    identity = {
        "suite": "wvs",
        "data": str(data_dir.resolve()),
        "tables": [str(path.name) for path in sample.tables],
        "country": culture.country,
        "culture": culture.id,
        "seed": seed,
        "respondents": [r.id for r in sample.respondents],
        "questions": [q.id for q in sample.questions],
    }
    log = open_out_dir(out_dir, identity, fresh)
    answered = {q.id: [r for r in sample.respondents if q.id in r.answers] for q in sample.questions}
    progress.start(len(configs) * sum(len(group) for group in answered.values()), "scoring survey answers")
    models: dict[str, dict[str, Any]] = {}
    pool = BackendPool(backends)
    try:
        for config in ordered_by_backend(configs):
            backend = await pool.get(config)
            models[config.name] = backend.describe()
            spec = config_spec(config, backend)
            system = prompts.system_prompt(prompts.SURVEY_SYSTEM, config.persona, culture.country, culture)
            size = batch_size or backend.preferred_batch_size()
            for question in sample.questions:
                group = answered[question.id]
                if log.get(config.name, question.id, spec) is not None or not group:
                    progress.advance(len(group))
                    continue
                requests = question_requests(question, group, system)
                probabilities = await score_in_batches(backend, requests, size, progress.advance)
                log.append(
                    {
                        "config": config.name,
                        "item": question.id,
                        "spec": spec,
                        "respondents": [r.id for r in group],
                        "answers": [r.answers[question.id] for r in group],
                        "probabilities": probabilities,
                    }
                )
    finally:
        await pool.aclose()
    results = build_results(sample, culture, configs, models, log, data_dir)
    await asyncio.to_thread(write_reports, out_dir, results)
    return summarise(results, out_dir)


def evaluate_wvs(
    backends: BackendSource,
    data_dir: str | Path,
    culture: CultureProfile,
    out_dir: str | Path,
    **options: Any,
) -> dict[str, Any]:
    """Synchronous entry point for the pipeline: see `run_wvs`."""
    return asyncio.run(run_wvs(backends, data_dir, culture, out_dir, **options))


def build_results(
    sample: SurveySample,
    culture: CultureProfile,
    configs: list[ModelConfig],
    models: dict[str, dict[str, Any]],
    log: ResultLog,
    data_dir: Path,
) -> dict[str, Any]:
    config_results = {}
    for config in configs:
        items = []
        matches: dict[str, list[bool]] = {r.id: [] for r in sample.respondents}
        for question in sample.questions:
            record = log.get(config.name, question.id)
            counts = sample.reference_counts[question.id]
            if record is None or sum(counts) == 0:
                continue
            items.append(question_result(question, counts, record, matches))
        config_results[config.name] = {
            "model": models.get(config.name, {}),
            "adapter": config.adapter,
            "persona": config.persona,
            "summary": {
                "mean_kl": metrics.mean(item["kl"] for item in items),
                "mean_jsd": metrics.mean(item["jsd"] for item in items),
                "individual_accuracy": metrics.individual_accuracy(matches),
                "questions": len(items),
                "respondents": sum(1 for hits in matches.values() if hits),
            },
            "items": items,
        }
    return {
        "suite": "wvs",
        "title": f"WVS-style survey evaluation: {culture.name} ({culture.country})",
        "target": {"culture": culture.id, "country": culture.country},
        "data": {
            "directory": str(data_dir),
            "tables": [str(path) for path in sample.tables],
            "country_respondents": sample.pool_size,
            "sampled_respondents": len(sample.respondents),
        },
        "reference_note": "reference = answers of every respondent from the country in the data; "
        "model = mean of per-respondent option probabilities over the sampled respondents",
        "metric_notes": list(metrics.METRIC_NOTES),
        "configs": config_results,
    }


def question_result(
    question: ValueQuestion, counts: list[int], record: dict[str, Any], matches: dict[str, list[bool]]
) -> dict[str, Any]:
    reference = metrics.normalise(counts)
    probabilities = record["probabilities"]
    model = metrics.mean_distribution(probabilities)
    predictions = [question.codes[metrics.argmax(p)] for p in probabilities]
    hits = [predicted == answer for predicted, answer in zip(predictions, record["answers"])]
    for respondent_id, hit in zip(record["respondents"], hits):
        matches.setdefault(respondent_id, []).append(hit)
    return {
        "id": question.id,
        "text": question.text,
        "options": question.options,
        "labels": list(question.labels),
        "reference": reference,
        "reference_n": sum(counts),
        "model": model,
        "predicted": metrics.answer_distribution(predictions, question.codes),
        "n": len(hits),
        "kl": metrics.kl_divergence(reference, model),
        "jsd": metrics.js_distance(reference, model),
        "accuracy": sum(hits) / len(hits),
    }
