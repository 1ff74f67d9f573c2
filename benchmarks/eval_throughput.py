"""Survey answers by option scoring vs generate-then-parse (CLCA's approach), on the same items.

Items are (respondent, value question) pairs of the generated survey set, prompted exactly as the WVS
suite prompts them. Option scoring reads the probability of every scale code in one batched forward
pass. Generate-then-parse lets the model write a greedy reply and parses a scale number (or label) out
of it, in two prompt styles: the suite's "reply with a single number" and a WorldValuesBench-style
reply with a short explanation before the score. Reported: items/s, share of unparseable replies,
agreement with option scoring, and how often each matches the respondent's own answer.

    python benchmarks/eval_throughput.py                 # ~2-3 minutes on a 2-core CPU
    python benchmarks/eval_throughput.py --respondents 16 --max-new-tokens 16 --no-record
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from common import record_results

from evaluation import metrics, prompts
from evaluation.parsing import parse_scale_reply
from evaluation.scoring import score_in_batches
from evaluation.survey_data import write_survey
from evaluation.wvs import question_requests
from evaluation.wvs_data import sample_survey
from personas.cultures import load_culture
from simulator.backends.base import GenerationRequest, SamplingParams
from simulator.backends.registry import create_backend


def build_items(culture_id: str, respondents: int, question_ids: list[str]):
    """(question, respondent's answer, scoring request, explained-reply messages) per item."""
    culture = load_culture(culture_id)
    with tempfile.TemporaryDirectory() as tmp:
        survey = write_survey(culture, respondents, Path(tmp) / "survey", seed=0)
        sample = sample_survey(survey, culture.country, respondents, question_ids)
    system = prompts.system_prompt(prompts.SURVEY_SYSTEM, False, culture.country, culture)
    items = []
    for question in sample.questions:
        group = [r for r in sample.respondents if question.id in r.answers]
        explained = prompts.scale_question(
            question.text, question.low, question.high, question.labels, explained=True
        )
        for respondent, request in zip(group, question_requests(question, group, system)):
            explained_messages = prompts.wvs_messages(system, respondent.demographics, explained)
            items.append((question, respondent.answers[question.id], request, explained_messages))
    return items


class Timer:
    """Wall-clock and CPU seconds of this process (all threads). On a shared machine the CPU time is
    the steadier measure: waiting for a core counts in wall time only."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


async def option_scoring(backend, items, batch_size: int) -> tuple[Timer, list[int | None]]:
    with Timer() as timer:
        probabilities = await score_in_batches(
            backend, [item[2] for item in items], batch_size, lambda _n: None
        )
    return timer, [item[0].codes[metrics.argmax(p)] for item, p in zip(items, probabilities)]


async def generate_then_parse(
    backend, items, batch_size: int, max_new_tokens: int, explained: bool
) -> tuple[Timer, list[int | None], list[str]]:
    params = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0, seed=0)
    requests = [
        GenerationRequest(messages=item[3] if explained else item[2].messages, params=params)
        for item in items
    ]
    replies = []
    with Timer() as timer:
        for start in range(0, len(requests), batch_size):
            replies += await backend.generate(requests[start : start + batch_size])
    answers = [
        parse_scale_reply(reply.text, item[0].low, item[0].high, item[0].labels)
        for item, reply in zip(items, replies)
    ]
    return timer, answers, [reply.text for reply in replies]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--culture", default="japanese")
    parser.add_argument("--respondents", type=int, default=8)
    parser.add_argument("--questions", default="CS01,CS03,CS05,CS10", help="generated survey question ids")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=8, help="reply length, bare-number prompt")
    parser.add_argument("--explained-tokens", type=int, default=40, help="reply length, explanation prompt")
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args()

    items = build_items(args.culture, args.respondents, args.questions.split(","))
    backend = create_backend("transformers")
    # Warm-up outside the timings (first-call allocations, lazy initialisation).
    await backend.score_options([items[0][2]])
    await backend.generate([GenerationRequest(messages=items[0][3], params=SamplingParams(max_new_tokens=2))])
    scoring, scored = await option_scoring(backend, items, args.batch_size)
    bare_timer, bare, _ = await generate_then_parse(
        backend, items, args.batch_size, args.max_new_tokens, explained=False
    )
    explained_timer, explained, explained_replies = await generate_then_parse(
        backend, items, args.batch_size, args.explained_tokens, explained=True
    )

    answers = [item[1] for item in items]
    rows = []
    for method, timer, predicted in (
        ("option scoring", scoring, scored),
        (f"generate bare number ({args.max_new_tokens} tok) + parse", bare_timer, bare),
        (f"generate explanation + score ({args.explained_tokens} tok) + parse", explained_timer, explained),
    ):
        usable = [(p, a, s) for p, a, s in zip(predicted, answers, scored) if p is not None]
        rows.append(
            {
                "method": method,
                "items": len(items),
                "wall s": timer.wall,
                "CPU s": timer.cpu,
                "items/s (wall)": len(items) / timer.wall,
                "items per CPU s": len(items) / timer.cpu,
                "unparseable": f"{1 - len(usable) / len(items):.0%}",
                "agrees with scoring": f"{sum(p == s for p, _, s in usable) / max(len(usable), 1):.0%}",
                "matches respondent": f"{sum(p == a for p, a, _ in usable) / len(items):.0%}",
            }
        )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    notes = (
        f"Per CPU second, option scoring handles {bare_timer.cpu / scoring.cpu:.1f}x the items of a bare-number "
        f"reply and {explained_timer.cpu / scoring.cpu:.1f}x those of an explained reply (wall clock: "
        f"{bare_timer.wall / scoring.wall:.1f}x and {explained_timer.wall / scoring.wall:.1f}x); it is never "
        "unparseable and gives the full answer distribution the KL/JSD metrics need, where one greedy reply "
        "gives a single answer. "
        f"Example explained reply: {explained_replies[0][:70]!r}. "
        f"{len(items)} items = {args.respondents} generated {args.culture} respondents x {args.questions}; "
        f"embedded SmolLM2-135M-Instruct ({backend.describe().get('dtype')}), batch {args.batch_size}; "
        f"load average after the run: {load} (a shared machine: wall-clock rates are noisy, CPU seconds less so). "
        f"Command: `python benchmarks/eval_throughput.py"
        f"{'' if args.respondents == 8 else f' --respondents {args.respondents}'}`."
    )
    if args.no_record:
        from rich.console import Console
        from rich.table import Table

        table = Table(*rows[0])
        for row in rows:
            table.add_row(*(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()))
        Console().print(table, notes)
        return
    record_results("Evaluation: option scoring vs generate-then-parse (WVS-style items)", rows, notes)


if __name__ == "__main__":
    asyncio.run(main())
