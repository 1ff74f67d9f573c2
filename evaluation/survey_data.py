"""A small survey set the project generates itself, so the WVS suite runs without licensed data.

It is written in the WorldValuesBench layout (see `evaluation.wvs_data`) and is *synthetic*: ten value
questions worded by this project in the WVS style, answered by respondents drawn from a culture
profile. It tests the machinery and gives culture-dependent targets; it is not survey evidence.

Generative model, per respondent (deterministic for a seed):
1. Demographics are drawn from the culture's demographic weights (age band then a uniform age in it,
   gender, education, settlement, marital status, occupation group, household size).
2. Each question is driven by one culture score: a Hofstede dimension, normalised (score - 50) / 50,
   or an Inglehart-Welzel axis, normalised value / 2 (both clipped to [-1, 1]).
3. The respondent's latent position = that score + demographic shifts (DEMOGRAPHIC_EFFECTS: education
   rank, age and urban living move secular / self-expression values, as in the WVS literature) +
   Gaussian noise (sd NOISE_SD).
4. The expected scale point is mu = midpoint + direction * latent * half-range; the answer is drawn from
   p(k) proportional to exp(-(k - mu)^2 / (2 w^2)) with w = 0.6 + 0.1 * (scale range).
5. With probability MISSING_RATE an answer is recorded as -1 ("don't know"), which evaluation skips.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from personas.schema import CultureProfile

SPLIT = "full"
NOISE_SD = 0.4
MISSING_RATE = 0.03

AGREE_4 = ("Strongly agree", "Agree", "Disagree", "Strongly disagree")
AGREE_5 = ("Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree")
IMPORTANT_4 = ("Very important", "Rather important", "Not very important", "Not at all important")


@dataclass(frozen=True)
class GeneratedQuestion:
    id: str
    text: str
    labels: tuple[str, ...]
    driver: str  # a Hofstede dimension or an Inglehart-Welzel axis of CultureProfile
    direction: int  # +1: a higher driver score moves the answer towards the high end of the scale
    category: str
    low: int = 1

    @property
    def high(self) -> int:
        return self.low + len(self.labels) - 1


def _scale_text(low: int, labels: tuple[str, ...], question: str) -> str:
    high = low + len(labels) - 1
    return f"On a scale of {low} to {high}, {low} meaning '{labels[0]}' and {high} meaning '{labels[-1]}', {question}"


QUESTIONS: tuple[GeneratedQuestion, ...] = (
    GeneratedQuestion(
        "CS01",
        _scale_text(
            1,
            IMPORTANT_4,
            "how important is it to you to keep the customs and celebrations your family has handed down?",
        ),
        IMPORTANT_4,
        "traditional_secular",
        +1,
        "Social Values, Norms, Stereotypes",
    ),
    GeneratedQuestion(
        "CS02",
        _scale_text(
            1,
            AGREE_4,
            "how much do you agree that young people should accept their elders' decisions without arguing?",
        ),
        AGREE_4,
        "power_distance",
        -1,
        "Social Values, Norms, Stereotypes",
    ),
    GeneratedQuestion(
        "CS03",
        _scale_text(
            1,
            ("Most strangers can be relied on", "It is wiser to be cautious with strangers"),
            "which comes closer to your view?",
        ),
        ("Most strangers can be relied on", "It is wiser to be cautious with strangers"),
        "survival_self_expression",
        -1,
        "Social Capital, Trust and Organizational Membership",
    ),
    GeneratedQuestion(
        "CS04",
        _scale_text(
            1,
            AGREE_4,
            "how much do you agree that it is better to go along with your group than to insist on your own opinion?",
        ),
        AGREE_4,
        "individualism",
        +1,
        "Social Values, Norms, Stereotypes",
    ),
    GeneratedQuestion(
        "CS05",
        _scale_text(
            1, AGREE_5, "how much do you agree that clear rules and detailed plans make you feel at ease?"
        ),
        AGREE_5,
        "uncertainty_avoidance",
        -1,
        "Perceptions of Security",
    ),
    GeneratedQuestion(
        "CS06",
        _scale_text(
            1,
            IMPORTANT_4,
            "how important is it to put money aside for the years ahead, even if it means going without today?",
        ),
        IMPORTANT_4,
        "long_term_orientation",
        -1,
        "Economic Values",
    ),
    GeneratedQuestion(
        "CS07",
        _scale_text(
            1, IMPORTANT_4, "how important in your life is free time spent enjoying yourself with friends?"
        ),
        IMPORTANT_4,
        "indulgence",
        -1,
        "Happiness and Wellbeing",
    ),
    GeneratedQuestion(
        "CS08",
        _scale_text(
            1, AGREE_4, "how much do you agree that coming first matters more than simply taking part?"
        ),
        AGREE_4,
        "masculinity",
        -1,
        "Social Values, Norms, Stereotypes",
    ),
    GeneratedQuestion(
        "CS09",
        _scale_text(1, IMPORTANT_4, "how important is religious faith in your everyday life?"),
        IMPORTANT_4,
        "traditional_secular",
        +1,
        "Religious Values",
    ),
    GeneratedQuestion(
        "CS10",
        _scale_text(
            0,
            ("Never", "Once", "More than once"),
            "how often in the past year have you signed a petition or spoken up at a public meeting?",
        ),
        ("Never", "Once", "More than once"),
        "survival_self_expression",
        +1,
        "Political Interest and Political Participation",
        low=0,
    ),
)

# Shift of the latent position per unit of (education rank - 0.5, (age - 45) / 25, urban) by driver.
DEMOGRAPHIC_EFFECTS: dict[str, dict[str, float]] = {
    "traditional_secular": {"education": 0.3, "age": -0.25, "urban": 0.15},
    "survival_self_expression": {"education": 0.3, "age": -0.15, "urban": 0.1},
    "individualism": {"education": 0.2, "age": -0.15, "urban": 0.1},
    "power_distance": {"education": -0.2, "age": 0.2},
    "indulgence": {"age": -0.25},
    "long_term_orientation": {"age": 0.1},
}

# (column id, question wording of this project, respondent field)
DEMOGRAPHIC_COLUMNS = (
    ("B_COUNTRY", "Which country do you live in?", "country"),
    ("H_URBRURAL", "Do you live in an urban or a rural area?", "settlement"),
    ("Q260", "What is your gender?", "gender"),
    ("Q262", "What is your age in years?", "age"),
    ("Q273", "What is your marital status?", "marital_status"),
    ("Q275", "What is your highest level of education?", "education"),
    ("Q281", "What kind of work do you do?", "occupation_group"),
    ("Q270", "How many people live in your household?", "household_size"),
)


def driver_score(culture: CultureProfile, driver: str) -> float:
    """The driving culture score on a common [-1, 1] scale."""
    if hasattr(culture.hofstede, driver):
        value = (getattr(culture.hofstede, driver) - 50) / 50
    else:
        value = getattr(culture.inglehart_welzel, driver) / 2
    return max(-1.0, min(1.0, value))


def answer_probabilities(question: GeneratedQuestion, latent: float) -> list[float]:
    half_range = (question.high - question.low) / 2
    mu = question.low + half_range + question.direction * latent * half_range
    width = 0.6 + 0.1 * (question.high - question.low)
    weights = [math.exp(-((k - mu) ** 2) / (2 * width**2)) for k in range(question.low, question.high + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def sample_demographics(culture: CultureProfile, rng: random.Random) -> dict[str, str | int | float]:
    demo = culture.demographics
    low, _, high = _weighted(rng, demo.age_bands).partition("-")
    age = rng.randint(int(low), int(high))
    education = _weighted(rng, demo.education)
    settlement = _weighted(rng, demo.settlement)
    return {
        "country": culture.country,
        "settlement": settlement.capitalize(),
        "gender": _weighted(rng, demo.gender).capitalize(),
        "age": age,
        "marital_status": _weighted(rng, demo.marital_status),
        "education": education,
        "occupation_group": _weighted(rng, demo.occupation_groups).replace("_", " "),
        "household_size": _weighted(rng, demo.household_size),
        # Features of the generative model (not written out): education rank in the listed order.
        "_education": list(demo.education).index(education) / max(len(demo.education) - 1, 1) - 0.5,
        "_age": (age - 45) / 25,
        "_urban": 1.0 if "urban" in settlement.casefold() or "city" in settlement.casefold() else 0.0,
    }


def generate_answers(culture: CultureProfile, person: dict, rng: random.Random) -> dict[str, int]:
    answers = {}
    for question in QUESTIONS:
        effects = DEMOGRAPHIC_EFFECTS.get(question.driver, {})
        latent = driver_score(culture, question.driver) + rng.gauss(0.0, NOISE_SD)
        latent += sum(weight * person[f"_{feature}"] for feature, weight in effects.items())
        probabilities = answer_probabilities(question, latent)
        code = rng.choices(range(question.low, question.high + 1), weights=probabilities)[0]
        answers[question.id] = -1 if rng.random() < MISSING_RATE else code
    return answers


def write_survey(culture: CultureProfile, respondents: int, out_dir: str | Path, seed: int = 0) -> Path:
    """Write the generated survey set for `culture` into `out_dir`; same seed, same files."""
    out = Path(out_dir)
    tables = out / SPLIT
    tables.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{culture.id}:{seed}")  # string seeds are hashed deterministically
    metadata = {
        "D_INTERVIEW": _meta(
            "What is the unique ID for this interview?", "Technical Variables", "demographic"
        )
    }
    for column, question, _ in DEMOGRAPHIC_COLUMNS:
        metadata[column] = _meta(question, "Demographic and Socioeconomic Variables", "demographic")
    for q in QUESTIONS:
        metadata[q.id] = _meta(q.text, q.category, "value", q.low, q.high)
    codebook = {
        q.id: {
            "question": q.text,
            "type": "multiple_choice",
            "choices": {str(q.low + i): lab for i, lab in enumerate(q.labels)},
        }
        for q in QUESTIONS
    }
    (out / "question_metadata.json").write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (out / "codebook.json").write_text(json.dumps(codebook, indent=2, ensure_ascii=False), encoding="utf-8")
    with (
        (tables / f"{SPLIT}_demographic_qa.tsv").open("w", encoding="utf-8", newline="") as demo_file,
        (tables / f"{SPLIT}_value_qa.tsv").open("w", encoding="utf-8", newline="") as value_file,
    ):
        demo_writer = csv.writer(demo_file, delimiter="\t", lineterminator="\n")
        value_writer = csv.writer(value_file, delimiter="\t", lineterminator="\n")
        demo_writer.writerow(["D_INTERVIEW"] + [column for column, _, _ in DEMOGRAPHIC_COLUMNS])
        value_writer.writerow(["D_INTERVIEW"] + [q.id for q in QUESTIONS])
        for index in range(respondents):
            respondent_id = f"{culture.country_code}{seed:03d}{index:05d}"
            person = sample_demographics(culture, rng)
            answers = generate_answers(culture, person, rng)
            demo_writer.writerow([respondent_id] + [person[field] for _, _, field in DEMOGRAPHIC_COLUMNS])
            value_writer.writerow([respondent_id] + [answers[q.id] for q in QUESTIONS])
    (out / "README.md").write_text(_survey_card(culture, respondents, seed), encoding="utf-8")
    return out


def _meta(question: str, category: str, use_case: str, low: int | str = "", high: int | str = "") -> dict:
    ordinal = use_case == "value"
    return {
        "question": question,
        "category": category,
        "use_case": use_case,
        "answer_scale_min": low,
        "answer_scale_max": high,
        "answer_data_type": "ordinal" if ordinal else "non_ordinal",
    }


def _survey_card(culture: CultureProfile, respondents: int, seed: int) -> str:
    doc = (__doc__ or "").strip()
    return (
        f"# Generated survey set: {culture.name} ({culture.country})\n\n"
        f"{respondents} synthetic respondents, seed {seed}, written by `culturesim survey make`.\n"
        "SYNTHETIC: for testing the evaluation pipeline and the quickstart, not evidence about real people.\n\n"
        f"{doc}\n\nCulture scores used: Hofstede {culture.hofstede.model_dump()}, "
        f"Inglehart-Welzel {culture.inglehart_welzel.model_dump()} (sources: {'; '.join(culture.sources)}).\n"
    )
