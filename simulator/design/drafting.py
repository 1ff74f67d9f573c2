"""From model text to validated records: JSON extraction, validation, retries with feedback.

Every draft of a batch goes to the backend in one `generate` call; the drafts that fail are asked
for again together (their own failed reply and the validation errors fed back, a new seed), so a
batch costs one model call per round, not one per draft. Nothing half-valid leaves this module: a
draft is either a record that passed the schema (and the caller's checks) or a failure carrying
every raw reply and the reason each was rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Generic, Literal, TypeVar

from pydantic import ValidationError

from personas.files import BadInputError
from simulator.backends.base import Backend, ChatMessage, Generation, GenerationRequest, SamplingParams
from simulator.backends.embedded import EMBEDDED_MODEL_NAME
from simulator.design import prompts

Record = TypeVar("Record")
Strategy = Literal["auto", "json", "fields", "json+fields"]
# Models measured too small for whole JSON records: SmolLM2-135M's drafts almost never validate,
# even with the errors fed back, and each costs a full token budget (benchmarks/RESULTS.md).
FIELDS_ONLY_MODELS = frozenset({EMBEDDED_MODEL_NAME})


@dataclass(frozen=True)
class DraftSettings:
    # json+fields: whole JSON records first, field by field for what still fails;
    # auto: fields for FIELDS_ONLY_MODELS, json+fields for every other model.
    strategy: Strategy = "auto"
    retries: int = 2  # extra JSON rounds for invalid drafts, each with the errors fed back
    max_new_tokens: int = 400  # for a whole JSON record
    field_tokens: int = 64  # for one text field
    temperature: float = 0.7
    seed: int = 0

    def params(self, index: int, attempt: int, max_new_tokens: int | None = None, **extra) -> SamplingParams:
        return SamplingParams(
            max_new_tokens=max_new_tokens or self.max_new_tokens,
            temperature=self.temperature,
            seed=seed_for(self.seed, index, attempt),
            **extra,
        )

    def stages(self, backend: Backend) -> tuple[bool, bool]:
        """(draft whole JSON records?, fill field by field?) for this backend's model."""
        strategy = self.strategy
        if strategy == "auto":
            small = backend.model_id.split("+")[0] in FIELDS_ONLY_MODELS  # "+adapter" is still that model
            strategy = "fields" if small else "json+fields"
        return strategy in ("json", "json+fields"), strategy in ("fields", "json+fields")


def seed_for(seed: int, index: int, attempt: int) -> int:
    """A distinct, reproducible seed for every draft and every retry of it."""
    return (seed * 1_000_003 + attempt * 10_007 + index) % (2**31)


@dataclass
class Attempt:
    stage: str  # "json", "json retry 1", "fields"
    raw: str
    error: str | None = None


@dataclass
class DraftOutcome(Generic[Record]):
    index: int
    record: Record | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None

    @property
    def last_failure(self) -> Attempt | None:
        """The latest rejected reply (later attempts may have filled other fields fine)."""
        return next((a for a in reversed(self.attempts) if a.error), None)

    @property
    def last_error(self) -> str:
        failure = self.last_failure
        return failure.error if failure and failure.error else ""


@dataclass
class DesignReport(Generic[Record]):
    """A design run's drafts, filled in place as rounds finish (so a caller can save as it goes)."""

    outcomes: list[DraftOutcome[Record]] = field(default_factory=list)

    @classmethod
    def empty(cls, count: int) -> DesignReport[Record]:
        return cls([DraftOutcome[Record](index) for index in range(count)])

    @property
    def records(self) -> list[Record]:
        return [o.record for o in self.outcomes if o.record is not None]

    @property
    def failures(self) -> list[DraftOutcome[Record]]:
        return [o for o in self.outcomes if not o.ok]

    def pending(self) -> list[int]:
        return [o.index for o in self.outcomes if not o.ok]


# Told what is being done after every round, with the report as it stands.
ProgressCallback = Callable[[str, DesignReport], None]


class DraftError(ValueError):
    """A reply that is not a usable draft (no JSON object, wrong shape, empty text)."""


# -- JSON extraction ----------------------------------------------------------------------------------

FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def extract_json_object(text: str) -> dict:
    """The first JSON object in a reply: inside a code fence or surrounded by other text."""
    candidates = [match.group(1) for match in FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    first_error: str | None = None
    for candidate in candidates:
        for start in (i for i, char in enumerate(candidate) if char == "{"):
            try:
                value, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError as exc:
                first_error = first_error or f"invalid JSON ({exc.msg} at character {exc.pos - start})"
                continue
            if isinstance(value, dict):
                return value
    if first_error:
        raise DraftError(first_error)
    raise DraftError("no JSON object found in the reply")


# -- validation problems ------------------------------------------------------------------------------


def validation_problems(exc: ValidationError) -> list[str]:
    """Every problem of a pydantic error, as 'field.path: message'."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(record)"
        message = {"missing": "missing required field", "extra_forbidden": "unknown field"}.get(
            error["type"], error["msg"]
        )
        problems.append(f"{where}: {message}")
    return problems


def describe_failure(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(validation_problems(exc))
    if isinstance(exc, BadInputError):
        return f"{exc.field}: {exc.reason}" if exc.field else exc.reason
    return str(exc)


def build_or_error(build: Callable[[dict, int], Record], raw: Generation, index: int) -> Record | str:
    try:
        data = extract_json_object(raw.text)
        return build(data, index)
    except (ValueError, BadInputError) as exc:  # ValidationError and DraftError are ValueErrors
        reason = describe_failure(exc)
        if raw.finish_reason == "length":
            reason = f"{prompts.CUT_OFF.format(tokens=raw.completion_tokens)} ({reason})"
        return reason


# -- drafting rounds ----------------------------------------------------------------------------------


async def draft_json(
    backend: Backend,
    conversations: Sequence[list[ChatMessage]],
    build: Callable[[dict, int], Record],
    settings: DraftSettings,
    report: DesignReport[Record],
    on_progress: ProgressCallback | None = None,
) -> None:
    """Draft `report.outcomes[i]` from `conversations[i]`, as JSON, within the retries."""
    pending = {index: list(conversations[index]) for index in report.pending()}
    for attempt in range(settings.retries + 1):
        if not pending:
            break
        stage = "json" if attempt == 0 else f"json retry {attempt}"
        if on_progress:
            on_progress(f"drafting {len(pending)} as JSON ({stage})", report)
        indices = list(pending)
        requests = [GenerationRequest(pending[i], settings.params(i, attempt)) for i in indices]
        replies = await backend.generate(requests)
        for index, reply in zip(indices, replies):
            outcome = report.outcomes[index]
            result = build_or_error(build, reply, index)
            if isinstance(result, str):
                outcome.attempts.append(Attempt(stage, reply.text, result))
                # Only the latest failure is fed back: the prompt stays short for small models.
                pending[index] = [
                    *conversations[index],
                    {"role": "assistant", "content": reply.text},
                    {"role": "user", "content": prompts.RETRY_FEEDBACK.format(error=result)},
                ]
            else:
                outcome.attempts.append(Attempt(stage, reply.text))
                outcome.record = result
                del pending[index]
    if on_progress:
        on_progress("JSON drafts done", report)


# -- single text fields -------------------------------------------------------------------------------

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+")
LABEL = re.compile(r"^\s*(?:title|setting|goal|secret|answer|text|background)\s*:\s*", re.IGNORECASE)


def clean_text(raw: str, sentences: int) -> str:
    """The usable part of a free-text reply: its first paragraph, at most `sentences` whole sentences.

    A trailing fragment cut off by the token limit is dropped when a whole sentence precedes it.
    """
    text = raw.strip().split("\n\n")[0]
    # One sentence asked for: the first line is the answer (a small model runs on with another).
    text = text.split("\n")[0] if sentences == 1 else text.replace("\n", " ")
    text = LABEL.sub("", text).strip().strip('"').strip("'").strip()
    parts = [part.strip() for part in SENTENCE_END.split(text) if part.strip()]
    if not parts:
        return ""
    kept = parts[:sentences]
    if len(kept) > 1 and not kept[-1].endswith((".", "!", "?")):
        kept = kept[:-1]
    return " ".join(kept)


@dataclass
class TextRequest:
    key: tuple  # caller's key, e.g. (draft index, "setting"); its last item names the field
    messages: list[ChatMessage]
    sentences: int = 2
    max_new_tokens: int | None = None
    stop: tuple[str, ...] = ()
    words: tuple[int, int] = (3, 80)  # fewest and most words a usable text has
    avoid: tuple[str, ...] = ()  # texts this one must not repeat (small models echo their prompt)


ECHO_RATIO = 0.7
LATIN_SHARE = 0.8  # of a text's letters; leaves room for names like "Señora" or "Müller"
COPIED_RUN = 6  # words in a row shared with a text to avoid: a copy, not a coincidence
# Scenarios and personas are written in English; a text with hardly any of its commonest words is
# in another language (the embedded model drifts into Spanish or Japanese when adapting).
ENGLISH_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "this",
        "that",
        "not",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "they",
        "their",
        "them",
        "who",
        "what",
        "as",
        "but",
    ]
)
ENGLISH_SHARE = 0.12


def text_problem(text: str, request: TextRequest) -> str | None:
    """Why a cleaned reply cannot be used for the field, or None."""
    if not text:
        return "empty reply"
    fewest, most = request.words
    count = len(text.split())
    if not fewest <= count <= most:
        return f"{count} words, expected {fewest} to {most}"
    for other in request.avoid:  # first: an echo of the facts also reads as "not English"
        if other and (
            SequenceMatcher(None, text.lower(), other.lower()).ratio() > ECHO_RATIO
            or _shingles(text) & _shingles(other)
        ):
            return f"repeats '{other[:60]}'"
    lowered = text.lower()
    if any(echo in lowered for echo in prompts.INSTRUCTION_ECHOES):
        return "repeats the instructions"
    letters = [char for char in text if char.isalpha()]
    if letters and sum(char.isascii() for char in letters) < LATIN_SHARE * len(letters):
        return "not written in English"
    if "{" in text or "}" in text:  # would read as (unknown) placeholders: scenarios/placeholders.py
        return "contains braces"
    if count >= 6 and sum(word in ENGLISH_WORDS for word in _words(text)) < ENGLISH_SHARE * count:
        return "not written in English"
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + COPIED_RUN]) for i in range(len(words) - COPIED_RUN + 1)}


async def write_texts(
    backend: Backend, requests: Sequence[TextRequest], settings: DraftSettings
) -> dict[tuple, tuple[str | None, list[Attempt]]]:
    """Each request's cleaned text (None where every try was unusable), one batched call per round."""
    results: dict[tuple, tuple[str | None, list[Attempt]]] = {r.key: (None, []) for r in requests}
    pending = list(enumerate(requests))
    for attempt in range(settings.retries + 1):
        if not pending:
            break
        calls = [
            GenerationRequest(
                r.messages,
                settings.params(i, 100 + attempt, r.max_new_tokens or settings.field_tokens, stop=r.stop),
            )
            for i, r in pending
        ]
        replies = await backend.generate(calls)
        still = []
        for (i, request), reply in zip(pending, replies):
            text = clean_text(reply.text, request.sentences)
            problem = text_problem(text, request)
            attempts = results[request.key][1]
            attempts.append(Attempt(f"fields: {request.key[-1]}", reply.text, problem))
            if problem:
                still.append((i, request))
            else:
                results[request.key] = (text, attempts)
        pending = still
    return results
