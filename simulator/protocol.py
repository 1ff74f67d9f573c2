"""The turn protocol: who speaks next, what an action is, and how a raw model reply becomes one.

A small model writes junk around its turn: its own name as a prefix, quotes, the other side's next
line, three paragraphs, stage directions. `parse_reply` keeps the first short turn of the speaker
and classifies it as one of the four actions (speak, non-verbal, leave, none). It is pure and
idempotent on its own output, so the canonical rendering can be parsed again safely.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.records import Action

ACTIONS: tuple[Action, ...] = ("speak", "non-verbal", "leave", "none")
MAX_SENTENCES = 3
MAX_CHARS = 400

# Chat-template debris and the start of a new turn written by the model itself.
_SPECIAL_TOKEN = re.compile(r"<\|[^|>]*\|>|</?s>|\[/?INST\]")
_TURN_MARKERS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>")
_GENERIC_SPEAKERS = ("user", "assistant", "system", "human", "ai", "narrator", "me", "you")
_QUOTES = "\"'“”‘’«»「」"
# A whole reply that is only a stage direction: *smiles*, (nods), [shrugs], _waves_.
_STAGE_ONLY = re.compile(r"^\s*(?:\*+([^*]+)\*+|\(([^()]+)\)|\[([^\[\]]+)\]|_([^_]+)_)\s*$")
_LEAVE_MARKER = re.compile(
    r"[\[(*]\s*(?:leave|leaves|leaving|exit|exits|left)(?:\s+the\s+(?:conversation|room|chat))?\s*[\])*]"
    r"|[*(\[][^*()\[\]]{0,60}\b(?:leaves|walks away|walks off|exits|heads out|storms off|departs)\b[^*()\[\]]{0,40}[*)\]]",
    re.IGNORECASE,
)
_LEAVE_WORDS = re.compile(r"^(?:i\s+)?(?:leave|leaves|exit|exits|walks away)[.!]?$", re.IGNORECASE)
# "Goodbye and leaves." / "See you, then walks away": narration of leaving at the end of a reply.
_LEAVE_NARRATION = re.compile(
    r"[,;]?\s*\b(?:and|then)\s+(?:leaves|walks away|walks off|exits|heads out|departs)\b[^.!?]*[.!?]?\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)])\s+")


@dataclass(frozen=True)
class ParsedReply:
    action: Action
    text: str

    def canonical(self) -> str:
        """How the reply is remembered in the speaker's own context (parses back to itself)."""
        if self.action == "non-verbal":
            return f"*{self.text}*"
        if self.action == "leave":
            return f"{self.text} [leave]".strip()
        return self.text


def speaker_order(n_participants: int, max_turns: int) -> list[int]:
    """Round-robin over the roles: the first role opens, every participant speaks in turn."""
    if n_participants < 1:
        raise ValueError("an episode needs at least one participant")
    return [turn % n_participants for turn in range(max_turns)]


def name_variants(name: str) -> list[str]:
    """'Hana Sato' -> ['Hana Sato', 'Hana', 'Sato']: ways a model may label a speaker."""
    parts = [part for part in re.split(r"\s+", name.strip()) if len(part) > 1]
    variants = [name.strip(), *parts]
    return list(dict.fromkeys(v for v in variants if v))


def parse_reply(raw: str, own_name: str, other_names: Sequence[str] = ()) -> ParsedReply:
    """The speaker's first short turn in `raw`, classified as an action."""
    text = _cut_turn_markers(raw)
    # A leading label is dropped even when it names someone else: the model mislabelled its own line.
    labels = [own_name, *other_names]
    text = _strip_leading_labels(text, labels)
    text = _cut_at_next_speaker(text, own_name, other_names)
    text = _first_paragraph(text)
    text = _strip_leading_labels(text, labels)  # again: the label may follow a quote or markdown
    text = _strip_quotes(text)
    if not text:
        return ParsedReply("none", "")

    leave = _LEAVE_MARKER.search(text) or _LEAVE_NARRATION.search(text)
    if leave or _LEAVE_WORDS.match(text):
        before = text[: leave.start()] if leave else ""
        return ParsedReply("leave", _strip_quotes(_first_sentences(before)))

    stage = _STAGE_ONLY.match(text)
    if stage:
        gesture = next(group for group in stage.groups() if group is not None).strip()
        if gesture.lower() in ("none", "silence", "no response", "nothing", "says nothing"):
            return ParsedReply("none", "")
        return ParsedReply("non-verbal", gesture)

    spoken = _first_sentences(text)
    if not spoken or not re.search(r"\w", spoken):
        return ParsedReply("none", "")
    return ParsedReply("speak", spoken)


def _cut_turn_markers(text: str) -> str:
    for marker in _TURN_MARKERS:
        text = text.split(marker, 1)[0]
    return _SPECIAL_TOKEN.sub("", text).replace("\r", "").strip()


def _label_pattern(names: Sequence[str]) -> str:
    escaped = sorted({re.escape(n) for n in names if n}, key=len, reverse=True)
    return "|".join(escaped)


def _strip_leading_labels(text: str, names: Sequence[str]) -> str:
    """Remove 'Hana:', '**Hana Sato:**', 'Assistant:' and similar labels at the start, repeatedly."""
    labels = _label_pattern([*(v for name in names for v in name_variants(name)), *_GENERIC_SPEAKERS])
    prefix = re.compile(
        rf"^\s*[*_\"“]*\s*(?:{labels})\s*(?:\([^)]*\))?\s*[*_]*\s*[:：][*_]*\s*", re.IGNORECASE
    )
    for _ in range(3):
        stripped = prefix.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def _cut_at_next_speaker(text: str, own_name: str, other_names: Sequence[str]) -> str:
    """Stop where the model starts writing someone's next line ('Kenji:' or a fresh 'Hana:')."""
    others = _label_pattern([v for other in other_names for v in name_variants(other)])
    own = _label_pattern([*name_variants(own_name), *_GENERIC_SPEAKERS])
    label = r"\s*[*_\"“]*\s*(?:{})\s*[*_]*\s*[:：]"
    # Another participant's label anywhere; our own or a generic one only where a new line could start.
    patterns = [rf"(?:^|(?<=\W)){label.format(others)}"] if others else []
    patterns.append(rf"(?:^|\n|(?<=[.!?\"”')\]*]\s)){label.format(own)}")
    cut = len(text)
    for pattern in patterns:
        match = re.compile(pattern, re.IGNORECASE).search(text, 1)
        if match:
            cut = min(cut, match.start())
    return text[:cut].strip()


def _first_paragraph(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if not paragraphs:
        return ""
    return re.sub(r"\s*\n\s*", " ", paragraphs[0])


def _strip_quotes(text: str) -> str:
    text = text.strip()
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    if text.count('"') == 1:  # an unbalanced quote left by a cut
        text = text.replace('"', "").strip()
    return text


def _first_sentences(text: str, limit: int = MAX_SENTENCES) -> str:
    sentences = _SENTENCE_END.split(text.strip())
    kept = " ".join(s.strip() for s in sentences[:limit] if s.strip())
    if len(kept) > MAX_CHARS:  # one endless sentence: cut at a word boundary
        kept = kept[:MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return kept
