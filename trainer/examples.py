"""The multi-task dataset: chat examples built from judged episodes, mixed per task with a seed.

An example is a list of chat messages whose assistant messages are the training targets (the loss
is on those tokens only, see tokenization.py). Tasks:
- imitation: one example per participant of each episode, playing that participant;
- intent: one example per turn that the judge labelled with an intent;
- reasoning: one example per episode whose judgement has a critique.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from personas.cultures import load_culture
from personas.files import BadInputError, validate_record
from personas.schema import CultureProfile, Persona
from scenarios.schema import Scenario
from simulator.records import Episode, Judgement
from trainer import prompts

TASKS = ("imitation", "intent", "reasoning")
DEFAULT_TASKS = ("imitation", "intent")

Message = dict[str, str]


@dataclass(frozen=True)
class Example:
    task: str
    episode_id: str
    messages: list[Message]
    subject: str = ""  # the played persona (imitation) or the labelled turn (intent)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the three tasks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeContext:
    """An episode's scenario, cast and culture, validated back into the schemas it was simulated from."""

    scenario: Scenario
    personas: list[Persona]
    culture: CultureProfile | None

    @property
    def culture_name(self) -> str:
        return self.culture.name if self.culture else "the participants'"


def episode_context(episode: Episode, source: str = "run store") -> EpisodeContext:
    scenario = validate_record(Scenario, episode.scenario, source, f"episode {episode.id} scenario")
    personas = [
        validate_record(Persona, data, source, f"episode {episode.id} persona") for data in episode.personas
    ]
    # The engine loads the scenario's culture the same way, so the prompt is the one it used.
    culture = load_culture(scenario.culture, source) if scenario.culture else None
    return EpisodeContext(scenario, personas, culture)


def imitation_examples(episode: Episode, context: EpisodeContext) -> list[Example]:
    """Play each participant in turn, seeing what its agent saw in the simulation: the others'
    turns as user messages, its own turns as the assistant's replies."""
    examples = []
    opener = episode.turns[0].speaker if episode.turns else None
    for me, persona in enumerate(context.personas[: len(context.scenario.roles)]):
        system = prompts.imitation_system_prompt(context.scenario, context.personas, me, context.culture)
        messages: list[Message] = [{"role": "system", "content": system}]
        if persona.id == opener:
            others = [p.name for p in context.personas if p.id != persona.id]
            messages.append({"role": "user", "content": prompts.scene_opening(others)})
        for turn in episode.turns:
            own = turn.speaker == persona.id
            text = prompts.own_turn(turn) if own else prompts.heard_turn(turn)
            if not text:
                continue
            role = "assistant" if own else "user"
            if messages[-1]["role"] == role:  # merged as the engine merges them (alternating roles)
                messages[-1] = {"role": role, "content": messages[-1]["content"] + "\n" + text}
            else:
                messages.append({"role": role, "content": text})
        while messages[-1]["role"] != "assistant" and len(messages) > 1:
            messages.pop()  # nothing to learn after the persona's last turn
        if len(messages) > 1 and messages[1]["role"] == "user":
            examples.append(Example("imitation", episode.id, messages, subject=persona.id))
    return examples


def intent_examples(episode: Episode, context: EpisodeContext, max_context_turns: int = 8) -> list[Example]:
    """For each labelled turn: the conversation up to and including it -> its intent and reason."""
    examples = []
    for position, turn in enumerate(episode.turns):
        if not (turn.intent and turn.intent.strip()):
            continue
        start = max(0, position + 1 - max_context_turns)
        question = prompts.intent_question(
            episode, episode.turns[start : position + 1], context.culture_name, earlier_omitted=start > 0
        )
        messages = [
            {"role": "system", "content": prompts.ANALYST_SYSTEM},
            {"role": "user", "content": question},
            {"role": "assistant", "content": prompts.intent_answer(turn.intent, turn.intent_reason)},
        ]
        examples.append(Example("intent", episode.id, messages, subject=f"turn {turn.index}"))
    return examples


def reasoning_examples(
    episode: Episode, context: EpisodeContext, judgement: Judgement | None
) -> list[Example]:
    if judgement is None or not judgement.critique.strip():
        return []
    messages = [
        {"role": "system", "content": prompts.ANALYST_SYSTEM},
        {"role": "user", "content": prompts.reasoning_question(episode, context.culture_name)},
        {"role": "assistant", "content": prompts.reasoning_answer(judgement)},
    ]
    return [Example("reasoning", episode.id, messages)]


def build_pools(
    episodes: Iterable[tuple[Episode, Judgement | None]], tasks: Iterable[str], max_context_turns: int = 8
) -> dict[str, list[Example]]:
    """All examples of each requested task, in episode order."""
    pools: dict[str, list[Example]] = {task: [] for task in tasks}
    for episode, judgement in episodes:
        context = episode_context(episode)
        if "imitation" in pools:
            pools["imitation"].extend(imitation_examples(episode, context))
        if "intent" in pools:
            pools["intent"].extend(intent_examples(episode, context, max_context_turns))
        if "reasoning" in pools:
            pools["reasoning"].extend(reasoning_examples(episode, context, judgement))
    return pools


# -- choosing and mixing ----------------------------------------------------------------------------


def parse_tasks(text: str | Iterable[str]) -> list[str]:
    names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if not names:
        raise BadInputError("--tasks", f"no task given (choose from {', '.join(TASKS)})")
    for name in names:
        if name not in TASKS:
            raise BadInputError("--tasks", f"unknown task '{name}' (choose from {', '.join(TASKS)})")
    return list(dict.fromkeys(names))


def parse_task_weights(text: str) -> dict[str, float]:
    """'imitation=2,intent=1' -> {'imitation': 2.0, 'intent': 1.0}."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or weight < 0:
            raise BadInputError("--task-weights", f"'{part}' is not TASK=WEIGHT with a weight >= 0")
        weights[parse_tasks(name.strip())[0]] = weight
    return weights


def allocate(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split `total` by shares with the largest-remainder rule (counts sum exactly to `total`)."""
    norm = sum(shares.values())
    if norm <= 0 or total <= 0:
        return dict.fromkeys(shares, 0)
    exact = {key: total * share / norm for key, share in shares.items()}
    counts = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: exact[key] - counts[key], reverse=True)
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def _draw(pool: list[Example], count: int, rng: random.Random) -> list[Example]:
    """`count` examples; beyond the pool's size the whole pool repeats (oversampling)."""
    repeats, rest = divmod(count, len(pool)) if pool else (0, 0)
    return pool * repeats + rng.sample(pool, rest)


def mix(
    pools: dict[str, list[Example]],
    weights: dict[str, float] | None,
    total: int | None,
    seed: int,
) -> list[Example]:
    """The training mixture, shuffled.

    Without weights every example is used once (natural proportions), and `total` caps the size
    proportionally. With weights, each task gets that share of `total` (default: all examples),
    drawn without replacement while the pool lasts and repeated beyond it.
    """
    rng = random.Random(seed)
    available = {task: pool for task, pool in pools.items() if pool}
    size = sum(len(pool) for pool in available.values())
    if weights is None:
        counts = {task: len(pool) for task, pool in available.items()}
        if total is not None and total < size:
            counts = allocate(total, {task: float(n) for task, n in counts.items()})
    else:
        counts = allocate(total or size, {task: weights.get(task, 0.0) for task in available})
    chosen = [example for task, pool in available.items() for example in _draw(pool, counts[task], rng)]
    rng.shuffle(chosen)
    return chosen


def split_episode_ids(episode_ids: list[str], eval_fraction: float, seed: int) -> tuple[set[str], set[str]]:
    """(train, eval) ids: whole episodes go to evaluation, so no conversation is seen in both."""
    ids = sorted(episode_ids)
    random.Random(seed).shuffle(ids)
    # At least one evaluation episode when asked for, and always at least one to train on.
    wanted = round(len(ids) * eval_fraction)
    n_eval = min(max(wanted, 1), len(ids) - 1) if eval_fraction > 0 and len(ids) >= 2 else 0
    return set(ids[n_eval:]), set(ids[:n_eval])


def data_hash(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.task, example.messages], sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()
