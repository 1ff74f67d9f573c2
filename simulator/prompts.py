"""Every prompt of the simulation: persona system prompts, turn rendering and the action choice.

The system prompt gives an agent its persona, the scenario, its own role, goal and secret, the
other participants as they appear from outside (name, age, occupation, role; never their goals or
secrets, as in Sotopia and CLCA), the culture's descriptors and norms, and the reply format.
Prompts stay short on purpose: the embedded model is small and prompt tokens cost CPU time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from personas.schema import CultureProfile, Persona
from scenarios.adaptation import relevant_norms
from scenarios.schema import Role, Scenario
from simulator.records import Action

RELATIONSHIP_WORDS = {
    "stranger": "strangers",
    "acquaintance": "acquaintances",
    "friend": "friends",
    "colleague": "colleagues",
    "family": "family members",
    "romantic": "romantic partners",
    "manager_subordinate": "a manager and a subordinate",
    "service_customer": "a service worker and a customer",
    "teacher_student": "a teacher and a student",
    "neighbour": "neighbours",
}

MAX_DESCRIPTORS = 3
MAX_NORMS = 2

REPLY_FORMAT = (
    "Reply with your character's next line only, one or two short sentences. For a gesture without "
    "words, write it between asterisks, like *nods*. To end the conversation, write [leave]."
)
STAY_IN_CHARACTER = "Stay in character as {name}."

SCENE_OPENING = "{others} is here with you. Start the conversation: say your first line to them."
OPENING_SPEAKER = "scene"

# Constrained action choice: the model picks one of these one-token words as its whole answer.
ACTION_QUESTION = "[Stage direction: what does {name} do next? Answer with one word: {options}.]"
ACTION_OPTIONS: dict[str, Action] = {"talk": "speak", "gesture": "non-verbal", "leave": "leave"}
NON_VERBAL_CUE = "[{name} answers without words this time: describe one gesture between asterisks.]"


@dataclass(frozen=True)
class Participant:
    persona: Persona
    role: Role


def persona_line(persona: Persona) -> str:
    details = [f"{persona.age}", persona.gender, persona.occupation]
    return f"{persona.name} ({', '.join(d for d in details if d)})"


def _personality(persona: Persona) -> str:
    """Only the traits that stand out: 'medium' on everything says nothing and costs tokens."""
    if isinstance(persona.personality, str):
        return persona.personality
    return ", ".join(f"{level} {trait}" for trait, level in persona.personality.items() if level != "medium")


def culture_lines(culture: CultureProfile, scenario: Scenario) -> list[str]:
    """The culture's most marked descriptors and the norms that bear on this kind of situation,
    skipping what the (culture-adapted) setting already says."""
    marked = [d for d in culture.descriptors() if d.startswith("strongly ")] or culture.descriptors()[:2]
    descriptors = [d for d in marked if d not in scenario.setting][:MAX_DESCRIPTORS]
    norms = [
        n for n in relevant_norms(culture, scenario.category, limit=MAX_NORMS) if n not in scenario.setting
    ]
    lines = [f"People here are {culture.name}: {'; '.join(descriptors)}."] if descriptors else []
    lines += norms
    address = culture.naming.forms_of_address.get(scenario.relationship)
    if address and address not in scenario.setting:
        lines.append(f"Forms of address: {address}.")
    return lines


def persona_system_prompt(
    scenario: Scenario,
    participants: Sequence[Participant],
    me: int,
    culture: CultureProfile | None,
) -> str:
    """The system prompt of participant `me`: who they are, where they are, what they want.

    What all participants share (scene, culture, format) comes first and the persona last, so the
    prompts of one episode begin alike (a backend with prefix caching computes that part once) and
    the small model reads who it is right before the conversation.
    """
    persona, role = participants[me].persona, participants[me].role
    others = [p for i, p in enumerate(participants) if i != me]
    relation = RELATIONSHIP_WORDS.get(scenario.relationship, scenario.relationship.replace("_", " "))
    lines = [f"Scene: {scenario.setting.strip()}"]
    if culture is not None:
        lines += culture_lines(culture, scenario)
    lines += [REPLY_FORMAT, ""]
    lines.append(
        f"You are {persona.name}. {persona.background.strip()}"
        if persona.background
        else f"You are {persona_line(persona)}."
    )
    traits = _personality(persona)
    if traits:
        lines.append(f"Personality: {traits}.")
    if persona.secret:
        lines.append(f"Your private secret: {persona.secret.strip().rstrip('.')}.")
    lines.append(f"You are the {role.name}, talking with {_others_line(others)}; you are {relation}.")
    lines.append(f"Your goal: {role.goal.strip()}")
    if role.secret:
        lines.append(f"You keep to yourself: {role.secret.strip()}")
    if role.hint:
        lines.append(f"Hint: {role.hint.strip()}")
    lines.append(STAY_IN_CHARACTER.format(name=persona.name))
    return "\n".join(lines)


def _others_line(others: Sequence[Participant]) -> str:
    return ", ".join(f"{persona_line(p.persona)}, the {p.role.name}" for p in others)


def scene_opening(other_names: Sequence[str]) -> str:
    """What the first speaker receives in place of a previous turn."""
    return SCENE_OPENING.format(others=" and ".join(other_names))


def render_turn(name: str, action: Action, text: str) -> str:
    """A turn as the other participants receive it."""
    if action == "speak":
        return f"{name}: {text}"
    if action == "non-verbal":
        return f"{name}: *{text}*"
    if action == "leave":
        return (
            f"{name}: {text} *{name} leaves the conversation*"
            if text
            else f"*{name} leaves the conversation*"
        )
    return f"*{name} says nothing*"


def action_question(name: str) -> tuple[str, list[str]]:
    """The stage-direction question and its one-word options."""
    options = list(ACTION_OPTIONS)
    return ACTION_QUESTION.format(name=name, options=", ".join(options)), options


def non_verbal_cue(name: str) -> str:
    return NON_VERBAL_CUE.format(name=name)
