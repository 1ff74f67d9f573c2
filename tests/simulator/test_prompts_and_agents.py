"""Persona system prompts (what each agent may know) and the autogen client's message conversion."""

from __future__ import annotations

from autogen_core.models import AssistantMessage, SystemMessage, UserMessage

from personas.cultures import load_culture
from personas.sampler import sample_personas
from scenarios.schema import Role, Scenario
from simulator import prompts
from simulator.agents import derive_seed, to_chat_messages

SCENARIO = Scenario(
    id="shared-flat",
    title="Dividing the chores",
    category="negotiation",
    setting="Three flatmates meet in the kitchen of their shared flat on a Sunday evening.",
    relationship="friend",
    roles=[
        Role(name="tidy one", goal="GOAL-A get a fixed rota", secret="SECRET-A you broke the kettle"),
        Role(name="busy one", goal="GOAL-B do as little as possible", secret="SECRET-B you are moving out"),
        Role(name="new one", goal="GOAL-C make friends", hint="HINT-C offer to cook"),
    ],
)


def participants() -> list[prompts.Participant]:
    personas = sample_personas("japanese", 3, seed=5)
    return [prompts.Participant(p, r) for p, r in zip(personas, SCENARIO.roles)]


def test_each_agent_knows_its_own_goal_and_secret_only() -> None:
    cast = participants()
    for me, mine in enumerate(cast):
        system = prompts.persona_system_prompt(SCENARIO, cast, me, None)
        assert mine.persona.name in system and mine.role.goal in system
        for other_index, other in enumerate(cast):
            if other_index == me:
                continue
            assert other.persona.name in system  # the others are introduced...
            assert other.role.goal not in system  # ...but their goals, secrets and hints stay hidden
            if other.role.secret:
                assert other.role.secret not in system
            if other.role.hint:
                assert other.role.hint not in system
            if other.persona.secret:
                assert other.persona.secret not in system
    assert "HINT-C" in prompts.persona_system_prompt(SCENARIO, cast, 2, None)


def test_culture_descriptors_and_norms_appear_only_with_a_culture() -> None:
    cast = participants()
    japanese = load_culture("japanese")
    with_culture = prompts.persona_system_prompt(SCENARIO, cast, 0, japanese)
    without = prompts.persona_system_prompt(SCENARIO, cast, 0, None)
    assert "People here are Japanese" in with_culture and "People here" not in without
    assert any(norm in with_culture for norm in japanese.norms)
    assert any(d in with_culture for d in japanese.descriptors())


def test_prompts_of_one_episode_share_their_beginning() -> None:
    """Scene, culture and format come first, so a prefix cache can serve every participant."""
    cast = participants()
    culture = load_culture("japanese")
    first, second = (prompts.persona_system_prompt(SCENARIO, cast, i, culture) for i in (0, 1))
    shared = len(first[: first.index("You are ")])
    assert first[:shared] == second[:shared] and SCENARIO.setting in first[:shared]


def test_turn_rendering_for_the_others() -> None:
    assert prompts.render_turn("Hana", "speak", "Hello.") == "Hana: Hello."
    assert prompts.render_turn("Hana", "non-verbal", "nods") == "Hana: *nods*"
    assert "leaves" in prompts.render_turn("Hana", "leave", "")
    assert "says nothing" in prompts.render_turn("Hana", "none", "")


def test_autogen_messages_become_alternating_chat_messages() -> None:
    messages = [
        SystemMessage(content="system"),
        UserMessage(content="Kenji: hi", source="kenji"),
        UserMessage(content="Aiko: hello", source="aiko"),  # two others spoke since my last turn
        AssistantMessage(content="Hi both.", source="hana"),
        UserMessage(content="Kenji: so?", source="kenji"),
    ]
    assert to_chat_messages(messages) == [
        {"role": "system", "content": "system"},
        {"role": "user", "content": "Kenji: hi\nAiko: hello"},
        {"role": "assistant", "content": "Hi both."},
        {"role": "user", "content": "Kenji: so?"},
    ]


def test_derived_seeds_are_stable_and_distinct() -> None:
    assert derive_seed(1, "x", 0) == derive_seed(1, "x", 0)
    assert len({derive_seed(1, "x", i) for i in range(100)}) == 100
    assert 0 <= derive_seed("anything") < 2**31
