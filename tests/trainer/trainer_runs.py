"""Small hand-written run stores for the trainer tests: real SQLite, real schemas, short talks.

The trainer is tested, not the simulator: episodes and judgements are written directly.
"""

from __future__ import annotations

from pathlib import Path

from personas.schema import Persona
from scenarios.schema import Role, Scenario
from simulator.records import Episode, Judgement, Turn, Verdict
from simulator.store import RunStore

CULTURE = "japanese"

HOST = Persona(
    id="hana-sato",
    name="Hana Sato",
    age=34,
    gender="female",
    culture=CULTURE,
    occupation="nurse",
    background="Lives in Osaka with her husband.",
)
GUEST = Persona(
    id="kenji-ito", name="Kenji Ito", age=41, gender="male", culture=CULTURE, occupation="engineer"
)

SCENARIO = Scenario(
    id="gift-visit-japanese",
    title="A gift at the door",
    category="gift giving",
    setting="Kenji visits Hana's new flat for the first time and brings a gift.",
    relationship="colleague",
    roles=[
        Role(name="host", goal="Welcome the guest warmly."),
        Role(name="guest", goal="Give the gift politely.", secret="He forgot to buy flowers."),
    ],
    culture=CULTURE,
)

# (speaker index, action, text, intent, intent reason)
CONVERSATIONS = [
    [
        (0, "speak", "Welcome, please come in.", "welcome the guest", "hosts greet guests at the genkan"),
        (1, "non-verbal", "bows slightly", "show respect", "a bow marks respect"),
        (
            1,
            "speak",
            "This is a small thing, but please accept it.",
            "offer the gift",
            "gifts are downplayed",
        ),
        (0, "speak", "Oh, you shouldn't have. Thank you.", "accept modestly", "refusing a little is polite"),
        (1, "leave", "I should go now.", "end the visit", "short first visits are polite"),
    ],
    [
        (0, "speak", "Thank you for coming all this way.", "thank the guest", "effort is acknowledged"),
        (1, "speak", "Not at all. Here, for your family.", "offer the gift", "gifts honour the household"),
        (0, "none", "", "stay silent", "silence shows reflection"),
        (0, "non-verbal", "receives it with both hands", "accept respectfully", "two hands show respect"),
    ],
    [
        (0, "speak", "Did you find the place easily?", "check on the guest", "hosts anticipate needs"),
        (1, "speak", "Yes, your directions were very clear.", "reassure the host", "avoid troubling others"),
    ],
]


def make_episode(number: int, conversation: list[tuple]) -> Episode:
    people = [HOST, GUEST]
    turns = [
        Turn(
            index=i,
            speaker=people[who].id,
            speaker_name=people[who].name,
            role=SCENARIO.roles[who].name,
            action=action,
            text=text,
            intent=intent,
            intent_reason=reason,
        )
        for i, (who, action, text, intent, reason) in enumerate(conversation)
    ]
    return Episode(
        id=f"ep-{number:04d}",
        scenario_id=SCENARIO.id,
        culture=CULTURE,
        persona_ids=[HOST.id, GUEST.id],
        sample_index=number,
        seed=number,
        status="done",
        end_reason="max_turns",
        turns=turns,
        started_at=float(number),
        finished_at=float(number) + 1,
        scenario=SCENARIO.model_dump(mode="json"),
        personas=[p.model_dump(mode="json") for p in people],
    )


def judgement(episode: Episode, kept: bool = True) -> Judgement:
    verdict = Verdict(label="good", confidence=0.9, probabilities={"good": 0.9, "bad": 0.1})
    aligned = Verdict(label="aligned", confidence=0.7, probabilities={"aligned": 0.7, "not aligned": 0.3})
    return Judgement(
        episode_id=episode.id,
        quality=verdict,
        alignment=aligned,
        meta_review=verdict,
        critique="The modest refusal and the bow fit Japanese gift etiquette.",
        kept=kept,
        judge_model="hand-written",
    )


def build_run(
    run_dir: Path,
    n_episodes: int = 6,
    select: bool = True,
    with_intents: bool = True,
    with_critique: bool = True,
) -> Path:
    """A run with `n_episodes` kept episodes (cycling through CONVERSATIONS), optionally selected."""
    with RunStore(run_dir) as store:
        for number in range(n_episodes):
            episode = make_episode(number, CONVERSATIONS[number % len(CONVERSATIONS)])
            store.save_episode(
                episode.model_copy(
                    update={
                        "turns": [
                            t.model_copy(update={"intent": None, "intent_reason": None})
                            for t in episode.turns
                        ]
                    }
                )
            )
            verdicts = judgement(episode)
            if not with_critique:
                verdicts = verdicts.model_copy(update={"critique": ""})
            intents = {t.index: (t.intent, t.intent_reason) for t in episode.turns} if with_intents else {}
            store.save_judgement(verdicts, intents)
        if select:
            store.save_selection(CULTURE, [(f"ep-{n:04d}", 0.5, 0.5, True, n) for n in range(n_episodes)])
    return run_dir
