"""Short hand-written episodes written straight into a RunStore, as input for the judge tests."""

from __future__ import annotations

from pathlib import Path

from simulator.records import Episode, Turn, episode_id
from simulator.store import RunStore

SCENARIO = {
    "id": "gift-visit",
    "title": "Bringing a gift to a colleague's home",
    "category": "gift giving",
    "setting": "Saturday afternoon. Ren visits his colleague Aiko at home for the first time, carrying a box of sweets.",
    "relationship": "colleague",
    "roles": [
        {"name": "guest", "goal": "Give the gift politely"},
        {"name": "host", "goal": "Welcome the guest"},
    ],
    "culture": "japanese",
}
PERSONAS = [
    {
        "id": "ren",
        "name": "Ren Sato",
        "age": 34,
        "gender": "man",
        "culture": "japanese",
        "occupation": "engineer",
    },
    {
        "id": "aiko",
        "name": "Aiko Mori",
        "age": 41,
        "gender": "woman",
        "culture": "japanese",
        "occupation": "teacher",
    },
]

CONVERSATIONS: list[list[tuple[str, str, str]]] = [
    [
        ("ren", "speak", "Thank you for inviting me. This is only a small thing, but please accept it."),
        ("aiko", "speak", "Oh, you did not have to! Thank you, please come in."),
        ("ren", "non-verbal", "bows and takes off his shoes at the entrance"),
        ("aiko", "leave", "I will make some tea."),
    ],
    [
        ("ren", "speak", "Hello hello. Hello hello."),
        ("aiko", "speak", "Hello hello. Hello hello."),
        ("ren", "speak", "Hello hello. Hello hello."),
    ],
    [
        ("ren", "speak", "I brought sweets from Kyoto for your family."),
        ("aiko", "speak", "How kind. I will open them later with my husband, thank you."),
        ("ren", "speak", "I hope they suit your taste."),
    ],
]


def make_episode(index: int, conversation: list[tuple[str, str, str]], finished_at: float) -> Episode:
    names = {p["id"]: p["name"] for p in PERSONAS}
    roles = {"ren": "guest", "aiko": "host"}
    return Episode(
        id=episode_id(SCENARIO["id"], ["ren", "aiko"], index, 0),
        scenario_id=SCENARIO["id"],
        culture="japanese",
        persona_ids=["ren", "aiko"],
        sample_index=index,
        seed=0,
        status="done",
        end_reason="max_turns",
        turns=[
            Turn(index=i, speaker=who, speaker_name=names[who], role=roles[who], action=action, text=text)
            for i, (who, action, text) in enumerate(conversation)
        ],
        started_at=finished_at - 1,
        finished_at=finished_at,
        scenario=SCENARIO,
        personas=PERSONAS,
    )


def sample_episodes(count: int = 3, turns: int | None = None) -> list[Episode]:
    """`count` episodes cycling through CONVERSATIONS, each cut to its first `turns` turns."""
    return [make_episode(i, CONVERSATIONS[i % len(CONVERSATIONS)][:turns], 1000.0 + i) for i in range(count)]


def write_run(run_dir: Path, count: int = 3, turns: int | None = None) -> list[Episode]:
    """A run directory holding `count` finished episodes (and one failed one the judge must skip)."""
    episodes = sample_episodes(count, turns)
    with RunStore(run_dir) as store:
        for episode in episodes:
            store.save_episode(episode)
        failed = make_episode(99, CONVERSATIONS[0][:1], 2000.0).model_copy(update={"status": "failed"})
        store.save_episode(failed)
    return episodes
