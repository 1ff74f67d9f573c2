"""Every prompt and target template of the trainer's multi-task dataset (prompts are data).

Three tasks, after CLCA's multi-task objective:
- imitation: speak as one participant, in exactly the context the simulation gave that persona's
  agent (the engine's system prompt, scene opening and turn rendering from simulator/prompts.py,
  own turns as the agent's canonical replies), so the adapter learns the format it is used in;
- intent: read the conversation up to a turn and name the speaker's intent with its cultural reason;
- reasoning: judge whether the whole conversation fits the culture and say why (the judge's critique).

The situation and transcript wording of the last two is the judge's (simulator/judge/prompts.py),
so their targets answer the questions the judge itself was shown.
"""

from __future__ import annotations

from personas.schema import CultureProfile, Persona
from scenarios.schema import Scenario
from simulator import prompts as simulation_prompts
from simulator.judge.prompts import situation, transcript
from simulator.protocol import ParsedReply
from simulator.records import Episode, Judgement, Turn

# -- imitation (the simulation's own prompts) -------------------------------------------------------


def imitation_system_prompt(
    scenario: Scenario, personas: list[Persona], me: int, culture: CultureProfile | None
) -> str:
    participants = [simulation_prompts.Participant(p, role) for p, role in zip(personas, scenario.roles)]
    return simulation_prompts.persona_system_prompt(scenario, participants, me, culture)


def scene_opening(other_names: list[str]) -> str:
    """What the first speaker was shown before its first line."""
    return simulation_prompts.scene_opening(other_names)


def own_turn(turn: Turn) -> str:
    """The persona's turn as its agent replied it ('*nods*' for a gesture); '' when it said nothing."""
    return "" if turn.action == "none" else ParsedReply(turn.action, turn.text.strip()).canonical()


def heard_turn(turn: Turn) -> str:
    """Another participant's turn as the persona heard it."""
    return simulation_prompts.render_turn(turn.speaker_name, turn.action, turn.text.strip())


# -- intent prediction ------------------------------------------------------------------------------

ANALYST_SYSTEM = (
    "You understand the social expectations of many cultures. You read conversations and explain "
    "what people intend and how their behaviour fits their culture."
)


def intent_question(episode: Episode, turns: list[Turn], culture_name: str, earlier_omitted: bool) -> str:
    turn = turns[-1]
    omitted = "(earlier turns omitted)\n" if earlier_omitted else ""
    return (
        f"{situation(episode)}\n\nConversation so far:\n{omitted}{transcript(turns)}\n\n"
        f"The people here are of {culture_name} culture. What does {turn.speaker_name} intend with "
        "the last turn, and which cultural expectation explains it?"
    )


def intent_answer(intent: str, reason: str | None) -> str:
    answer = f"Intent: {intent.strip()}"
    return answer + (f"\nCultural reason: {reason.strip()}" if reason and reason.strip() else "")


# -- cultural reasoning -----------------------------------------------------------------------------


def reasoning_question(episode: Episode, culture_name: str) -> str:
    return (
        f"{situation(episode)}\n\nConversation:\n{transcript(episode.turns)}\n\n"
        f"Do the speakers behave the way people of {culture_name} culture would in this situation? "
        "Give your verdict and explain it."
    )


def reasoning_answer(judgement: Judgement) -> str:
    verdict = judgement.alignment.label.strip().capitalize()
    return f"{verdict} ({judgement.alignment.confidence_band}). {judgement.critique.strip()}"
