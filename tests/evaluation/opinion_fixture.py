"""A tiny opinion file in the GlobalOpinionQA layout, written for these tests (not survey data)."""

from __future__ import annotations

import json
from pathlib import Path

ITEMS = [
    {
        "country": "Testland",
        "question": "Should towns spend more on public libraries?",
        "options": ["Yes, much more", "A little more", "No more than now", "Don't know"],
        "distribution": [0.3, 0.4, 0.2, 0.1],
    },
    {
        "country": "Otherland",
        "question": "Should towns spend more on public libraries?",
        "options": ["Yes, much more", "A little more", "No more than now", "Don't know"],
        "distribution": [0.1, 0.2, 0.6, 0.1],
    },
    {
        "country": "Testland",
        "question": "On a scale of 0 to 3, how much do you enjoy winter? 0 means not at all, 3 means very much.",
        "options": ["Not at all", 1.0, 2.0, "Very much", "DK/Refused"],
        "distribution": [0.1, 0.2, 0.3, 0.35, 0.05],
    },
    {
        "country": "Testland",
        "question": "Which season do you prefer?",
        "options": ["Summer", "Winter", "No answer"],
        "distribution": [0.0, 0.0, 0.0],
    },
    {
        "country": "Testland",
        "question": "Is it acceptable to arrive late to a dinner invitation?",
        "options": ["Acceptable", "Not acceptable"],
        "distribution": [0.25, 0.75],
    },
]


def write_opinions(path: Path, items: list[dict] | None = None) -> Path:
    path.write_text(json.dumps(ITEMS if items is None else items), encoding="utf-8")
    return path
