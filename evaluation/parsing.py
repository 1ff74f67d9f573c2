"""Reading an answer out of free text: the generate-then-parse approach (as in the CLCA code).

The suites do not use it (they score the options' likelihood); the throughput benchmark compares the
two approaches on the same items, and parsing failures are exactly what it counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

INTEGER = re.compile(r"(?<![\d.])-?\d+(?!\.?\d)")
SCORE_FIELD = re.compile(r"score\W{0,4}?(-?\d+)", re.I)
LETTER = re.compile(r"^\W*([A-Z])(?:\W|$)")


def parse_scale_reply(text: str, low: int, high: int, labels: Sequence[str | None] = ()) -> int | None:
    """A `"score": N` field if there is one; else the first whole number on the scale; else the longest
    scale label the reply mentions."""
    field = SCORE_FIELD.search(text)
    if field and low <= int(field.group(1)) <= high:
        return int(field.group(1))
    for match in INTEGER.finditer(text):
        value = int(match.group())
        if low <= value <= high:
            return value
    lowered = text.casefold()
    # Longest first: "not very important" must win over the "very important" it contains.
    named = sorted(((label, low + i) for i, label in enumerate(labels) if label), key=lambda p: -len(p[0]))
    for label, code in named:
        if label.casefold() in lowered:
            return code
    return None


def parse_option_reply(text: str, options: Sequence[str]) -> int | None:
    """The index of the option a reply names, by its letter (A, B, ...) or by its text."""
    match = LETTER.match(text.strip())
    if match and ord(match.group(1)) - ord("A") < len(options):
        return ord(match.group(1)) - ord("A")
    lowered = text.casefold()
    ranked = sorted(range(len(options)), key=lambda i: -len(options[i]))
    return next((i for i in ranked if options[i].casefold() in lowered), None)
