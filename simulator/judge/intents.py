"""Per-turn intents: a short free-text intent for every turn of every speaker, and a reason.

Every turn gets an intent. The first try is greedy; an empty or unusable answer is retried with
sampling and a different seed; if the model still gives nothing, the intent is derived from the
turn's action (`prompts.fallback_intent`) and the reason says so (FALLBACK_REASON), so a missing
intent is never silent and downstream code can tell model intents from fallbacks.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel

from simulator.agents import derive_seed
from simulator.backends.base import ChatMessage, SamplingParams
from simulator.judge import prompts
from simulator.judge.prompts import CultureContext
from simulator.records import Episode

# Any way of getting one reply for a chat: the judge agent passes its autogen model client.
TextGenerator = Callable[[list[ChatMessage], SamplingParams], Awaitable[str]]

FALLBACK_REASON = "[fallback] the judge gave no usable intent; derived from the turn's action"

# What small models put before the answer: a label ('Ren Sato (guest):', 'Intent:', 'Why Ren does
# this:') and the sentence start they were asked to complete ('Ren wants to').
_LABEL = re.compile(r"^\s*[^:.!?\"“]{1,40}:\s*")
_WANTS_TO = re.compile(r"^\s*(?:[A-Z][\w'.-]*\s){1,3}wants to\b\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# One phrase or sentence is all that is kept, so generation stops at its end instead of running on.
PHRASE_STOP = (".", "\n")


def is_fallback(reason: str | None) -> bool:
    return bool(reason) and reason.startswith("[fallback]")


def tokens_for_words(words: int) -> int:
    """A token budget that fits `words` English words (about 1.3 tokens each) and a lead-in."""
    return int(words * 1.5) + 4


@dataclass(frozen=True)
class IntentSettings:
    max_words: int = 25
    reason_max_words: int = 30
    retries: int = 2
    retry_temperature: float = 0.8
    seed: int = 0

    @property
    def max_new_tokens(self) -> int:
        return tokens_for_words(self.max_words)

    @property
    def reason_max_new_tokens(self) -> int:
        return tokens_for_words(self.reason_max_words)


class TurnIntent(BaseModel):
    intent: str
    reason: str
    fallback: bool = False


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def clean_phrase(text: str, max_words: int, lead: str = "") -> str:
    """The first sentence of the first non-empty line, without labels, the repeated `lead` or
    quotes around it, cut to `max_words` words; '' when nothing usable is left."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    for _ in range(2):  # 'Intent: Ren wants to ...' carries two
        line = _WANTS_TO.sub("", _LABEL.sub("", line, count=1), count=1)
        if lead and line.lower().startswith(lead.lower()):
            line = line[len(lead) :]
    line = _SENTENCE_END.split(line.strip(), maxsplit=1)[0].strip().strip("\"'`*“”").strip()
    if not any(ch.isalpha() for ch in line):
        return ""
    return " ".join(line.split()[:max_words]).rstrip(",;:.")


def is_repetitive(phrase: str, n: int = 4) -> bool:
    """A repeated run of n words: the loop a small model falls into, not an intent."""
    words = _words(phrase)
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(grams) != len(set(grams))


def echoes(phrase: str, turn_text: str) -> bool:
    """The phrase only repeats what the speaker said (a quote is not an intent)."""
    words = _words(phrase)
    return len(words) >= 2 and f" {' '.join(words)} " in f" {' '.join(_words(turn_text))} "


def usable(phrase: str, turn_text: str) -> bool:
    return bool(phrase) and not is_repetitive(phrase) and not echoes(phrase, turn_text)


async def _ask_until_usable(
    generate: TextGenerator,
    messages: list[ChatMessage],
    settings: IntentSettings,
    max_new_tokens: int,
    max_words: int,
    seed_key: tuple[object, ...],
    turn_text: str,
    lead: str = "",
) -> str:
    for attempt in range(settings.retries + 1):
        params = SamplingParams(
            max_new_tokens=max_new_tokens,
            temperature=0.0 if attempt == 0 else settings.retry_temperature,
            # A different seed per retry (and per turn), the same ones when the episode is re-judged.
            seed=derive_seed(settings.seed, *seed_key, attempt),
            stop=PHRASE_STOP,
        )
        phrase = clean_phrase(await generate(messages, params), max_words, lead)
        if usable(phrase, turn_text):
            return phrase
    return ""


async def turn_intent(
    episode: Episode,
    turn_index: int,
    culture: CultureContext,
    with_reason: bool,
    generate: TextGenerator,
    settings: IntentSettings,
) -> TurnIntent:
    messages = prompts.intent_messages(episode, turn_index, settings.max_words)
    key = (episode.id, turn_index)
    text = episode.turns[turn_index].text
    intent = await _ask_until_usable(
        generate, messages, settings, settings.max_new_tokens, settings.max_words, (*key, "intent"), text
    )
    if not intent:
        return TurnIntent(
            intent=prompts.fallback_intent(episode, turn_index), reason=FALLBACK_REASON, fallback=True
        )
    reason = ""
    if with_reason:
        reason_messages = prompts.intent_reason_messages(
            episode, turn_index, intent, culture, settings.reason_max_words
        )
        reason = await _ask_until_usable(
            generate,
            reason_messages,
            settings,
            settings.reason_max_new_tokens,
            settings.reason_max_words,
            (*key, "reason"),
            text,
            lead=prompts.reason_lead(culture),
        )
        reason = f"{prompts.reason_lead(culture)} {reason}." if reason else ""
    return TurnIntent(intent=intent, reason=reason)


async def episode_intents(
    episode: Episode,
    culture: CultureContext,
    with_reason: bool,
    generate: TextGenerator,
    settings: IntentSettings,
) -> dict[int, TurnIntent]:
    """All turns at once, so their requests reach the batcher together."""
    results = await asyncio.gather(
        *(
            turn_intent(episode, i, culture, with_reason, generate, settings)
            for i in range(len(episode.turns))
        )
    )
    return {turn.index: result for turn, result in zip(episode.turns, results)}
