"""The personas wing's words: value names, background templates and secrets for sampled personas.

Written for this project. Everything a sampled persona says about itself comes from here, so the
wording can be reviewed (and translated) in one place.
"""

from __future__ import annotations

# Schwartz's ten basic values, as short words a persona can "hold".
VALUE_WORDS: dict[str, str] = {
    "self-direction": "thinking and choosing for oneself",
    "stimulation": "excitement, novelty and challenge",
    "hedonism": "pleasure and enjoying life",
    "achievement": "personal success through competence",
    "power": "status, prestige and control over people and resources",
    "security": "safety and stability of society, relationships and self",
    "conformity": "restraint of actions that might upset others or break expectations",
    "tradition": "respect for customs and the ideas of one's culture or religion",
    "benevolence": "caring for the people one is close to",
    "universalism": "understanding and tolerance for all people and for nature",
}

BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")

# {name} {age} {a_occupation} {place} {pronoun} {life} {schooling} {values}
BACKGROUND_TEMPLATES: tuple[str, ...] = (
    "{name} is {age} and works as {a_occupation} in {place}. {pronoun} {life}, and {schooling}. "
    "{pronoun} cares most about {values}.",
    "{name}, {age}, lives in {place} and works as {a_occupation}. {pronoun} {life}; {schooling}. "
    "Friends know {object} for valuing {values}.",
    "A {age}-year-old from {place}, {name} works as {a_occupation}. {pronoun} {life}, {schooling}, "
    "and puts {values} first.",
)
# Used instead when the "occupation" is a situation rather than a job (students, retirees, ...).
BACKGROUND_TEMPLATES_NOT_WORKING: tuple[str, ...] = (
    "{name} is {age}, lives in {place} and is {a_occupation}. {pronoun} {life}, and {schooling}. "
    "{pronoun} cares most about {values}.",
    "{name}, {age}, {a_occupation}, lives in {place}. {pronoun} {life}; {schooling}. "
    "Friends know {object} for valuing {values}.",
)

RURAL_PLACE = "a small town outside {city}"

PRONOUNS = {"woman": ("She", "her"), "man": ("He", "him")}
NEUTRAL_PRONOUNS = ("They", "them")

MARITAL_PHRASES = {
    "single": "is single",
    "married": "is married",
    "cohabiting": "has a live-in partner",
    "divorced": "is divorced",
    "widowed": "is widowed",
}

HOUSEHOLD_PHRASES = {
    "1": "lives alone",
    "2": "shares a home with one other person",
    "3": "lives in a household of three",
    "4": "lives in a household of four",
    "5+": "lives in a big household of five or more",
}

EDUCATION_PHRASES = {
    "below upper secondary": "left school before finishing upper secondary",
    "upper secondary": "finished upper secondary school or a vocational training",
    "tertiary": "has a university or college degree",
}

# Generic secrets: true for anyone, anywhere, and something a person would not say unprompted.
SECRETS: tuple[str, ...] = (
    "has been quietly looking for another job",
    "borrowed money from a relative and has not paid it back",
    "failed an important exam years ago and never told the family",
    "is much more worried about money than anyone suspects",
    "has a health problem that nobody at work knows about",
    "secretly dislikes a gift from a close friend but uses it when the friend visits",
    "once took credit for a colleague's idea",
    "is thinking about moving to another city",
    "forgot a close friend's birthday this year and made up an excuse",
    "has been avoiding a neighbour after a small argument",
    "lost a large amount of money on a bad investment",
    "is applying for a course without telling the family",
    "does not get along with a sibling and hides it at family gatherings",
    "broke something valuable at a friend's house and never admitted it",
    "is in love with someone the family would not approve of",
    "quietly sends money every month to a relative in need",
    "lied on a CV about a qualification",
    "is planning a surprise for someone close and is bad at keeping it quiet",
    "finds a demanding parent exhausting but never says so",
    "has a second income the family does not know about",
)


def values_phrase(values: list[str]) -> str:
    if not values:
        return "getting along with people"
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " and " + values[-1]


def with_article(noun_phrase: str) -> str:
    """'an engineer', 'a teacher', 'an NHS doctor'; situations ('between jobs') stay as they are."""
    first_word = noun_phrase.split(" ", 1)[0]
    if first_word.lower() in SITUATION_WORDS:
        return noun_phrase
    if first_word.isupper() and len(first_word) > 1:  # an acronym is read letter by letter
        vowel_sound = first_word[0] in "AEFHILMNORSX"
    else:
        lowered = first_word.lower()
        vowel_sound = lowered[:1] in "aeiou" and not lowered.startswith(("uni", "use", "eu", "one"))
    return f"{'an' if vowel_sound else 'a'} {noun_phrase}"


# First words of occupations that describe a situation and take no article ("is between jobs").
SITUATION_WORDS = ("looking", "between", "out", "caring")
