"""Judge verdicts: option scoring against generate-then-parse, on the same episodes and prompts.

Items are the quality (good/bad) and cultural-alignment (aligned/not aligned) verdicts of every
episode, asked with the judge's own prompts (simulator/judge/prompts.py), which end "Answer with
one word: yes or no."

(a) option scoring: one batched `score_options` call; the verdict is the most probable option
    (raw probabilities, no calibration, so every method sees exactly the same prompt);
(b) generate-then-parse, batched: one batched greedy `generate` of a few tokens, then parse;
(c) the same, one request at a time (the loop of a judge that asks and parses);
(d) CLCA-style: a one-sentence reason first, then the verdict word, one request at a time.

Parsing: strict takes the reply's first word (what "Answer with one word" asks for); lenient
takes the one allowed word occurring anywhere in the reply (none or several: failure). Agreement
with option scoring is counted on the lenient parses.

Episodes come from a small run simulated with the real engine (or from --run RUN). Rates are
per wall-clock second and per CPU second of this process (steadier on a shared machine).
Run: `python benchmarks/judge_throughput.py [--episodes 8 --answer-tokens 8 --reason-tokens 64]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from common import record_results

from simulator.backends.base import Backend, ChatMessage, GenerationRequest, SamplingParams
from simulator.backends.registry import create_backend
from simulator.cli import main as culturesim
from simulator.judge import prompts
from simulator.judge.runner import episode_culture
from simulator.judge.verdicts import score_verdicts
from simulator.records import Episode
from simulator.store import RunStore

Item = tuple[list[ChatMessage], list[str], list[str]]  # (messages, answer words, verdict labels)


@dataclass
class Measured:
    method: str
    replies: list[str]  # empty for option scoring
    labels: list[str | None]  # lenient parse (or the scored label); None: unparseable
    strict_failures: int
    wall_s: float
    cpu_s: float


def parse_answer(text: str, answers: list[str], labels: list[str]) -> str | None:
    """Lenient: the label of the one allowed answer word in the reply; None when none or several occur."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    found = [label for answer, label in zip(answers, labels) if answer in words]
    return found[0] if len(found) == 1 else None


def parse_strict(text: str, answers: list[str]) -> bool:
    """Strict: the reply's first word is an allowed answer."""
    words = re.findall(r"[a-z]+", text.lower())
    return bool(words) and words[0] in answers


def simulated_episodes(count: int) -> tuple[list[Episode], str]:
    run = Path(tempfile.mkdtemp(prefix="judge-bench-"))
    args = ["simulate", "--cultures", "japanese,british", "--limit", str(count), "--max-turns", "4"]
    args += ["--max-new-tokens", "24", "--temperature", "0", "--concurrency", str(count), "--out", str(run)]
    if culturesim(args) != 0:
        raise SystemExit("simulating the benchmark's episodes failed")
    return load_episodes(
        run, count
    ), f"{count} episodes simulated with the engine (japanese, british; 4 turns, greedy)"


def load_episodes(run: Path, count: int) -> list[Episode]:
    with RunStore(run, readonly=True) as store:
        return list(store.episodes(status="done"))[:count]


def items_of(episodes: list[Episode]) -> list[Item]:
    items: list[Item] = []
    for episode in episodes:
        items.append((prompts.quality_messages(episode), prompts.ANSWERS, prompts.QUALITY_OPTIONS))
        alignment = prompts.alignment_messages(episode, episode_culture(episode))
        items.append((alignment, prompts.ANSWERS, prompts.ALIGNMENT_OPTIONS))
    return items


def explained(messages: list[ChatMessage], answers: list[str]) -> list[ChatMessage]:
    question = messages[-1]["content"].rsplit("Answer with one word:", 1)[0]
    tail = f"First give a one-sentence reason, then answer with one word: {' or '.join(answers)}."
    return [*messages[:-1], {"role": "user", "content": question + tail}]


async def timed(method: str, items: list[Item], work: Callable[[], Awaitable[list[str]]]) -> Measured:
    wall, cpu = time.perf_counter(), time.process_time()
    replies = await work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    labels = [parse_answer(reply, answers, names) for reply, (_, answers, names) in zip(replies, items)]
    strict = sum(not parse_strict(reply, answers) for reply, (_, answers, _) in zip(replies, items))
    return Measured(method, replies, labels, strict, wall, cpu)


async def run_benchmark(
    backend: Backend, items: list[Item], answer_tokens: int, reason_tokens: int
) -> list[Measured]:
    def requests(tokens: int, reasoned: bool = False) -> list[GenerationRequest]:
        params = SamplingParams(max_new_tokens=tokens, temperature=0.0, seed=0)
        return [GenerationRequest(explained(m, a) if reasoned else m, params) for m, a, _ in items]

    async def batched(batch: list[GenerationRequest]) -> list[str]:
        return [reply.text for reply in await backend.generate(batch)]

    async def one_at_a_time(batch: list[GenerationRequest]) -> list[str]:
        return [(await backend.generate([request]))[0].text for request in batch]

    await score_verdicts(backend, items[:2])  # warm-up: first-call allocations are not the method's cost
    wall, cpu = time.perf_counter(), time.process_time()
    verdicts = await score_verdicts(backend, items)
    scored = Measured(
        "option scoring (batched)",
        [],
        [v.label for v in verdicts],
        0,
        time.perf_counter() - wall,
        time.process_time() - cpu,
    )
    return [
        scored,
        await timed(
            f"generate {answer_tokens} tok + parse (batched)", items, lambda: batched(requests(answer_tokens))
        ),
        await timed(
            f"generate {answer_tokens} tok + parse (one at a time)",
            items,
            lambda: one_at_a_time(requests(answer_tokens)),
        ),
        await timed(
            f"reason + answer, {reason_tokens} tok + parse (one at a time)",
            items,
            lambda: one_at_a_time(requests(reason_tokens, reasoned=True)),
        ),
    ]


def rows(results: list[Measured]) -> list[dict[str, object]]:
    scored = results[0]
    out = []
    for r in results:
        n = len(r.labels)
        parsed = [(a, b) for a, b in zip(r.labels, scored.labels) if a is not None]
        out.append(
            {
                "method": r.method,
                "items": n,
                "wall s": r.wall_s,
                "CPU s": r.cpu_s,
                "items/s": n / r.wall_s,
                "items per CPU s": n / r.cpu_s,
                "parse failures (strict)": f"{r.strict_failures / n:.0%}",
                "parse failures (lenient)": f"{sum(label is None for label in r.labels) / n:.0%}",
                "agrees with scoring": f"{sum(a == b for a, b in parsed) / max(len(parsed), 1):.0%}",
                "scoring speed-up (wall)": r.wall_s / scored.wall_s,
                "scoring speed-up (CPU)": r.cpu_s / scored.cpu_s,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--run", type=Path, help="judge the episodes of this run instead of simulating some")
    parser.add_argument("--answer-tokens", type=int, default=8, help="token budget of a generated answer")
    parser.add_argument(
        "--reason-tokens", type=int, default=64, help="token budget of a reason-then-answer reply"
    )
    args = parser.parse_args()

    if args.run:
        episodes = load_episodes(args.run, args.episodes)
        source = f"{len(episodes)} episodes of the run {args.run}"
    else:
        episodes, source = simulated_episodes(args.episodes)
    backend = create_backend("transformers")
    items = items_of(episodes)
    results = asyncio.run(run_benchmark(backend, items, args.answer_tokens, args.reason_tokens))
    table = rows(results)
    speedups = "; ".join(
        f"{row['method']}: {row['scoring speed-up (wall)']:.1f}x wall, {row['scoring speed-up (CPU)']:.1f}x CPU"
        for row in table[1:]
    )
    examples = "; ".join(f"{r.method}: {r.replies[0][:90]!r}" for r in results[1:])
    notes = (
        f"Option scoring against each generate-then-parse method: {speedups}. Option scoring never fails to "
        f"parse and gives every option's probability (the confidence). Items: quality and alignment verdicts "
        f"of {source}; embedded {backend.model_id} ({backend.describe().get('dtype')}). First replies: "
        f"{examples}. Load average after the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (shared "
        f"machine: CPU seconds are steadier than wall clock). Command: `python benchmarks/judge_throughput.py "
        f"--episodes {args.episodes} --answer-tokens {args.answer_tokens} --reason-tokens {args.reason_tokens}"
        f"{f' --run {args.run}' if args.run else ''}`."
    )
    record_results("Judge: option-scored verdicts vs generate-then-parse", table, notes)


if __name__ == "__main__":
    main()
