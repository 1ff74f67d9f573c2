"""The multi-task dataset: what each task shows the model, mixing, splitting and the run store."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from trainer_runs import CONVERSATIONS, GUEST, HOST, SCENARIO, build_run, judgement, make_episode

from personas.cultures import load_culture
from personas.files import BadInputError
from simulator import prompts as simulation_prompts
from trainer.config import TrainConfig
from trainer.dataset import build_training_data
from trainer.examples import (
    Example,
    allocate,
    episode_context,
    imitation_examples,
    intent_examples,
    mix,
    parse_task_weights,
    parse_tasks,
    reasoning_examples,
    split_episode_ids,
)

EPISODE = make_episode(
    0, CONVERSATIONS[0]
)  # host opens; guest bows, gives the gift, host thanks, guest leaves


def test_imitation_plays_each_participant_with_the_simulation_prompt():
    context = episode_context(EPISODE)
    examples = {example.subject: example.messages for example in imitation_examples(EPISODE, context)}
    assert set(examples) == {HOST.id, GUEST.id}

    participants = [simulation_prompts.Participant(p, r) for p, r in zip([HOST, GUEST], SCENARIO.roles)]
    culture = load_culture("japanese")
    for me, persona in enumerate([HOST, GUEST]):
        system = examples[persona.id][0]
        assert system == {
            "role": "system",
            "content": simulation_prompts.persona_system_prompt(SCENARIO, participants, me, culture),
        }

    host = examples[HOST.id]
    # The opener sees the scene opening first, then speaks.
    assert host[1] == {"role": "user", "content": simulation_prompts.scene_opening([GUEST.name])}
    assert host[2] == {"role": "assistant", "content": "Welcome, please come in."}
    # The guest's gesture and line arrive together, rendered as the engine renders heard turns.
    assert host[3]["role"] == "user"
    assert host[3]["content"].splitlines() == [
        "Kenji Ito: *bows slightly*",
        "Kenji Ito: This is a small thing, but please accept it.",
    ]
    assert host[-1] == {
        "role": "assistant",
        "content": "Oh, you shouldn't have. Thank you.",
    }  # no trailing user turn

    guest = examples[GUEST.id]
    assert guest[1] == {"role": "user", "content": "Hana Sato: Welcome, please come in."}
    assert guest[2] == {
        "role": "assistant",
        "content": "*bows slightly*\nThis is a small thing, but please accept it.",
    }
    assert guest[-1] == {"role": "assistant", "content": "I should go now. [leave]"}
    roles = [m["role"] for m in guest[1:]]
    assert all(a != b for a, b in zip(roles, roles[1:])), "roles must alternate"


def test_imitation_skips_silent_turns():
    episode = make_episode(1, CONVERSATIONS[1])  # the host says nothing, then gestures
    host = next(e for e in imitation_examples(episode, episode_context(episode)) if e.subject == HOST.id)
    assistant = [m["content"] for m in host.messages if m["role"] == "assistant"]
    assert assistant == ["Thank you for coming all this way.", "*receives it with both hands*"]


def test_intent_examples_target_each_labelled_turn():
    examples = intent_examples(EPISODE, episode_context(EPISODE))
    assert [e.subject for e in examples] == [f"turn {t.index}" for t in EPISODE.turns]
    third = examples[2]
    question, answer = third.messages[1]["content"], third.messages[2]["content"]
    assert "This is a small thing, but please accept it." in question  # the turn itself is shown
    assert "I should go now." not in question  # nothing after it
    assert "What does Kenji Ito intend" in question
    assert answer == "Intent: offer the gift\nCultural reason: gifts are downplayed"


def test_intent_context_is_bounded():
    examples = intent_examples(EPISODE, episode_context(EPISODE), max_context_turns=2)
    last = examples[-1].messages[1]["content"]
    assert "(earlier turns omitted)" in last
    assert "Welcome, please come in." not in last
    assert "Oh, you shouldn't have." in last


def test_reasoning_needs_a_critique():
    context = episode_context(EPISODE)
    (example,) = reasoning_examples(EPISODE, context, judgement(EPISODE))
    assert example.messages[-1]["content"].startswith("Aligned (confident). The modest refusal")
    without = judgement(EPISODE).model_copy(update={"critique": " "})
    assert reasoning_examples(EPISODE, context, without) == []


def test_parse_tasks_and_weights():
    assert parse_tasks("imitation, intent,imitation") == ["imitation", "intent"]
    with pytest.raises(BadInputError, match="unknown task 'speaking'"):
        parse_tasks("imitation,speaking")
    assert parse_task_weights("imitation=2,intent=0.5") == {"imitation": 2.0, "intent": 0.5}
    with pytest.raises(BadInputError, match="TASK=WEIGHT"):
        parse_task_weights("imitation")


def _pools(sizes: dict[str, int]) -> dict[str, list[Example]]:
    return {
        task: [Example(task, f"ep-{i}", [], subject=str(i)) for i in range(n)] for task, n in sizes.items()
    }


def test_allocate_sums_exactly():
    counts = allocate(10, {"a": 1, "b": 1, "c": 1})
    assert sum(counts.values()) == 10 and sorted(counts.values()) == [3, 3, 4]


def test_mix_without_weights_uses_every_example_once_or_caps_proportionally():
    pools = _pools({"imitation": 10, "intent": 30})
    everything = mix(pools, None, None, seed=0)
    assert Counter(e.task for e in everything) == {"imitation": 10, "intent": 30}
    assert len({(e.task, e.subject) for e in everything}) == 40
    capped = mix(pools, None, 20, seed=0)
    assert Counter(e.task for e in capped) == {"imitation": 5, "intent": 15}


def test_mix_with_weights_gives_shares_and_oversamples_small_pools():
    pools = _pools({"imitation": 4, "intent": 30})
    mixed = mix(pools, {"imitation": 1, "intent": 1}, 20, seed=0)
    counts = Counter(e.task for e in mixed)
    assert counts == {"imitation": 10, "intent": 10}
    imitation = Counter(e.subject for e in mixed if e.task == "imitation")
    assert set(imitation) == {"0", "1", "2", "3"} and max(imitation.values()) - min(imitation.values()) <= 1
    assert len({e.subject for e in mixed if e.task == "intent"}) == 10  # no repeats while the pool lasts


def test_mix_is_seeded():
    pools = _pools({"imitation": 10, "intent": 30})
    assert mix(pools, None, 12, seed=1) == mix(pools, None, 12, seed=1)
    assert mix(pools, None, 12, seed=1) != mix(pools, None, 12, seed=2)


def test_split_holds_out_whole_episodes():
    ids = [f"ep-{i}" for i in range(20)]
    train, held_out = split_episode_ids(ids, 0.1, seed=0)
    assert len(held_out) == 2 and not train & held_out and train | held_out == set(ids)
    assert split_episode_ids(ids[:1], 0.5, seed=0) == ({"ep-0"}, set())  # never the only episode


def test_training_data_from_a_run(tmp_path):
    run = build_run(tmp_path / "run", n_episodes=6)
    config = TrainConfig(tasks=["imitation", "intent", "reasoning"], eval_fraction=0.2)
    data = build_training_data(run, config)
    train_episodes = {e.episode_id for e in data.train}
    eval_episodes = {e.episode_id for e in data.eval}
    assert eval_episodes and not train_episodes & eval_episodes
    assert set(data.counts("train")) == {"imitation", "intent", "reasoning"}
    # Every participant of every episode, every labelled turn, every critique.
    assert data.pool_sizes == {"imitation": 12, "intent": 22, "reasoning": 6}

    data.write_jsonl(tmp_path / "dataset.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "dataset.jsonl").read_text().splitlines()]
    assert Counter(row["split"] for row in rows) == {"train": len(data.train), "eval": len(data.eval)}

    capped = build_training_data(run, config.model_copy(update={"max_examples": 5}))
    assert len(capped.train) == 5 and capped.hash != data.hash
    assert build_training_data(run, config).hash == data.hash


def test_kept_source_and_empty_selection(tmp_path):
    run = build_run(tmp_path / "run", n_episodes=4, select=False)
    with pytest.raises(BadInputError, match="run culturesim select first or use --source kept"):
        build_training_data(run, TrainConfig())
    data = build_training_data(run, TrainConfig(source="kept", eval_fraction=0))
    assert {e.episode_id for e in data.train} == {f"ep-{i:04d}" for i in range(4)}


def test_missing_labels_are_named(tmp_path):
    run = build_run(tmp_path / "run", n_episodes=3, with_intents=False)
    with pytest.raises(BadInputError, match="no examples for task 'intent'"):
        build_training_data(run, TrainConfig(tasks=["imitation", "intent"]))
    assert build_training_data(run, TrainConfig(tasks=["imitation"])).counts() == {"imitation": 4}
