"""What a training run is told (TrainConfig) and what it reports back (TrainResult)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trainer.examples import DEFAULT_TASKS, parse_tasks

# Every linear projection of a Llama-family block (attention and MLP): LoRA on all of them trains
# better than on q/v alone at the same rank, and costs little next to the frozen base model.
LLAMA_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

Source = Literal["selected", "kept"]
Precision = Literal["auto", "bf16", "fp32"]


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # data
    tasks: list[str] = Field(default_factory=lambda: list(DEFAULT_TASKS))
    task_weights: dict[str, float] | None = Field(
        default=None, description="Share of each task in the mixture; None: every example once"
    )
    source: Source = "selected"
    culture: str | None = None
    max_examples: int | None = Field(default=None, ge=1, description="Training examples after mixing")
    eval_fraction: float = Field(default=0.1, ge=0, lt=1, description="Share of episodes held out")
    max_eval_examples: int = Field(default=16, ge=0)
    max_context_turns: int = Field(default=8, ge=1, description="Turns an intent example shows")
    max_seq_len: int = Field(default=512, ge=16)
    seed: int = 0
    # model and LoRA
    model: str | None = Field(default=None, description="HF id or directory; None: the embedded SmolLM2")
    rank: int = Field(default=8, ge=1)
    alpha: float = Field(default=16, gt=0)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: list(LLAMA_TARGET_MODULES))
    precision: Precision = "auto"
    threads: int | None = Field(
        default=None, ge=1, description="CPU threads for torch; None: the cores other work leaves idle"
    )
    # optimisation
    epochs: float = Field(default=1, gt=0)
    learning_rate: float = Field(default=2e-4, gt=0)
    batch_size: int = Field(default=4, ge=1)
    grad_accum: int = Field(default=2, ge=1)
    warmup_ratio: float = Field(default=0.05, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0)
    gradient_checkpointing: bool = False
    logging_steps: int | None = Field(default=None, ge=1, description="None: about 20 logs per run")
    eval_steps: int | None = Field(default=None, ge=1, description="None: 2 evaluations per run")
    save_steps: int | None = Field(default=None, ge=1, description="None: about 5 checkpoints per run")
    resume: bool = False
    overwrite: bool = Field(default=False, description="Discard the output directory's earlier training")

    @model_validator(mode="after")
    def _resume_or_overwrite(self) -> TrainConfig:
        if self.resume and self.overwrite:
            raise ValueError("resume and overwrite exclude each other")
        return self

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: list[str]) -> list[str]:
        return parse_tasks(tasks)

    @field_validator("task_weights")
    @classmethod
    def _known_weighted_tasks(cls, weights: dict[str, float] | None) -> dict[str, float] | None:
        if weights is not None:
            parse_tasks(list(weights))
            if any(weight < 0 for weight in weights.values()):
                raise ValueError("task weights must be >= 0")
        return weights


class TrainResult(BaseModel):
    adapter_dir: Path
    n_train_examples: int
    n_eval_examples: int
    examples_per_task: dict[str, int] = Field(description="Training sequences per task")
    dropped_examples: int = Field(description="Examples whose targets lay beyond --max-seq-len")
    steps: int
    train_loss: float | None
    eval_loss: float | None
    task_losses: dict[str, float] = Field(
        description="Per task: final evaluation loss (training loss without eval)"
    )
    train_tokens: int
    train_seconds: float
    tokens_per_second: float
    data_hash: str
    loss_plot: Path | None = None
