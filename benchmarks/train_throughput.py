"""LoRA training throughput on this machine: tokens per second, bf16 autocast against fp32.

Each configuration trains a fresh adapter with the real product path (`train_adapter`: dataset
builder, completion-only masking, peft LoRA on all attention and MLP projections, the Trainer)
on the same examples, without evaluation, and reports training tokens (prompt and targets, no
padding) per wall-clock second and per CPU second of this process (steadier on a shared machine).
A second table times one forward and backward pass with the vocabulary projection computed for
every position against target positions only (what the trainer does).

Episodes: a small hand-written Japanese gift-visit conversation repeated with variations, written
to a temporary run store (or --run RUN: the kept episodes of a real run).
Setups are precision:threads pairs: bf16 autocast or fp32, with one thread, one per core, or
"auto" (what the trainer picks: one per core that other work leaves idle).
Run: `python benchmarks/train_throughput.py [--examples 8 --batch-size 4 --setups bf16:1,fp32:2]`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch
from common import record_results

from personas.schema import Persona
from scenarios.schema import Role, Scenario
from simulator.backends.transformers_backend import cpu_supports_bf16
from simulator.records import Episode, Judgement, Turn, Verdict
from simulator.store import RunStore
from trainer.config import TrainConfig
from trainer.training import train_adapter

LINES = [
    ("host", "Welcome! Please come in, you must be tired after the trip."),
    ("guest", "Thank you for having me. I am sorry to intrude on your weekend."),
    ("host", "Not at all, we were looking forward to it. Please, have a seat."),
    ("guest", "This is just a small thing from my hometown, please accept it."),
    ("host", "Oh, you really shouldn't have. Thank you, I will open it later."),
    ("guest", "It is nothing special. How is your new job going?"),
    ("host", "Busy, but my colleagues are kind. Would you like some tea?"),
    ("guest", "Yes, thank you. The garden outside looks beautiful."),
]


def write_run(run_dir: Path, n_episodes: int) -> Path:
    people = [
        Persona(
            id="hana-sato", name="Hana Sato", age=34, gender="female", culture="japanese", occupation="nurse"
        ),
        Persona(
            id="kenji-ito", name="Kenji Ito", age=41, gender="male", culture="japanese", occupation="engineer"
        ),
    ]
    scenario = Scenario(
        id="gift-visit",
        title="A gift at the door",
        category="gift giving",
        setting="Kenji visits Hana's new flat for the first time and brings a gift.",
        relationship="colleague",
        roles=[
            Role(name="host", goal="Welcome the guest."),
            Role(name="guest", goal="Give the gift politely."),
        ],
        culture="japanese",
    )
    verdict = Verdict(label="good", confidence=0.9, probabilities={"good": 0.9, "bad": 0.1})
    with RunStore(run_dir) as store:
        for number in range(n_episodes):
            turns = [
                Turn(
                    index=i,
                    speaker=people[role == "guest"].id,
                    speaker_name=people[role == "guest"].name,
                    role=role,
                    action="speak",
                    text=f"{text} ({number})",
                )
                for i, (role, text) in enumerate(LINES[: 4 + number % 5])
            ]
            episode = Episode(
                id=f"ep-{number:04d}",
                scenario_id=scenario.id,
                culture="japanese",
                persona_ids=[p.id for p in people],
                sample_index=number,
                seed=number,
                status="done",
                end_reason="max_turns",
                turns=turns,
                scenario=scenario.model_dump(mode="json"),
                personas=[p.model_dump(mode="json") for p in people],
            )
            store.save_episode(episode)
            judgement = Judgement(
                episode_id=episode.id,
                quality=verdict,
                alignment=verdict.model_copy(update={"label": "aligned"}),
                meta_review=verdict,
                critique="Polite and modest, as expected.",
                kept=True,
                judge_model="benchmark",
            )
            intents = {t.index: ("be polite", "modesty is valued") for t in turns}
            store.save_judgement(judgement, intents)
    return run_dir


def train_rows(run: Path, args: argparse.Namespace, setups: list[str], root: Path) -> list[dict]:
    rows = []
    for setup in setups:
        precision, _, threads = setup.partition(":")
        config = TrainConfig(
            tasks=["imitation", "intent"],
            source="kept",
            max_examples=args.examples,
            eval_fraction=0,
            batch_size=args.batch_size,
            grad_accum=1,
            max_seq_len=512,
            precision=precision,
            threads=None if threads == "auto" else int(threads or os.cpu_count() or 1),
            save_steps=10_000,
        )
        cpu_started = time.process_time()
        result = train_adapter(run, root / f"adapter-{precision}-{threads}", config)
        cpu_seconds = time.process_time() - cpu_started
        rows.append(
            {
                "precision": precision,
                "threads": threads,
                "examples": result.n_train_examples,
                "steps": result.steps,
                "tokens": result.train_tokens,
                "train s": result.train_seconds,
                "s/step": result.train_seconds / result.steps,
                "tokens/s (wall)": result.tokens_per_second,
                "tokens/CPU-s": result.train_tokens / cpu_seconds,
                "100 examples (min, est.)": 100
                * result.train_tokens
                / result.n_train_examples
                / result.tokens_per_second
                / 60,
            }
        )
    return rows


def logit_rows(precision: str) -> list[dict]:
    """One forward+backward over 4 x 384 tokens, 25% of them targets: all logits vs targets only
    (wall and CPU seconds, best of two, one thread)."""
    from simulator.backends.embedded import embedded_model_dir
    from trainer.lora import load_lora_model
    from trainer.multitask_trainer import completion_loss, target_mask

    model = load_lora_model(str(embedded_model_dir()), TrainConfig(), precision, "cpu")
    torch.manual_seed(0)
    input_ids = torch.randint(0, 49152, (4, 384))
    labels = torch.full_like(input_ids, -100)
    labels[:, -96:] = input_ids[:, -96:]
    rows = []
    for masked in (False, True):
        timings, cpu = [], []
        for _ in range(2):
            started, cpu_started = time.perf_counter(), time.process_time()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                if masked:
                    mask = target_mask(labels)
                    sums, counts = completion_loss(
                        model(input_ids=input_ids, logits_to_keep=mask).logits, labels, mask
                    )
                else:
                    sums, counts = completion_loss(model(input_ids=input_ids).logits, labels)
            (sums.sum() / counts.sum()).backward()
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        where = "target positions" if masked else "all positions"
        rows.append({"logits computed": where, "s/step": min(timings), "CPU s/step": min(cpu)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, help="train on the kept episodes of this run instead")
    parser.add_argument("--examples", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument(
        "--setups",
        default="bf16:auto,bf16:1,fp32:1,bf16:2,fp32:2" if cpu_supports_bf16() else "fp32:auto,fp32:1,fp32:2",
        help="precision:threads pairs to compare (auto: the trainer's choice, the cores left idle)",
    )
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run = args.run or write_run(root / "run", n_episodes=max(4, args.examples // 2))
        rows = train_rows(run, args, args.setups.split(","), root)
    torch.set_num_threads(1)
    logit = logit_rows("bf16" if cpu_supports_bf16() else "fp32")
    notes = (
        f"SmolLM2-135M-Instruct, LoRA r=8 on q,k,v,o,gate,up,down, batch {args.batch_size}, max_seq_len 512, "
        f"tasks imitation+intent, no evaluation; torch {torch.__version__}. "
        f"Load average before/after: {load_before:.1f}/{os.getloadavg()[0]:.1f} (other jobs share the cores, "
        "so tokens per CPU second is the steadier figure). Last column: 100 examples of this mean length."
    )
    report = show if args.no_record else record_results
    report("LoRA training throughput (culturesim train)", rows, notes)
    report(
        "LoRA training: vocabulary projection at all positions vs target positions only",
        logit,
        "One forward+backward of 4 x 384 tokens with the last 96 of each as targets.",
    )


def show(title: str, rows: list[dict], notes: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=notes)
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    Console().print(table)


if __name__ == "__main__":
    main()
