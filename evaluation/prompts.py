"""Every prompt the evaluation wing sends to a model, in one place.

Survey answers are read by scoring the allowed answer codes (scale numbers or option letters) as the
assistant's whole reply, so the instructions ask for the bare code: that is the reply being scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from simulator.backends.base import ChatMessage

if TYPE_CHECKING:
    from personas.schema import CultureProfile

SURVEY_SYSTEM = (
    "You are taking part in a social survey interview. Answer each question as the person described "
    "would answer it, giving only the answer code."
)
OPINION_SYSTEM = (
    "You are taking part in an opinion survey. Answer each question with the option that best matches "
    "your view, giving only its letter."
)

PERSONA_FRAMING = (
    "You are a {culture_name} person from {country}, answering as people of your culture typically would."
)
PERSONA_DESCRIPTORS = "Your culture is characterised by: {descriptors}."

DEMOGRAPHICS_HEADER = "In an interview you gave these answers about yourself:"
DEMOGRAPHIC_LINE = "- {question} {answer}"

SCALE_INSTRUCTION = "Reply with a single number from {low} to {high}."
# WorldValuesBench-style free reply, used only to measure generate-then-parse in the benchmark.
EXPLAINED_SCALE_INSTRUCTION = (
    'Reply in this format: {{"explanation": "<up to 20 words, keeping your background in mind>", '
    '"score": <a number from {low} to {high}>}}'
)
OPTION_INSTRUCTION = "Reply with the letter of one option only."

OPTION_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def persona_system_prompt(
    base: str, country: str, culture_name: str | None, descriptors: Sequence[str] = ()
) -> str:
    """A survey system prompt plus a culture persona (the 'persona' model configurations)."""
    parts = [base, PERSONA_FRAMING.format(culture_name=culture_name or "typical", country=country)]
    if descriptors:
        parts.append(PERSONA_DESCRIPTORS.format(descriptors="; ".join(descriptors)))
    return " ".join(parts)


def demographics_block(answers: Sequence[tuple[str, str]]) -> str:
    lines = [DEMOGRAPHICS_HEADER]
    lines += [DEMOGRAPHIC_LINE.format(question=question, answer=answer) for question, answer in answers]
    return "\n".join(lines)


def scale_question(
    question: str, low: int, high: int, labels: Sequence[str | None] = (), explained: bool = False
) -> str:
    """A WVS-style scale question; labelled points are listed so the model need not guess them.

    `explained` asks for a short explanation before the score instead of the bare code.
    """
    lines = [question.strip()]
    named = [(low + i, label) for i, label in enumerate(labels) if label]
    if named:
        lines += [f"{code} = {label}" for code, label in named]
    instruction = EXPLAINED_SCALE_INSTRUCTION if explained else SCALE_INSTRUCTION
    lines.append(instruction.format(low=low, high=high))
    return "\n".join(lines)


def option_letters(count: int) -> list[str]:
    if count > len(OPTION_LETTERS):
        raise ValueError(f"at most {len(OPTION_LETTERS)} options can be lettered, got {count}")
    return list(OPTION_LETTERS[:count])


def lettered_question(question: str, options: Sequence[str]) -> str:
    lines = [question.strip(), ""]
    lines += [f"{letter}. {option}" for letter, option in zip(option_letters(len(options)), options)]
    lines.append(OPTION_INSTRUCTION)
    return "\n".join(lines)


def wvs_messages(
    system: str, demographics: Sequence[tuple[str, str]], question_prompt: str
) -> list[ChatMessage]:
    user = f"{demographics_block(demographics)}\n\n{question_prompt}" if demographics else question_prompt
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def opinion_messages(system: str, question_prompt: str) -> list[ChatMessage]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question_prompt}]


def system_prompt(base: str, persona: bool, country: str, culture: CultureProfile | None = None) -> str:
    """The system prompt of a model configuration: plain, or framed by the culture's persona."""
    if not persona:
        return base
    if culture is None:
        return persona_system_prompt(base, country, None)
    return persona_system_prompt(base, country, culture.name, culture.descriptors())
