"""`culturesim train`: a multi-task LoRA adapter from a run's selected (or kept) episodes."""

from __future__ import annotations

import argparse

from simulator.cli import UsageError, add_command

EXAMPLE = "culturesim train runs/demo --tasks imitation,intent --epochs 1 --out adapters/japanese"


def register_train(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "train",
        "Fine-tune a LoRA adapter on judged role-play: imitation of each participant, intent "
        "prediction and (optionally) cultural reasoning, loss on the answers only.",
        EXAMPLE,
        _run_train,
    )
    parser.add_argument("run_dir", metavar="RUN", help="run directory (simulated, judged and selected)")
    parser.add_argument("--out", required=True, metavar="DIR", help="adapter directory to write")
    data = parser.add_argument_group("data")
    data.add_argument(
        "--tasks",
        default="imitation,intent",
        help="comma-separated tasks from imitation, intent, reasoning (default imitation,intent; "
        "CLCA's ablation: --tasks imitation)",
    )
    data.add_argument(
        "--task-weights",
        metavar="T=W,...",
        help="share of each task in the mix, e.g. imitation=2,intent=1 (default: every example once)",
    )
    data.add_argument(
        "--source", choices=("selected", "kept"), default="selected", help="episodes to train on"
    )
    data.add_argument("--culture", help="culture whose episodes to use (needed when the run has several)")
    data.add_argument("--max-examples", type=int, metavar="N", help="cap on training examples after mixing")
    data.add_argument(
        "--eval-fraction", type=float, default=0.1, help="share of episodes held out (default 0.1)"
    )
    data.add_argument("--max-seq-len", type=int, default=512, help="tokens per example (default 512)")
    data.add_argument("--seed", type=int, default=0, help="mixing, split and training seed")
    lora = parser.add_argument_group("model and LoRA")
    lora.add_argument("--model", help="base model: HF id or directory (default: the embedded SmolLM2-135M)")
    lora.add_argument("--rank", type=int, default=8, help="LoRA rank (default 8)")
    lora.add_argument("--alpha", type=float, default=16, help="LoRA alpha (default 16)")
    lora.add_argument("--dropout", type=float, default=0.05, help="LoRA dropout (default 0.05)")
    lora.add_argument(
        "--target-modules",
        help="comma-separated module names (default: every attention and MLP projection of a Llama block)",
    )
    lora.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        default="auto",
        help="auto: bf16 where the CPU/GPU has it, else fp32",
    )
    lora.add_argument(
        "--threads",
        type=int,
        help="CPU threads for torch (default: the cores that other jobs leave idle, at least 1)",
    )
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--epochs", type=float, default=1, help="passes over the data (default 1)")
    optim.add_argument("--lr", type=float, default=2e-4, help="learning rate (default 2e-4)")
    optim.add_argument("--batch-size", type=int, default=4, help="examples per device and step (default 4)")
    optim.add_argument("--grad-accum", type=int, default=2, help="gradient accumulation steps (default 2)")
    optim.add_argument("--gradient-checkpointing", action="store_true", help="less memory, more compute")
    optim.add_argument("--save-steps", type=int, help="checkpoint interval in steps (default: ~5 per run)")
    optim.add_argument("--eval-steps", type=int, help="evaluation interval in steps (default: 2 per run)")
    restart = parser.add_mutually_exclusive_group()
    restart.add_argument(
        "--resume",
        action="store_true",
        help="continue from the last checkpoint in --out (same data); nothing to do if it finished",
    )
    restart.add_argument(
        "--overwrite", action="store_true", help="discard the checkpoints and adapter in --out, start again"
    )


def _config(args: argparse.Namespace):  # -> TrainConfig
    from pydantic import ValidationError

    from personas.files import describe_validation_error
    from trainer.config import TrainConfig
    from trainer.examples import parse_task_weights, parse_tasks

    options = {
        "tasks": parse_tasks(args.tasks),
        "task_weights": parse_task_weights(args.task_weights) if args.task_weights else None,
        "source": args.source,
        "culture": args.culture,
        "max_examples": args.max_examples,
        "eval_fraction": args.eval_fraction,
        "max_seq_len": args.max_seq_len,
        "seed": args.seed,
        "model": args.model,
        "rank": args.rank,
        "alpha": args.alpha,
        "dropout": args.dropout,
        "precision": args.precision,
        "threads": args.threads,
        "epochs": args.epochs,
        "learning_rate": args.lr,
        "batch_size": args.batch_size,
        "grad_accum": args.grad_accum,
        "gradient_checkpointing": args.gradient_checkpointing,
        "save_steps": args.save_steps,
        "eval_steps": args.eval_steps,
        "resume": args.resume,
        "overwrite": args.overwrite,
    }
    if args.target_modules:
        options["target_modules"] = [m.strip() for m in args.target_modules.split(",") if m.strip()]
    try:
        return TrainConfig(**options)
    except ValidationError as exc:
        field, reason = describe_validation_error(exc)
        raise UsageError(f"--{field.split('.')[0].replace('_', '-')}: {reason}") from None


def _run_train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from trainer.training import train_adapter

    config = _config(args)
    console = Console()
    result = train_adapter(args.run_dir, args.out, config, show_progress=True, console=console)
    console.print(summary_table(result))
    console.print(f"loss curves: {result.loss_plot}", soft_wrap=True)
    console.print(
        f"adapter: {result.adapter_dir}  (use it: create_backend('transformers', adapter='{result.adapter_dir}'))",
        soft_wrap=True,
    )
    return 0


def summary_table(result):  # -> rich.table.Table
    from rich.table import Table

    table = Table(title=f"LoRA adapter: {result.adapter_dir}")
    table.add_column("task")
    table.add_column("train examples", justify="right")
    table.add_column("final loss", justify="right")
    for task, count in sorted(result.examples_per_task.items()):
        loss = result.task_losses.get(task)
        table.add_row(task, str(count), f"{loss:.3f}" if loss is not None else "-")
    overall = result.eval_loss if result.eval_loss is not None else result.train_loss
    table.add_row(
        "all", str(result.n_train_examples), f"{overall:.3f}" if overall is not None else "-", style="bold"
    )
    table.caption = (
        f"{result.steps} steps, {result.train_tokens} tokens in {result.train_seconds:.0f} s "
        f"({result.tokens_per_second:.0f} tokens/s); {result.n_eval_examples} eval examples; "
        f"{result.dropped_examples} dropped as too long; losses are "
        + ("evaluation" if result.eval_loss is not None else "training")
        + " losses"
    )
    return table
