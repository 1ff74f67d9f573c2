"""Simulation throughput: the CLCA-style sequential loop against the engine at several concurrencies.

(a) reference: one episode at a time, one batch-1 `model.generate` per turn on the whole prompt
    (plain transformers, as CLCA's code does: no batching, no cache between turns);
(b) the engine (autogen agents, cross-conversation batcher, per-conversation KV caches) at
    concurrency 1, 8 and 32.

Same model, dtype, prompts, reply parsing, scenarios, seeds, greedy decoding and token limits.
Every configuration plays the same episodes (the reference's and the engine's replies can differ
in the last bits of bf16 arithmetic, so turn and token counts may differ slightly; rates are per
turn and per generated token).
Wall-clock rates are reported next to rates per CPU-second of this process, which stay meaningful
on a shared machine. Both run their model calls in one worker thread (the backend always does),
with as many torch threads as the backend picks (one per idle core; `--threads N` to fix it): on a
machine shared with other jobs, two OpenMP threads spin at their barriers and both sides get several
times slower and far noisier.
Both sides are warmed up first. Run: `python benchmarks/simulate_throughput.py [--episodes 32 --max-turns 6]` (about 10 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass

import torch
from common import record_results
from rich.console import Console

from personas.cultures import load_culture
from simulator import prompts
from simulator.backends.registry import create_backend
from simulator.engine import Engine
from simulator.manifest import SimulationConfig
from simulator.planning import PlannedEpisode, plan_run
from simulator.protocol import parse_reply, speaker_order
from simulator.store import RunStore


@dataclass
class Measured:
    name: str
    episodes: int
    turns: int
    tokens: int
    wall_s: float
    cpu_s: float
    framework_ms: float | None = None
    mean_batch: float | None = None

    def row(self, reference: Measured | None) -> dict[str, object]:
        row: dict[str, object] = {
            "configuration": self.name,
            "episodes": self.episodes,
            "turns": self.turns,
            "gen tokens": self.tokens,
            "wall s": self.wall_s,
            "turns/s": self.turns / self.wall_s,
            "tokens/s": self.tokens / self.wall_s,
            "turns per CPU s": self.turns / self.cpu_s,
        }
        if reference is not None:
            row["speed-up (turns/s)"] = (self.turns / self.wall_s) / (reference.turns / reference.wall_s)
            row["speed-up (per CPU s)"] = (self.turns / self.cpu_s) / (reference.turns / reference.cpu_s)
        row["mean batch"] = "" if self.mean_batch is None else round(self.mean_batch, 1)
        row["autogen ms/turn"] = "" if self.framework_ms is None else round(self.framework_ms, 3)
        return row


def reference_loop(model, tokenizer, planned: list[PlannedEpisode], config: SimulationConfig) -> Measured:
    """CLCA-style: every turn re-encodes the whole conversation and calls generate on it alone."""
    turns = tokens = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for item in planned:
        participants = [prompts.Participant(p, r) for p, r in zip(item.personas, item.scenario.roles)]
        culture = load_culture(item.scenario.culture) if item.scenario.culture else None
        names = [p.persona.name for p in participants]
        histories = [
            [
                {
                    "role": "system",
                    "content": prompts.persona_system_prompt(item.scenario, participants, i, culture),
                }
            ]
            for i in range(len(participants))
        ]
        histories[0].append({"role": "user", "content": prompts.scene_opening(names[1:])})
        for index, speaker in enumerate(speaker_order(len(participants), config.max_turns)):
            ids = tokenizer.apply_chat_template(
                histories[speaker], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            with torch.inference_mode():
                out = model.generate(**ids, max_new_tokens=config.max_new_tokens, do_sample=False)
            new = out[0, ids["input_ids"].shape[1] :]
            new = new[new != tokenizer.eos_token_id]
            tokens += len(new)
            turns += 1
            others = [n for i, n in enumerate(names) if i != speaker]
            reply = parse_reply(tokenizer.decode(new, skip_special_tokens=True), names[speaker], others)
            if reply.action == "leave" and index < len(participants):
                reply = type(reply)("speak", reply.text) if reply.text else type(reply)("none", "")
            histories[speaker].append({"role": "assistant", "content": reply.canonical()})
            heard = prompts.render_turn(names[speaker], reply.action, reply.text)
            for other, history in enumerate(histories):
                if other != speaker:
                    if history[-1]["role"] == "user":
                        history[-1] = {"role": "user", "content": history[-1]["content"] + "\n" + heard}
                    else:
                        history.append({"role": "user", "content": heard})
            if reply.action == "leave":
                break
    return Measured(
        "reference: sequential, batch-1 generate",
        len(planned),
        turns,
        tokens,
        time.perf_counter() - wall,
        time.process_time() - cpu,
    )


def engine_run(backend, planned: list[PlannedEpisode], config: SimulationConfig) -> Measured:
    with tempfile.TemporaryDirectory() as run_dir, RunStore(run_dir) as store:
        engine = Engine(config, backend, store)
        wall, cpu = time.perf_counter(), time.process_time()
        summary = asyncio.run(engine.run(planned))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    generate = summary.batches["generate"]
    return Measured(
        f"engine, concurrency {config.concurrency}, {config.action_choice}",
        len(planned),
        summary.turns,
        summary.completion_tokens,
        wall,
        cpu,
        summary.framework_ms_per_turn,
        generate.mean_batch_size,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--episodes", type=int, default=32, help="episodes every configuration plays (default 32)"
    )
    parser.add_argument("--max-turns", type=int, default=6)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--concurrency", default="1,8,32", help="engine concurrencies, comma-separated")
    parser.add_argument(
        "--scored", action="store_true", help="also run the largest concurrency with scored actions"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads for both sides (default: the idle cores, as the backend picks)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()

    base = SimulationConfig(
        cultures=["japanese", "british", "german", "mexican"],
        samples=2,
        limit=args.episodes,
        max_turns=args.max_turns,
        max_new_tokens=args.max_new_tokens,
        temperature=0,
        action_choice="parsed",
    )
    planned = plan_run(base)
    backend = create_backend("transformers", threads=args.threads)  # sets torch's threads for both sides
    threads = torch.get_num_threads()
    model, tokenizer = backend.model, backend.tokenizer  # the same weights and dtype, used plainly
    warm_up(backend, planned[0])
    # On the backend's model thread: OpenMP keeps a team of threads per calling thread, and a second
    # team spinning on the same cores slows both.
    results = [backend.run_on_model_thread(reference_loop, model, tokenizer, planned, base)]
    console = Console(stderr=True)
    console.print(results[0].row(None))
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    for concurrency in concurrencies:
        config = base.model_copy(update={"concurrency": concurrency})
        results.append(engine_run(backend, planned, config))
        console.print(results[-1].row(results[0]))
    if args.scored:
        config = base.model_copy(update={"concurrency": concurrencies[-1], "action_choice": "scored"})
        results.append(engine_run(backend, planned, config))
        console.print(results[-1].row(results[0]))
    reference = results[0]
    rows = [results[0].row(None), *(r.row(reference) for r in results[1:])]
    best = results[len(concurrencies)]
    notes = (
        f"SmolLM2-135M-Instruct ({backend.describe()['dtype']}), greedy, max {args.max_turns} turns, "
        f"{args.max_new_tokens} new tokens per turn, prompts of about "
        f"{reference_prompt_tokens(backend, planned[0])} tokens, {threads} torch thread(s). "
        f"Engine at concurrency {concurrencies[-1]} vs "
        f"reference: {rows[len(concurrencies)]['speed-up (turns/s)']:.2f}x turns/s "
        f"({rows[len(concurrencies)]['speed-up (per CPU s)']:.2f}x per CPU second). "
        f"autogen overhead: {best.framework_ms:.3f} ms per turn. "
        f"Command: `python benchmarks/simulate_throughput.py --episodes {args.episodes} "
        f"--max-turns {args.max_turns} --max-new-tokens {args.max_new_tokens} "
        f"--threads {threads}`."
    )
    if args.no_record:
        console.print(rows, notes)
    else:
        record_results("Simulation throughput: sequential reference vs engine", rows, notes)


def warm_up(backend, item: PlannedEpisode) -> None:
    """One short call through each path, so neither side pays first-call costs in its timing."""
    one = SimulationConfig(
        cultures=[item.scenario.culture or "british"], max_turns=1, max_new_tokens=4, temperature=0
    )
    backend.run_on_model_thread(reference_loop, backend.model, backend.tokenizer, [item], one)
    engine_run(backend, [item], one.model_copy(update={"concurrency": 1, "action_choice": "parsed"}))


def reference_prompt_tokens(backend, item: PlannedEpisode) -> int:
    participants = [prompts.Participant(p, r) for p, r in zip(item.personas, item.scenario.roles)]
    culture = load_culture(item.scenario.culture) if item.scenario.culture else None
    system = prompts.persona_system_prompt(item.scenario, participants, 0, culture)
    return len(backend.render([{"role": "system", "content": system}]))


if __name__ == "__main__":
    main()
