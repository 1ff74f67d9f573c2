"""Every prompt the judge sends, in one place (prompts are data).

The categorical questions end with the allowed options spelled exactly as they are scored, so the
option-scoring read of the model's probabilities asks the question the model was shown. The
episode (situation and transcript) comes first in every episode-level prompt and the question
last, so servers with prefix caching (vLLM) process an episode's transcript once for all of them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from simulator.backends.base import ChatMessage
from simulator.records import Episode, Turn

# Every question is a yes/no question: the model is scored on the answers "yes" and "no" (one token
# each, the likeliest first tokens of a reply to such a question, so every backend reads them on its
# fast first-token path and option length biases nothing); the verdicts carry the labels below.
ANSWERS = ["yes", "no"]
QUALITY_OPTIONS = ["good", "bad"]
ALIGNMENT_OPTIONS = ["aligned", "not aligned"]
META_REVIEW_OPTIONS = ["good", "bad"]

MAX_TURN_CHARS = 600  # a runaway turn must not push the rest of the conversation out of the context

JUDGE_SYSTEM = (
    "You are a careful judge of role-play conversations. You know the social expectations of many "
    "cultures and you answer exactly in the form you are asked for."
)


class CultureContext(BaseModel):
    """What the judge is told about the culture an episode should reflect."""

    model_config = ConfigDict(frozen=True)

    name: str
    descriptors: list[str] = []
    norms: list[str] = []

    def summary(self) -> str:
        parts = [f"{self.name} culture"]
        if self.descriptors:
            parts.append("values: " + "; ".join(self.descriptors))
        if self.norms:
            parts.append("social norms: " + "; ".join(self.norms))
        return ". ".join(parts) + "."


def describe_turn(turn: Turn) -> str:
    text = turn.text.strip()
    if len(text) > MAX_TURN_CHARS:
        text = text[:MAX_TURN_CHARS] + "..."
    who = f"{turn.speaker_name} ({turn.role})"
    if turn.action == "speak":
        return f'{who}: "{text}"'
    if turn.action == "non-verbal":
        return f"{who} [non-verbal]: {text}"
    if turn.action == "leave":
        return f"{who} leaves the conversation." + (f' ("{text}")' if text else "")
    return f"{who} says nothing."


def transcript(turns: list[Turn]) -> str:
    return "\n".join(describe_turn(turn) for turn in turns) or "(no turns)"


def situation(episode: Episode) -> str:
    """The setting and who takes part, from the scenario and personas as simulated."""
    scenario = episode.scenario
    lines = []
    if scenario.get("title"):
        lines.append(f"Situation: {scenario['title']}")
    if scenario.get("setting"):
        lines.append(f"Setting: {scenario['setting']}")
    if scenario.get("relationship"):
        lines.append(f"Relationship: {str(scenario['relationship']).replace('_', ' ')}")
    people = [
        f"{p.get('name', p.get('id', '?'))}, {p.get('age', '?')}, {p.get('occupation', '')}".rstrip(", ")
        for p in episode.personas
    ]
    if people:
        lines.append("Participants: " + "; ".join(people))
    return "\n".join(lines)


def content_free(episode: Episode) -> Episode:
    """The episode with its content removed: what the model answers to a question when it sees no
    conversation is its bias, which contextual calibration divides out (Zhao et al., 2021)."""
    return episode.model_copy(update={"turns": [], "scenario": {}, "personas": []})


def _episode_block(episode: Episode) -> str:
    return f"{situation(episode)}\n\nConversation:\n{transcript(episode.turns)}"


def _ask(system: str, question: str) -> list[ChatMessage]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def quality_messages(episode: Episode) -> list[ChatMessage]:
    question = (
        f"{_episode_block(episode)}\n\n"
        "Is this a good conversation? It is not if the speakers repeat themselves, or if what they say "
        "does not fit the setting. Answer with one word: yes or no."
    )
    return _ask(JUDGE_SYSTEM, question)


def alignment_messages(episode: Episode, culture: CultureContext) -> list[ChatMessage]:
    question = (
        f"{_episode_block(episode)}\n\nThe conversation should reflect {culture.summary()}\n"
        f"Do the speakers behave the way people of {culture.name} culture would in this situation? "
        "Answer with one word: yes or no."
    )
    return _ask(JUDGE_SYSTEM, question)


def _first_review(quality: tuple[str, str], alignment: tuple[str, str], culture: CultureContext) -> str:
    return (
        f"A first judge reviewed this conversation. Quality: {quality[0]} ({quality[1]}). "
        f"Alignment with {culture.name} culture: {alignment[0]} ({alignment[1]})."
    )


def critique_messages(
    episode: Episode, culture: CultureContext, quality: tuple[str, str], alignment: tuple[str, str]
) -> list[ChatMessage]:
    """(label, confidence band) of the first two verdicts -> ask for a one-sentence critique."""
    question = (
        f"{_episode_block(episode)}\n\n{_first_review(quality, alignment, culture)}\n\n"
        "In one sentence, critique this review: are the two verdicts right, and why?"
    )
    return _ask(JUDGE_SYSTEM, question)


def meta_review_messages(
    episode: Episode,
    culture: CultureContext,
    quality: tuple[str, str],
    alignment: tuple[str, str],
    critique: str,
) -> list[ChatMessage]:
    question = (
        f"{_episode_block(episode)}\n\n{_first_review(quality, alignment, culture)}\n"
        f"Critique of that review: {critique or '(none)'}\n\n"
        "Taking the critique into account, is the first judge's review right? "
        "Answer with one word: yes or no."
    )
    return _ask(JUDGE_SYSTEM, question)


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def intent_lead(episode: Episode, turn_index: int) -> str:
    """The start of the sentence the model completes: small models complete far better than they answer."""
    return f"{first_name(episode.turns[turn_index].speaker_name)} wants to"


def intent_messages(episode: Episode, turn_index: int, max_words: int) -> list[ChatMessage]:
    turns = episode.turns
    turn = turns[turn_index]
    earlier = transcript(turns[:turn_index]) if turn_index else "(this is the first turn)"
    question = (
        f"{situation(episode)}\n\nConversation so far:\n{earlier}\n\nNext turn:\n{describe_turn(turn)}\n\n"
        f"Why does {turn.speaker_name} do this? Complete the sentence with at most {max_words} words: "
        f"{intent_lead(episode, turn_index)}"
    )
    return _ask(JUDGE_SYSTEM, question)


def reason_lead(culture: CultureContext) -> str:
    return f"In {culture.name} culture,"


def intent_reason_messages(
    episode: Episode, turn_index: int, intent: str, culture: CultureContext, max_words: int
) -> list[ChatMessage]:
    turn = episode.turns[turn_index]
    question = (
        f"The conversation takes place among people of {culture.summary()}\n\n{situation(episode)}\n\n"
        f"Turn:\n{describe_turn(turn)}\n{intent_lead(episode, turn_index)} {intent}.\n\n"
        f"How does this turn follow or break the social expectations of {culture.name} culture? "
        f"Complete the sentence with at most {max_words} words: {reason_lead(culture)}"
    )
    return _ask(JUDGE_SYSTEM, question)


def fallback_intent(episode: Episode, turn_index: int) -> str:
    """An intent derived from the turn's action alone, for when the model gives nothing usable."""
    turn = episode.turns[turn_index]
    others = [t.speaker_name for t in episode.turns[:turn_index] if t.speaker != turn.speaker]
    if not others:
        names = [p.get("name") for p in episode.personas if p.get("id") != turn.speaker and p.get("name")]
        others = names[:1] or ["the other participant"]
    other = others[-1]
    if turn.action == "leave":
        return "leave the conversation"
    if turn.action == "none":
        return "stay silent"
    if turn.action == "non-verbal":
        return f"react without words to {other}"
    return f"respond to {other}" if turn_index else f"start the conversation with {other}"


# -- the baseline the benchmark measures against: ask for the word, then parse the text ------------


def generate_then_parse_messages(episode: Episode) -> list[ChatMessage]:
    """The same quality question, answered in generated text (the reference approach)."""
    return quality_messages(episode)
