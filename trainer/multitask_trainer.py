"""The transformers Trainer with a completion-only loss that it also reports per task.

The loss is the mean cross-entropy over target tokens (labels != -100) of the whole accumulated
batch, the way the Trainer normalises it (`num_items_in_batch`), so gradient accumulation and
several GPUs give the same gradient as one large batch. Per-task sums of that same token loss are
kept on the side and logged as `loss_<task>` (training, since the previous log) and
`eval_loss_<task>` (each evaluation); across processes they are summed before logging.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import Trainer, TrainerCallback

from trainer.tokenization import IGNORE


def target_mask(labels: torch.Tensor) -> torch.Tensor:
    """(batch, seq) booleans: the positions whose next token is a target (position t predicts t+1)."""
    mask = torch.zeros_like(labels, dtype=torch.bool)
    mask[:, :-1] = labels[:, 1:].ne(IGNORE)
    return mask


def completion_loss(
    logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per example: the summed cross-entropy of its target tokens, and their number.

    `logits` are (batch, seq, vocab), or, with `mask`, (n, vocab) for the mask's positions only
    (the model computed no others). Prompt and padding tokens (label -100) count for nothing.
    """
    if mask is None:
        mask = target_mask(labels)
        logits = logits[mask]
    targets = labels[:, 1:][mask[:, :-1]]
    token_loss = F.cross_entropy(logits.float(), targets, reduction="none")
    rows = mask.nonzero()[:, 0]
    per_example = torch.zeros(labels.size(0), dtype=token_loss.dtype, device=labels.device)
    return per_example.index_add(0, rows, token_loss), mask.sum(dim=1)


def accepts_logit_mask(model: torch.nn.Module) -> bool:
    """Whether the model can compute logits at masked positions only (`logits_to_keep` as a
    boolean mask, transformers >= 5): the vocabulary projection and the softmax over it are then
    paid for target tokens alone, not for the prompt."""
    try:
        from transformers.modeling_utils import slice_logits_to_keep  # noqa: F401
    except ImportError:
        return False
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


class TaskLossMeter:
    """Running per-task sums of token losses and token counts."""

    def __init__(self, n_tasks: int):
        self.sums = torch.zeros(n_tasks, dtype=torch.float64)
        self.counts = torch.zeros(n_tasks, dtype=torch.float64)

    def add(self, task_ids: torch.Tensor, loss_sums: torch.Tensor, token_counts: torch.Tensor) -> None:
        self.sums.index_add_(0, task_ids.cpu(), loss_sums.detach().double().cpu())
        self.counts.index_add_(0, task_ids.cpu(), token_counts.double().cpu())

    def means(self, names: list[str], prefix: str, reduce: Any = None) -> dict[str, float]:
        sums, counts = self.sums, self.counts
        if reduce is not None:  # several processes: every one holds a share of the batches
            sums, counts = reduce(sums), reduce(counts)
        return {f"{prefix}{name}": round(float(s / c), 4) for name, s, c in zip(names, sums, counts) if c > 0}

    def reset(self) -> None:
        self.sums.zero_()
        self.counts.zero_()


class MultiTaskTrainer(Trainer):
    def __init__(self, *args: Any, task_names: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.task_names = task_names
        self.train_meter = TaskLossMeter(len(task_names))
        self.eval_meter = TaskLossMeter(len(task_names))
        self.logit_mask = accepts_logit_mask(self.model)

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> Any:
        inputs = dict(inputs)
        labels, task_ids = inputs.pop("labels"), inputs.pop("task_ids")
        if self.logit_mask:
            mask = target_mask(labels)
            outputs = model(**inputs, logits_to_keep=mask)
            per_example, per_example_tokens = completion_loss(outputs.logits, labels, mask)
        else:
            outputs = model(**inputs)
            per_example, per_example_tokens = completion_loss(outputs.logits, labels)
        meter = self.train_meter if model.training else self.eval_meter
        meter.add(task_ids, per_example, per_example_tokens)
        if num_items_in_batch is not None:
            loss = per_example.sum() / num_items_in_batch
            if self.args.average_tokens_across_devices and self.args.world_size > 1:
                loss = loss * self.args.world_size  # DDP averages gradients over processes
        else:
            loss = per_example.sum() / per_example_tokens.sum().clamp(min=1)
        return (loss, outputs) if return_outputs else loss

    def _reduce(self) -> Any:
        if self.args.world_size <= 1:
            return None
        return lambda t: self.accelerator.reduce(t.to(self.args.device), reduction="sum").cpu()

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            logs.update(self.train_meter.means(self.task_names, "loss_", self._reduce()))
            self.train_meter.reset()
        if "eval_loss" in logs:
            logs.update(self.eval_meter.means(self.task_names, "eval_loss_", self._reduce()))
        super().log(logs, start_time)

    def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
        self.eval_meter.reset()
        metrics = super().evaluate(*args, **kwargs)
        metrics.update(self.eval_meter.means(self.task_names, "eval_loss_", self._reduce()))
        return metrics


class JsonlLogCallback(TrainerCallback):
    """Every log line appended to a JSONL file as it happens (nothing is lost on a crash)."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any
    ):
        if state.is_world_process_zero and logs:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"step": state.global_step, **logs}) + "\n")


class RichProgressCallback(TrainerCallback):
    """A rich progress bar over optimiser steps, showing the latest losses."""

    def __init__(self, console: Any = None):
        self.console = console
        self.progress: Any = None
        self.task: Any = None
        self.eval_task: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any):
        if not state.is_world_process_zero:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[losses]}"),
            console=self.console,
        )
        self.progress.start()
        self.task = self.progress.add_task(
            "train", total=state.max_steps, completed=state.global_step, losses=""
        )

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any
    ):
        if self.progress is None or not logs:
            return
        shown = {
            key: value
            for key, value in logs.items()
            if key == "loss" or key.startswith(("loss_", "eval_loss"))
        }
        if shown:
            self.progress.update(self.task, losses=" ".join(f"{k}={v:.3f}" for k, v in shown.items()))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class GracefulStopCallback(TrainerCallback):
    """Ctrl-C while training finishes the step in progress, writes a checkpoint and stops, so
    `--resume` loses nothing; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self.stopped = False
        self.tokens_at_start = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers belong to the main thread; elsewhere Ctrl-C is the caller's
            return
        previous = signal.getsignal(signal.SIGINT)

        def request_stop(signum: int, frame: Any) -> None:
            self.requested = True
            signal.signal(signal.SIGINT, previous)

        signal.signal(signal.SIGINT, request_stop)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any):
        self.tokens_at_start = state.num_input_tokens_seen  # after a resume: what earlier sessions saw

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any):
        if self.requested:
            control.should_save = True
            control.should_training_stop = True
            self.stopped = True
