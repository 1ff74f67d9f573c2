"""Personas drawn from a culture's demographics and fleshed out by a model.

`personas.sampler.sample_personas` draws the facts (name, age, gender, occupation, education,
settlement, marital status, household) from the culture's distributions; the model writes what
the sampler can only template: background, personality, values and secret. The facts are never
the model's to change. A draft is accepted only when it validates as a `Persona`, like a
hand-written one, with all five Big Five traits at low/medium/high and values taken from the ten
Schwartz values the sampler uses.

Field by field (the fallback): background and secret are written one text at a time; the
personality levels and the values are read from the model's probabilities over the allowed
answers, which a model of any size gives.
"""

from __future__ import annotations

from personas.prompts import BIG_FIVE, VALUE_WORDS
from personas.sampler import sample_personas
from personas.schema import CultureProfile, Persona
from simulator.backends.base import Backend, OptionScoringRequest
from simulator.design import prompts
from simulator.design.drafting import (
    DesignReport,
    DraftError,
    DraftSettings,
    ProgressCallback,
    TextRequest,
    draft_json,
    write_texts,
)

MAX_VALUES = 3
FIELD_VALUES = 2  # values picked in the field-by-field fallback (the sampler draws 2 or 3)
BASELINE = -1  # the key of the content-free profile that option scores are calibrated against


def generated_id(culture: CultureProfile, seed: int, index: int) -> str:
    # `g` (generated) rather than the sampler's `s`: both may live in one library.
    return f"{culture.id}-g{seed}-{index:03d}"


def skeletons(culture: CultureProfile, n: int, seed: int, source: str) -> list[Persona]:
    """The sampled facts, with the sampler's templated texts removed and the model named."""
    result = []
    for index, sampled in enumerate(sample_personas(culture, n, seed), start=1):
        data = sampled.model_dump() | {
            "id": generated_id(culture, seed, index),
            "background": "",
            "personality": {},
            "values": [],
            "secret": "",
            "extra": sampled.extra | {"generated_by": source},
        }
        result.append(Persona.model_validate(data))
    return result


def _normalised_values(values: object) -> list[str]:
    if not isinstance(values, list) or not values:
        raise DraftError(f"values: expected a list of 1 to {MAX_VALUES} of: {', '.join(VALUE_WORDS)}")
    chosen = []
    for value in values:
        word = str(value).strip().lower().replace(" ", "-")
        if word not in VALUE_WORDS:
            raise DraftError(f"values: '{value}' is not one of: {', '.join(VALUE_WORDS)}")
        if word not in chosen:
            chosen.append(word)
    if len(chosen) > MAX_VALUES:
        raise DraftError(f"values: at most {MAX_VALUES}, got {len(chosen)}")
    return chosen


def _normalised_personality(personality: object) -> dict[str, str]:
    if not isinstance(personality, dict):
        raise DraftError(f"personality: expected an object with {', '.join(BIG_FIVE)}")
    levels = {str(trait).strip().lower(): str(level).strip().lower() for trait, level in personality.items()}
    missing = [trait for trait in BIG_FIVE if trait not in levels]
    extra = [trait for trait in levels if trait not in BIG_FIVE]
    if missing or extra:
        raise DraftError(
            f"personality: expected exactly {', '.join(BIG_FIVE)} (missing {missing}, unknown {extra})"
        )
    return levels  # levels other than low/medium/high are refused by the Persona schema


def _text(data: dict, field: str, fewest_words: int) -> str:
    value = data.get(field)
    if not isinstance(value, str) or len(value.split()) < fewest_words:
        raise DraftError(f"{field}: expected text of at least {fewest_words} words")
    return value


def complete(
    skeleton: Persona, background: str, personality: dict, values: list[str], secret: str
) -> Persona:
    return Persona.model_validate(
        skeleton.model_dump()
        | {"background": background, "personality": personality, "values": values, "secret": secret}
    )


class PersonaBuilder:
    def __init__(self, persona_skeletons: list[Persona]):
        self.skeletons = persona_skeletons

    def __call__(self, data: dict, index: int) -> Persona:
        unknown = sorted(set(data) - set(prompts.PERSONA_FIELDS))
        if unknown:
            raise DraftError(f"unknown fields {unknown}; write only {', '.join(prompts.PERSONA_FIELDS)}")
        return complete(
            self.skeletons[index],
            _text(data, "background", 8),
            _normalised_personality(data.get("personality")),
            _normalised_values(data.get("values")),
            _text(data, "secret", 4),
        )


async def generate_personas(
    backend: Backend,
    culture: CultureProfile,
    n: int,
    example: Persona,
    settings: DraftSettings,
    on_progress: ProgressCallback | None = None,
) -> DesignReport:
    people = skeletons(culture, n, settings.seed, backend.model_id)
    build = PersonaBuilder(people)
    report: DesignReport[Persona] = DesignReport.empty(n)
    use_json, use_fields = settings.stages(backend)
    if use_json:
        conversations = [prompts.persona_conversation(person, culture, example) for person in people]
        await draft_json(backend, conversations, build, settings, report, on_progress)
    failed = [o.index for o in report.outcomes if not o.ok]
    if failed and use_fields:
        if on_progress:
            on_progress(f"fleshing out {len(failed)} persona(s) field by field", report)
        await _personas_by_fields(backend, people, failed, example, report, settings)
    return report


async def _personas_by_fields(
    backend: Backend,
    people: list[Persona],
    indices: list[int],
    example: Persona,
    report: DesignReport,
    settings: DraftSettings,
) -> None:
    description = prompts.field_description(Persona.model_json_schema(), "background")
    system = prompts.PERSONA_FIELD_SYSTEM

    def background_question(who: Persona) -> str:
        return prompts.PERSONA_BACKGROUND_PROMPT.format(
            facts=prompts.persona_facts(who), description=description, name=who.name
        )

    requests = []
    for i in indices:
        person, facts = people[i], prompts.persona_facts(people[i])
        messages = prompts.one_shot(
            system, background_question(example), example.background, background_question(person)
        )
        avoid = (example.background, facts)  # small models copy the example or recite the facts
        requests.append(TextRequest((i, "background"), messages, 3, words=(8, 90), avoid=avoid))
        secret_question = prompts.PERSONA_SECRET_PROMPT.format(facts=facts, name=person.name)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": secret_question}]
        requests.append(TextRequest((i, "secret"), messages, 1, words=(4, 50), avoid=(example.secret, facts)))
    found = await write_texts(backend, requests, settings)

    written: dict[int, dict[str, str]] = {}
    for i in indices:
        texts = {}
        for field in ("background", "secret"):
            text, attempts = found[(i, field)]
            report.outcomes[i].attempts.extend(attempts)
            texts[field] = text
        if None not in texts.values():
            written[i] = texts  # type: ignore[assignment]
    profiles = {
        i: (people[i].name, f"{prompts.persona_facts(people[i])} {written[i]['background']}") for i in written
    }
    chosen = await traits_and_values(backend, profiles)
    for i, texts in written.items():
        personality, values = chosen[i]
        report.outcomes[i].record = complete(
            people[i], texts["background"], personality, values, texts["secret"]
        )


async def traits_and_values(
    backend: Backend, profiles: dict[int, tuple[str, str]]
) -> dict[int, tuple[dict[str, str], list[str]]]:
    """Big Five levels and values of each (name, description), read from option probabilities.

    Calibrated against the same questions about nobody in particular (contextual calibration, Zhao
    et al. 2021): uncalibrated, a small model's standing preference for one answer gives every
    persona the same profile (measured: all five traits 'low' for every German persona).
    """
    value_words = list(VALUE_WORDS)
    value_options = ", ".join(value_words)
    questions: list[tuple[tuple, str, list[str]]] = []
    people = [*profiles.items(), (BASELINE, (prompts.NOBODY_NAME, prompts.NOBODY))]
    for key, (name, about) in people:
        for trait in BIG_FIVE:
            question = prompts.TRAIT_PROMPT.format(facts=about, name=name, trait=trait)
            questions.append(((key, trait), question, list(prompts.TRAIT_LEVELS)))
        question = prompts.VALUE_PROMPT.format(facts=about, name=name, options=value_options)
        questions.append(((key, "values"), question, value_words))
    scores = await backend.score_options(
        [
            OptionScoringRequest(
                [
                    {"role": "system", "content": prompts.PERSONA_FIELD_SYSTEM},
                    {"role": "user", "content": question},
                ],
                options,
            )
            for _, question, options in questions
        ]
    )
    logprobs = {key: score.logprobs for (key, _, _), score in zip(questions, scores)}

    def calibrated(key: int, field: str) -> list[float]:
        return [own - base for own, base in zip(logprobs[(key, field)], logprobs[(BASELINE, field)])]

    chosen = {}
    for key in profiles:
        personality = {}
        for trait in BIG_FIVE:
            levels = calibrated(key, trait)
            personality[trait] = prompts.TRAIT_LEVELS[max(range(len(levels)), key=levels.__getitem__)]
        ranked = sorted(range(len(value_words)), key=calibrated(key, "values").__getitem__, reverse=True)
        chosen[key] = (personality, [value_words[k] for k in ranked[:FIELD_VALUES]])
    return chosen
