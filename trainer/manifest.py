"""The training manifest saved next to an adapter (training_manifest.json)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trainer.config import TrainConfig, TrainResult
from trainer.dataset import TrainingData


def training_manifest(
    run_dir: str | Path,
    data: TrainingData,
    config: TrainConfig,
    result: TrainResult,
    model_name: str,
    fingerprint: dict[str, Any],
    runtime: dict[str, Any],
) -> dict[str, Any]:
    """What an adapter was trained on and how: enough to reproduce it or to tell two apart."""
    import peft
    import torch
    import transformers

    return {
        "format": "culturesim-lora/1",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run_dir": str(Path(run_dir).resolve()),
        "source": config.source,
        "culture": config.culture or (data.cultures[0] if data.cultures else None),
        "data": {
            "hash": data.hash,
            "episodes": data.episodes,
            "train_examples": result.n_train_examples,
            "eval_examples": result.n_eval_examples,
            "train_examples_per_task": data.counts("train"),
            "eval_examples_per_task": data.counts("eval"),
            "available_per_task": data.pool_sizes,
            "dropped_too_long": result.dropped_examples,
        },
        "tasks": config.tasks,
        "task_weights": config.task_weights,
        "base_model": {"name": model_name, **fingerprint},
        "lora": {
            "rank": config.rank,
            "alpha": config.alpha,
            "dropout": config.dropout,
            "target_modules": config.target_modules,
        },
        "training": {"hyperparameters": config.model_dump(mode="json"), **runtime},
        "results": {
            "steps": result.steps,
            "train_loss": result.train_loss,
            "eval_loss": result.eval_loss,
            "task_losses": result.task_losses,
            "train_tokens": result.train_tokens,
            "train_seconds": result.train_seconds,
            "tokens_per_second": result.tokens_per_second,
        },
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
        },
    }
