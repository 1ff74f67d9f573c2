"""Reading survey data in the WorldValuesBench layout, streamed, with clear errors.

Layout of a data directory (the same for licensed WVS data and the generated survey set):

    DIR/question_metadata.json       id -> {question, category, use_case: demographic|value,
                                            answer_scale_min, answer_scale_max, answer_data_type}
    DIR/codebook.json                optional: id -> {choices: {code: label}} (raw WVS codes)
    DIR/answer_adjustment.json       optional: id -> {raw code: adjusted code or ""} (reorders scales)
    DIR/<split>/<split>_demographic_qa.tsv   D_INTERVIEW + demographic columns (text answers)
    DIR/<split>/<split>_value_qa.tsv         D_INTERVIEW + value columns (adjusted scale codes)

In the TSVs an empty cell or a negative WVS code (don't know, no answer, not asked) means missing and
is skipped. The answer tables are already adjusted, so answer_adjustment.json is only used to give
each scale point its codebook label (e.g. Q56: adjusted 2 is raw 3, "about the same").
"""

from __future__ import annotations

import csv
import difflib
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from personas.files import BadInputError, read_data_file, validate_record

ID_COLUMN = "D_INTERVIEW"
COUNTRY_COLUMN = "B_COUNTRY"
# Demographics put into the persona prompt when present (a long prompt of all 42 slows scoring a lot).
DEFAULT_DEMOGRAPHICS = (
    "B_COUNTRY",
    "H_URBRURAL",
    "Q260",
    "Q262",
    "Q273",
    "Q275",
    "Q270",
    "Q279",
    "Q281",
    "Q287",
    "Q289",
)
MISSING_TEXT_PREFIXES = ("missing", "no answer", "not asked", "don't know", "don´t know", "not applicable")


class QuestionMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str
    category: str = ""
    use_case: str
    answer_scale_min: int | str = ""
    answer_scale_max: int | str = ""
    answer_data_type: str = "ordinal"


@dataclass(frozen=True)
class ValueQuestion:
    id: str
    text: str
    low: int
    high: int
    labels: tuple[str | None, ...] = ()  # one per scale point, None where the codebook has no word
    category: str = ""

    @property
    def codes(self) -> list[int]:
        return list(range(self.low, self.high + 1))

    @property
    def options(self) -> list[str]:
        return [str(code) for code in self.codes]


@dataclass
class Respondent:
    id: str
    demographics: list[tuple[str, str]]  # (question text, answer) in prompt order
    answers: dict[str, int] = field(default_factory=dict)  # question id -> scale code; missing left out


@dataclass
class SurveySample:
    questions: list[ValueQuestion]
    respondents: list[Respondent]
    reference_counts: dict[str, list[int]]  # per question, answer counts over every respondent of the country
    pool_size: int
    country: str | None
    tables: tuple[Path, Path]


def load_metadata(data_dir: Path) -> dict[str, QuestionMeta]:
    path = data_dir / "question_metadata.json"
    raw = read_data_file(path)
    if not isinstance(raw, dict) or not raw:
        raise BadInputError(path, "expected an object mapping question ids to their metadata")
    return {qid: validate_record(QuestionMeta, entry, path, qid) for qid, entry in raw.items()}


def load_value_questions(data_dir: Path, question_ids: Sequence[str] | None = None) -> list[ValueQuestion]:
    """The value questions to evaluate (all of them by default), with scale labels where known."""
    metadata = load_metadata(data_dir)
    values = [qid for qid, meta in metadata.items() if meta.use_case == "value"]
    if question_ids:
        unknown = [qid for qid in question_ids if qid not in values]
        if unknown:
            hint = ", ".join(values[:6]) + (", ..." if len(values) > 6 else "")
            raise BadInputError(
                "--questions",
                f"unknown value question id(s) {', '.join(unknown)}; "
                f"{data_dir / 'question_metadata.json'} has {len(values)} value questions: {hint}",
            )
        values = list(dict.fromkeys(question_ids))
    if not values:
        raise BadInputError(data_dir / "question_metadata.json", "no questions with use_case 'value'")
    labels = _scale_labels(data_dir)
    questions = []
    for qid in values:
        meta = metadata[qid]
        low, high = meta.answer_scale_min, meta.answer_scale_max
        if not (isinstance(low, int) and isinstance(high, int) and low < high):
            raise BadInputError(
                data_dir / "question_metadata.json",
                "a value question needs integer scale bounds, min < max",
                record=qid,
                field="answer_scale_min",
            )
        point_labels = tuple(labels.get(qid, {}).get(code) for code in range(low, high + 1))
        questions.append(ValueQuestion(qid, meta.question, low, high, point_labels, meta.category))
    return questions


def _scale_labels(data_dir: Path) -> dict[str, dict[int, str]]:
    """Codebook labels keyed by *adjusted* code; bare numbers ("2" for 2) are dropped as uninformative."""
    codebook_path, adjustment_path = data_dir / "codebook.json", data_dir / "answer_adjustment.json"
    if not codebook_path.exists():
        return {}
    codebook = read_data_file(codebook_path)
    adjustment = read_data_file(adjustment_path) if adjustment_path.exists() else {}
    labels: dict[str, dict[int, str]] = {}
    for qid, entry in codebook.items():
        choices = entry.get("choices", {}) if isinstance(entry, dict) else {}
        remap = adjustment.get(qid, {})
        adjusted: dict[int, str] = {}
        for raw_code, label in choices.items():
            code = remap.get(raw_code, raw_code)
            if code == "" or not _is_int(code) or str(label).strip() == str(code):
                continue
            adjusted[int(code)] = str(label)
        labels[qid] = adjusted
    return labels


def find_tables(data_dir: Path, split: str | None = None) -> tuple[Path, Path]:
    """The (demographic, value) TSV pair of a split; the only split if there is one."""
    if not (data_dir / "question_metadata.json").exists():
        raise BadInputError(data_dir, "no question_metadata.json here (expected the WorldValuesBench layout)")
    pairs: dict[str, tuple[Path, Path]] = {}
    for demographic in sorted(data_dir.glob("**/*demographic_qa.tsv")):
        value = demographic.with_name(demographic.name.replace("demographic_qa", "value_qa"))
        if value.exists():
            pairs[demographic.name.removesuffix("demographic_qa.tsv").rstrip("_") or "default"] = (
                demographic,
                value,
            )
    if not pairs:
        raise BadInputError(
            data_dir, "no <split>_demographic_qa.tsv with a matching <split>_value_qa.tsv found"
        )
    if split is not None:
        if split not in pairs:
            raise BadInputError("--split", f"no split '{split}' in {data_dir} (found: {', '.join(pairs)})")
        return pairs[split]
    if len(pairs) > 1:
        raise BadInputError("--split", f"{data_dir} holds several splits ({', '.join(pairs)}); choose one")
    return next(iter(pairs.values()))


def read_tsv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as (line number, column -> cell), one at a time; a ragged row is a `BadInputError`."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if not header or ID_COLUMN not in header:
            raise BadInputError(path, f"line 1: header must include the respondent id column '{ID_COLUMN}'")
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise BadInputError(
                    path, f"line {reader.line_num}: expected {len(header)} columns, found {len(row)}"
                )
            yield reader.line_num, dict(zip(header, row))


def tsv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle, delimiter="\t"), [])


def parse_answer(raw: str, question: ValueQuestion, path: Path, line: int) -> int | None:
    text = raw.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise BadInputError(
            path, f"line {line}, column '{question.id}': '{text}' is not a numeric answer"
        ) from None
    if number != int(number):
        raise BadInputError(path, f"line {line}, column '{question.id}': '{text}' is not a whole number")
    code = int(number)
    if code < 0:
        return None  # WVS missing codes: don't know, no answer, not asked
    if not question.low <= code <= question.high:
        raise BadInputError(
            path,
            f"line {line}, column '{question.id}': answer {code} is outside the scale {question.low}..{question.high} "
            "(answers must already be adjusted with answer_adjustment.json)",
        )
    return code


def sample_survey(
    data_dir: Path,
    country: str | Sequence[str] | None,
    respondents: int,
    question_ids: Sequence[str] | None = None,
    seed: int = 0,
    split: str | None = None,
) -> SurveySample:
    """Stream both tables once: reference counts over the whole country, a seeded sample of respondents.

    `country` may be several names of one country (a culture's country and its aliases).
    """
    questions = load_value_questions(data_dir, question_ids)
    metadata = load_metadata(data_dir)
    demographic_path, value_path = find_tables(data_dir, split)
    missing = [q.id for q in questions if q.id not in tsv_header(value_path)]
    if missing:
        raise BadInputError(value_path, f"no column for question(s) {', '.join(missing)}")
    pool, sampled, pool_size = _sample_demographics(demographic_path, metadata, country, respondents, seed)
    counts = {q.id: [0] * len(q.codes) for q in questions}
    for line, row in read_tsv(value_path):
        respondent_id = row[ID_COLUMN]
        if respondent_id not in pool:
            continue
        for question in questions:
            code = parse_answer(row[question.id], question, value_path, line)
            if code is None:
                continue
            counts[question.id][code - question.low] += 1
            if respondent_id in sampled:
                sampled[respondent_id].answers[question.id] = code
    chosen = [r for r in sampled.values() if r.answers]
    name = country if isinstance(country, str) or country is None else country[0]
    return SurveySample(questions, chosen, counts, pool_size, name, (demographic_path, value_path))


def _sample_demographics(
    path: Path, metadata: dict[str, QuestionMeta], country: str | Sequence[str] | None, size: int, seed: int
) -> tuple[set[str], dict[str, Respondent], int]:
    header = tsv_header(path)
    names = [country] if isinstance(country, str) else list(country or [])
    wanted = {name.strip().casefold() for name in names}
    prompt_columns = [c for c in DEFAULT_DEMOGRAPHICS if c in header and c in metadata]
    if not prompt_columns:
        prompt_columns = [c for c in header if c != ID_COLUMN and c in metadata]
    use_country = bool(wanted) and COUNTRY_COLUMN in header
    rng = random.Random(seed)
    pool: set[str] = set()
    reservoir: list[Respondent] = []
    countries: Counter[str] = Counter()
    for line, row in read_tsv(path):
        if use_country:
            countries[row[COUNTRY_COLUMN]] += 1
            if row[COUNTRY_COLUMN].strip().casefold() not in wanted:
                continue
        respondent_id = row[ID_COLUMN]
        if respondent_id in pool:
            raise BadInputError(path, f"line {line}: respondent id {respondent_id} appears twice")
        pool.add(respondent_id)
        # Reservoir sampling (Algorithm R): a uniform, seeded sample in one pass with O(size) memory.
        slot = len(reservoir) if len(reservoir) < size else rng.randrange(len(pool))
        if slot < size:
            respondent = Respondent(respondent_id, _demographic_answers(row, prompt_columns, metadata))
            if slot == len(reservoir):
                reservoir.append(respondent)
            else:
                reservoir[slot] = respondent
    if not pool:
        if use_country:
            raise BadInputError(path, no_country_message(names[0], countries))
        raise BadInputError(path, "no respondents")
    return pool, {r.id: r for r in reservoir}, len(pool)


def _demographic_answers(row: dict[str, str], columns: Sequence[str], metadata: dict[str, QuestionMeta]):
    answers = []
    for column in columns:
        value = row[column].strip()
        if value and not is_missing_text(value):
            answers.append((metadata[column].question, value))
    return answers


def is_missing_text(value: str) -> bool:
    lowered = value.casefold()
    return lowered.startswith(MISSING_TEXT_PREFIXES) or (
        lowered.lstrip("-").isdigit() and lowered.startswith("-")
    )


def no_country_message(country: str, available: Counter[str] | Sequence[str]) -> str:
    names = sorted(available)
    close = difflib.get_close_matches(country, names, n=5, cutoff=0.5)
    close += [n for n in names if country.casefold() in n.casefold() and n not in close]
    hint = (
        f"close matches: {', '.join(close[:5])}" if close else f"countries present: {', '.join(names[:12])}"
    )
    return f"no data for country '{country}'; {hint}"


def _is_int(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True
