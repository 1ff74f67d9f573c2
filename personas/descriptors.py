"""Prompt descriptors derived from a culture's scores ("highly individualistic", ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from personas.schema import CultureProfile

# (low phrase, high phrase) per Hofstede dimension; the middle band gets "moderately ..." of neither.
HOFSTEDE_PHRASES: dict[str, tuple[str, str, str]] = {
    "power_distance": (
        "people expect power to be shared and question authority openly",
        "hierarchy is respected and people defer to seniors and superiors",
        "moderate respect for hierarchy",
    ),
    "individualism": (
        "collectivist: loyalty to family and group comes before personal wishes",
        "individualistic: people look after themselves and speak for themselves",
        "a balance of personal and group loyalty",
    ),
    "masculinity": (
        "consensus-oriented: caring for others and quality of life matter more than winning",
        "achievement-oriented: success, competition and status matter a great deal",
        "a balance of ambition and caring",
    ),
    "uncertainty_avoidance": (
        "relaxed about ambiguity, rules and plans are flexible",
        "uncomfortable with ambiguity: rules, plans and punctuality matter",
        "some preference for clear rules",
    ),
    "long_term_orientation": (
        "normative: tradition and quick results are valued over long-term planning",
        "pragmatic and long-term oriented: thrift, perseverance and adapting traditions",
        "both tradition and long-term pragmatism",
    ),
    "indulgence": (
        "restrained: gratification is held back by strict social norms",
        "indulgent: enjoying life and having fun are valued",
        "moderate restraint",
    ),
}

LOW, HIGH = 40, 60


def level(score: float) -> str:
    return "low" if score < LOW else "high" if score > HIGH else "medium"


def culture_descriptors(culture: CultureProfile) -> list[str]:
    phrases = []
    for dimension, (low_phrase, high_phrase, middle_phrase) in HOFSTEDE_PHRASES.items():
        score = getattr(culture.hofstede, dimension)
        band = level(score)
        phrase = low_phrase if band == "low" else high_phrase if band == "high" else middle_phrase
        intensity = "strongly " if abs(score - 50) >= 35 else ""
        phrases.append(f"{intensity}{phrase}" if band != "medium" else phrase)
    iw = culture.inglehart_welzel
    phrases.append(
        "secular-rational values (religion and tradition matter less)"
        if iw.traditional_secular > 0.3
        else "traditional values (religion, family and national pride matter)"
        if iw.traditional_secular < -0.3
        else "a mix of traditional and secular values"
    )
    phrases.append(
        "self-expression values (trust, tolerance, personal freedom)"
        if iw.survival_self_expression > 0.3
        else "survival values (economic and physical security come first)"
        if iw.survival_self_expression < -0.3
        else "a mix of survival and self-expression values"
    )
    return phrases
