"""Train a multi-task LoRA adapter on a run's judged episodes: `train_adapter(run_dir, out_dir, config)`.

The adapter directory holds:
  adapter_config.json, adapter_model.safetensors  the adapter (peft format)
  training_manifest.json    data hash, tasks and weights, hyper-parameters, base model, losses
  training_plan.json        written first: what is being trained (checked by --resume)
  dataset.jsonl             the exact training and evaluation examples (chat messages)
  losses.jsonl, losses.png  every log line as it happens; loss curves per task
  checkpoints/checkpoint-N  full training state every few steps, for --resume

Using the adapter: `create_backend("transformers", adapter=OUT)` (peft, merged into the base
weights) or `create_backend("vllm", adapter=OUT)` (a vLLM `LoRARequest`, max rank 64); by hand,
`LLM(model=BASE, enable_lora=True, max_lora_rank=RANK)` then
`llm.generate(prompts, params, lora_request=LoRARequest("culture", 1, OUT))`, or
`vllm serve BASE --enable-lora --lora-modules culture=OUT` behind the openai backend.

Several GPUs: the same command under accelerate or torchrun, unchanged (the Trainer runs data
parallel; every process builds the same examples from the same seed; only the first writes files):
  accelerate launch --num_processes 4 -m simulator.cli train RUN --out adapters/japanese
  torchrun --nproc_per_node 4 -m simulator.cli train RUN --out adapters/japanese
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from personas.files import BadInputError
from simulator.backends.cpu_threads import cpu_threads
from trainer.config import TrainConfig, TrainResult
from trainer.dataset import TrainingData, build_training_data
from trainer.lora import (
    base_model_path,
    choose_precision,
    load_lora_model,
    load_tokenizer,
    model_fingerprint,
    training_device,
)
from trainer.tokenization import TokenizedDataset, TokenizedExample, tokenize_example

MANIFEST = "training_manifest.json"
PLAN = "training_plan.json"
CHECKPOINTS = "checkpoints"
LOSS_LOG = "losses.jsonl"
LOSS_PLOT = "losses.png"


def last_checkpoint(out_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    folder = out_dir / CHECKPOINTS
    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


ARTIFACTS = (
    MANIFEST,
    PLAN,
    LOSS_LOG,
    LOSS_PLOT,
    "dataset.jsonl",
    "adapter_model.safetensors",
    "adapter_config.json",
)


def check_out_dir(out_dir: Path, config: TrainConfig) -> str | None:
    """The checkpoint to resume from, or None; earlier work is only discarded when asked to."""
    if config.overwrite:
        return None  # cleared once the new data is known to be good (clear_out_dir)
    if not config.resume and (out_dir / MANIFEST).exists():
        raise BadInputError(
            "--out", f"{out_dir} already holds a trained adapter; add --overwrite or choose another --out"
        )
    checkpoint = last_checkpoint(out_dir)
    if not config.resume and checkpoint:
        raise BadInputError(
            "--out",
            f"{out_dir} holds checkpoints of an earlier training run: add --resume to continue it, "
            "--overwrite to start again, or choose another --out",
        )
    return checkpoint


def clear_out_dir(out_dir: Path) -> None:
    """Remove what an earlier training wrote (its checkpoints and adapter); other files stay."""
    shutil.rmtree(out_dir / CHECKPOINTS, ignore_errors=True)
    for name in ARTIFACTS:
        (out_dir / name).unlink(missing_ok=True)


def finished_result(out_dir: Path, data_hash: str) -> TrainResult | None:
    """The result of a finished training of the same data in `out_dir` (what --resume returns)."""
    if not (out_dir / MANIFEST).exists():
        return None
    manifest = json.loads((out_dir / MANIFEST).read_text())
    if manifest["data"]["hash"] != data_hash:
        raise BadInputError(
            "--resume",
            f"{out_dir} holds an adapter trained on other data (different selection, judgements or "
            "options); add --overwrite or choose another --out",
        )
    result = TrainResult.model_validate(manifest["result"])
    plot = out_dir / LOSS_PLOT
    return result.model_copy(update={"adapter_dir": out_dir, "loss_plot": plot if plot.exists() else None})


def tokenize_all(tokenizer: Any, data: list[Any], max_seq_len: int) -> tuple[list[TokenizedExample], int]:
    sequences, dropped = [], 0
    for example in data:
        tokenized = tokenize_example(tokenizer, example, max_seq_len)
        dropped += not tokenized
        sequences.extend(tokenized)
    return sequences, dropped


def _schedule(config: TrainConfig, n_train: int, world_size: int) -> dict[str, int]:
    batches = math.ceil(n_train / (config.batch_size * world_size))
    total = max(1, math.ceil(math.ceil(batches / config.grad_accum) * config.epochs))
    return {
        "total": total,
        "logging": config.logging_steps or max(1, total // 20),
        "eval": config.eval_steps or max(1, math.ceil(total / 2)),
        "save": config.save_steps or max(1, math.ceil(total / 5)),
    }


def _training_arguments(
    config: TrainConfig, out_dir: Path, device: str, precision: str, has_eval: bool, schedule: dict[str, int]
) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(out_dir / CHECKPOINTS),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        warmup_steps=int(config.warmup_ratio * schedule["total"]),  # none for a handful of steps
        weight_decay=config.weight_decay,
        lr_scheduler_type="cosine",
        logging_steps=schedule["logging"],
        logging_first_step=True,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=schedule["eval"],
        save_strategy="steps",
        save_steps=schedule["save"],
        save_total_limit=2,
        bf16=precision == "bf16",
        use_cpu=device == "cpu",
        # Plain shuffling, not batches grouped by length: lengths differ by task, so grouping
        # would give one-task batches and a loss that swings from task to task.
        seed=config.seed,
        data_seed=config.seed,
        **_checkpointing_option(TrainingArguments, config.gradient_checkpointing),
        include_num_input_tokens_seen="non_padding",
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        label_names=["labels"],
        prediction_loss_only=True,
        dataloader_pin_memory=device == "cuda",
    )


def _checkpointing_option(arguments_class: type, enabled: bool) -> dict[str, bool]:
    """Activation checkpointing under its transformers 5 name, or the older one (nothing when off)."""
    if not enabled:
        return {}
    fields = getattr(arguments_class, "__dataclass_fields__", {})
    return {
        "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing": True
    }


def _write_plan(out_dir: Path, data: TrainingData, config: TrainConfig, checkpoint: str | None) -> None:
    plan_path = out_dir / PLAN
    if checkpoint and plan_path.exists():
        planned = json.loads(plan_path.read_text())
        if planned.get("data_hash") != data.hash:
            raise BadInputError(
                "--resume",
                f"the training data changed since the checkpoints in {out_dir} were written "
                "(different selection, judgements or options); train into a new --out",
            )
    plan = {"data_hash": data.hash, "config": config.model_dump(mode="json")}
    plan_path.write_text(json.dumps(plan, indent=2))
    data.write_jsonl(out_dir / "dataset.jsonl")
    if not checkpoint:
        (out_dir / LOSS_LOG).unlink(missing_ok=True)


def train_adapter(
    run_dir: str | Path,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    show_progress: bool = False,
    console: Any = None,
) -> TrainResult:
    """Build the multi-task dataset from `run_dir`, train LoRA on it, save the adapter to `out_dir`."""
    from trainer.loss_plot import plot_losses
    from trainer.manifest import training_manifest

    config = config or TrainConfig()
    out_dir = Path(out_dir)
    checkpoint = check_out_dir(out_dir, config)
    show_progress = show_progress and os.environ.get("RANK", "0") == "0"  # one bar across processes
    status = console.status if (show_progress and console is not None) else _quiet
    with status("building the multi-task dataset"):
        data = build_training_data(run_dir, config)
        model_path, model_name = base_model_path(config)
        tokenizer = load_tokenizer(model_path)
        train_seqs, dropped_train = tokenize_all(tokenizer, data.train, config.max_seq_len)
        eval_seqs, dropped_eval = tokenize_all(tokenizer, data.eval, config.max_seq_len)
    if config.resume and (done := finished_result(out_dir, data.hash)):
        return done
    if not train_seqs:
        raise BadInputError(
            "--max-seq-len", f"every example is longer than {config.max_seq_len} tokens before its target"
        )
    device = training_device()
    precision = choose_precision(config.precision, device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))  # set by torchrun and accelerate launch
    schedule = _schedule(config, len(train_seqs), world_size)
    args = _training_arguments(config, out_dir, device, precision, bool(eval_seqs), schedule)
    is_main = args.process_index == 0
    if is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        if config.overwrite:
            clear_out_dir(out_dir)
        _write_plan(out_dir, data, config, checkpoint)

    with _torch_threads(cpu_threads(config.threads) if device == "cpu" else None) as threads:
        with status(f"loading {model_name} with LoRA ({precision}, {device}, {threads} threads)"):
            model = load_lora_model(model_path, config, precision, device)
        trainer, stopper = _make_trainer(
            model, args, tokenizer, train_seqs, eval_seqs, config, out_dir, console, show_progress
        )
        started = time.perf_counter()
        with stopper.installed():
            output = trainer.train(resume_from_checkpoint=checkpoint)
        seconds = time.perf_counter() - started
        if stopper.stopped:
            raise KeyboardInterrupt  # a checkpoint was written at the step in progress; --resume continues
        trainer.save_model(str(out_dir))

    history = trainer.state.log_history
    train_tokens = int(trainer.state.num_input_tokens_seen - stopper.tokens_at_start)
    result = TrainResult(
        adapter_dir=out_dir,
        n_train_examples=len(train_seqs),
        n_eval_examples=len(eval_seqs),
        examples_per_task=dict(Counter(sequence.task for sequence in train_seqs)),
        dropped_examples=dropped_train + dropped_eval,
        steps=trainer.state.global_step,
        train_loss=_last(history, "loss"),
        eval_loss=_last(history, "eval_loss"),
        task_losses=_task_losses(history, config.tasks),
        train_tokens=train_tokens,
        train_seconds=round(seconds, 2),
        tokens_per_second=round(train_tokens / seconds, 1) if seconds > 0 else 0.0,
        data_hash=data.hash,
    )
    if is_main:
        result.loss_plot = plot_losses(history, config.tasks, out_dir / LOSS_PLOT)
        runtime = {
            "precision": precision,
            "device": device,
            "world_size": world_size,
            "torch_threads": threads,
        }
        manifest = training_manifest(
            run_dir, data, config, result, model_name, model_fingerprint(model_path, model), runtime
        )
        manifest["results"]["train_loss_mean"] = round(output.training_loss, 4)
        manifest["result"] = result.model_dump(mode="json")
        (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return result


def _make_trainer(
    model: Any,
    args: Any,
    tokenizer: Any,
    train_seqs: list[TokenizedExample],
    eval_seqs: list[TokenizedExample],
    config: TrainConfig,
    out_dir: Path,
    console: Any,
    show_progress: bool,
) -> tuple[Any, Any]:
    from transformers import PrinterCallback

    from trainer.multitask_trainer import (
        GracefulStopCallback,
        JsonlLogCallback,
        MultiTaskTrainer,
        RichProgressCallback,
    )
    from trainer.tokenization import PaddingCollator

    stopper = GracefulStopCallback()
    callbacks = [JsonlLogCallback(out_dir / LOSS_LOG), stopper]
    if show_progress:
        callbacks.append(RichProgressCallback(console))
    trainer = MultiTaskTrainer(
        model=model,
        args=args,
        train_dataset=TokenizedDataset(train_seqs, config.tasks),
        eval_dataset=TokenizedDataset(eval_seqs, config.tasks) if eval_seqs else None,
        data_collator=PaddingCollator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=callbacks,
        task_names=config.tasks,
    )
    trainer.remove_callback(PrinterCallback)  # the rich bar (or nothing) instead of printed dicts
    return trainer, stopper


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[int]:
    """Torch's thread count for the block only: a pipeline's later stages keep their own."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _quiet(_message: str) -> Iterator[None]:
    yield


def _last(history: list[dict[str, Any]], key: str) -> float | None:
    values = [entry[key] for entry in history if key in entry]
    return round(float(values[-1]), 4) if values else None


def _task_losses(history: list[dict[str, Any]], tasks: list[str]) -> dict[str, float]:
    prefix = "eval_loss_" if any("eval_loss" in entry for entry in history) else "loss_"
    losses = {task: _last(history, prefix + task) for task in tasks}
    return {task: loss for task, loss in losses.items() if loss is not None}
