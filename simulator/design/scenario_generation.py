"""New base scenarios drafted by a model: whole JSON first, field by field for what still fails.

The model drafts only the content (title, setting, relationship, roles with goal and secret); the
code owns everything else: the id (from the title, unique against the library), the category asked
for, `culture: null` and the provenance (`source` names the model). A draft becomes a `Scenario`
only through the schema and the same placeholder checks as a hand-written base scenario.

Field by field (strategy "fields"; "json+fields" after the JSON retries; "auto" picks one per model): the code builds the
structure and the model fills one text at a time, batched across drafts (titles; then settings and
role names; then every role's goal and secret), while the relationship is read from the model's
probabilities over the allowed values. Weak models that cannot keep a JSON object together can
still write one sentence at a time, so with the embedded model most drafts come from this path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from personas.files import BadInputError
from scenarios.files import check_scenario, slug
from scenarios.schema import Role, Scenario
from simulator.backends.base import Backend, OptionScoringRequest
from simulator.design import prompts
from simulator.design.drafting import (
    Attempt,
    DesignReport,
    DraftError,
    DraftSettings,
    ProgressCallback,
    TextRequest,
    clean_text,
    describe_failure,
    draft_json,
    write_texts,
)

CODE_OWNED = ("id", "category", "culture", "provenance")
DRAFT_ID = "draft"
MAX_TITLE_WORDS = 15


def normalise_relationship(value: object) -> object:
    """'Manager-subordinate' -> 'manager_subordinate', 'neighbor' -> 'neighbour'; others unchanged."""
    if not isinstance(value, str):
        return value
    text = re.sub(r"[\s-]+", "_", value.strip().lower()).replace("neighbor", "neighbour")
    return text


class ScenarioBuilder:
    """Turns a model's draft (a dict) into a validated base scenario of one category.

    The id comes from the title and is reserved only once the draft is valid, unique against
    `taken` (the library, the output directory and the drafts before it).
    """

    def __init__(self, category: str, source: str, taken: set[str]):
        self.category = category
        self.source = source
        self.taken = taken

    def __call__(self, data: dict, _index: int = 0) -> Scenario:
        if not isinstance(data, dict):
            raise DraftError("expected a JSON object")
        content = {key: value for key, value in data.items() if key not in CODE_OWNED}
        if "relationship" in content:
            content["relationship"] = normalise_relationship(content["relationship"])
        record = content | {
            "id": DRAFT_ID,
            "category": self.category,
            "culture": None,
            "provenance": {"method": "none", "source": self.source},
        }
        check_scenario(Scenario.model_validate(record), "draft", known_cultures=())
        return Scenario.model_validate(record | {"id": self.new_id(str(content["title"]))})

    def new_id(self, title: str) -> str:
        base = slug(title).replace("_", "-")[:60].strip("-") or "generated-scenario"
        candidate, number = base, 2
        while candidate in self.taken:
            candidate, number = f"{base}-{number}", number + 1
        self.taken.add(candidate)
        return candidate


def pick_example(category: str, library: Sequence[Scenario], seed: int = 0) -> Scenario:
    """A library scenario of the same category if there is one (the model imitates its shape)."""
    bases = [s for s in library if s.culture is None]
    if not bases:
        raise ValueError("the scenario library has no base scenario to show as an example")
    same = [s for s in bases if s.category.lower() == category.strip().lower()]
    pool = same or bases
    return pool[seed % len(pool)]


async def generate_scenarios(
    backend: Backend,
    category: str,
    n: int,
    example: Scenario,
    settings: DraftSettings,
    taken_ids: set[str],
    on_progress: ProgressCallback | None = None,
) -> DesignReport[Scenario]:
    """`n` new base scenarios of `category`; `example` is the library scenario shown to the model."""
    build = ScenarioBuilder(category, backend.model_id, set(taken_ids))
    report: DesignReport[Scenario] = DesignReport.empty(n)
    use_json, use_fields = settings.stages(backend)
    if use_json:
        conversation = prompts.scenario_conversation(category, example)
        await draft_json(backend, [conversation] * n, build, settings, report, on_progress)
    if use_fields and report.pending():
        await draft_by_fields(backend, category, example, report, build, settings, on_progress)
    return report


# -- field by field -----------------------------------------------------------------------------------


ROLE_SPLIT = re.compile(r",|\band\b|&|/|\n|;")
ROLE_NAME = re.compile(r"^[a-z][a-z' -]{1,38}[a-z]$")


def parse_role_names(text: str) -> tuple[str, str] | None:
    """'The host, the guest.' -> ('host', 'guest'); None unless exactly two distinct short roles."""
    text = re.sub(r"\([^)]*\)", "", text.lower())
    names = []
    for part in ROLE_SPLIT.split(text):
        name = re.sub(r"^\s*(?:the|a|an)\s+", "", part.strip(" .:'\"-*")).strip(" .:'\"-*")
        if name:
            names.append(name)
    if len(names) != 2 or names[0] == names[1]:
        return None
    if not all(ROLE_NAME.match(name) and len(name.split()) <= 4 for name in names):
        return None
    return names[0], names[1]


def first_sentences(text: str, count: int) -> str:
    return clean_text(prompts.generic_text(text), count)


async def draft_by_fields(
    backend: Backend,
    category: str,
    example: Scenario,
    report: DesignReport[Scenario],
    build: ScenarioBuilder,
    settings: DraftSettings,
    on_progress: ProgressCallback | None,
) -> None:
    """Fill the pending drafts of `report` one field at a time (see the module doc)."""
    indices = report.pending()
    schema = Scenario.model_json_schema()
    role_schema = schema["$defs"]["Role"]
    describe = {
        name: prompts.field_description(schema, name).rstrip(".").lower() for name in ("title", "setting")
    }
    role_describe = {
        name: prompts.field_description(role_schema, name).lower() for name in ("goal", "secret")
    }
    shot = example_fields(example)

    def ask(question: str, example_question: str, example_answer: str) -> list[dict[str, str]]:
        return prompts.one_shot(prompts.FIELD_SYSTEM, example_question, example_answer, question)

    def progress(what: str) -> None:
        if on_progress:
            on_progress(f"{what} for {len(indices)} draft(s), field by field", report)

    def take(key: tuple, found: dict) -> str | None:
        text, attempts = found[key]
        report.outcomes[key[0]].attempts.extend(attempts)
        return text

    progress("titles")
    title_q = prompts.TITLE_PROMPT.format(category=category, description=describe["title"])
    example_title_q = prompts.TITLE_PROMPT.format(category=example.category, description=describe["title"])
    requests = [
        TextRequest(
            (i, "title"),
            ask(title_q, example_title_q, example.title),
            sentences=1,
            max_new_tokens=24,
            stop=("\n",),
            words=(3, MAX_TITLE_WORDS),
            avoid=(example.title,),
        )
        for i in indices
    ]
    found = await write_texts(backend, requests, settings)
    titles = {i: text for i in indices if (text := take((i, "title"), found))}

    progress("settings and roles")

    def setting_q(title: str, kind: str) -> str:
        return prompts.SETTING_PROMPT.format(category=kind, title=title, description=describe["setting"])

    requests = []
    for i, title in titles.items():
        messages = ask(
            setting_q(title, category), setting_q(example.title, example.category), shot["setting"]
        )
        requests.append(TextRequest((i, "setting"), messages, words=(8, 80), avoid=(title, shot["setting"])))
        messages = ask(
            prompts.ROLES_PROMPT.format(title=title),
            prompts.ROLES_PROMPT.format(title=example.title),
            shot["roles"],
        )
        requests.append(TextRequest((i, "roles"), messages, 1, 16, ("\n",), words=(1, 12)))
    found = await write_texts(backend, requests, settings)
    settings_text = {i: text for i in titles if (text := take((i, "setting"), found))}
    role_replies = {i: found[(i, "roles")][0] or "" for i in titles}

    progress("relationships")
    words = prompts.RELATIONSHIP_WORDS
    ready = list(settings_text)
    scores = await backend.score_options(
        [
            OptionScoringRequest(
                [
                    {"role": "system", "content": prompts.FIELD_SYSTEM},
                    {
                        "role": "user",
                        "content": prompts.RELATIONSHIP_PROMPT.format(
                            title=titles[i], setting=settings_text[i], options=", ".join(words.values())
                        ),
                    },
                ],
                list(words.values()),
            )
            for i in ready
        ]
    )
    plans: dict[int, tuple[str, tuple[str, str]]] = {}  # draft -> (relationship, role names)
    for i, score in zip(ready, scores):
        relationship = list(words)[max(range(len(words)), key=score.logprobs.__getitem__)]
        plans[i] = (relationship, parse_role_names(role_replies[i]) or prompts.ROLE_PAIRS[relationship])

    progress("goals and secrets")

    def role_q(title: str, setting: str, names: Sequence[str], position: int, text_field: str) -> str:
        return prompts.ROLE_TEXT_PROMPT.format(
            title=title,
            setting=setting,
            roles=f"{names[0]} and the {names[1]}",
            role=names[position],
            description=role_describe[text_field],
        )

    example_names = [role.name for role in example.roles]
    requests = []
    for i, (_relationship, names) in plans.items():
        for position in range(len(names)):
            for text_field in ("goal", "secret"):
                messages = ask(
                    role_q(titles[i], settings_text[i], names, position, text_field),
                    role_q(example.title, shot["setting"], example_names, 0, text_field),
                    shot[text_field],
                )
                key = (i, position, text_field)
                avoid = (titles[i], settings_text[i], shot[text_field])
                requests.append(TextRequest(key, messages, 1, words=(4, 60), avoid=avoid))
    found = await write_texts(backend, requests, settings)

    for i, (relationship, names) in plans.items():
        texts = {key[1:]: take(key, found) for key in found if key[0] == i}
        if any(text is None for text in texts.values()):
            continue  # the attempts carry the raw replies; the draft is reported, not saved
        draft = {
            "title": titles[i],
            "setting": settings_text[i],
            "relationship": relationship,
            "roles": [
                Role(name=name, goal=texts[(p, "goal")], secret=texts[(p, "secret")]).model_dump()
                for p, name in enumerate(names)
            ],
        }
        try:
            report.outcomes[i].record = build(draft)
        except (ValueError, BadInputError) as exc:  # reported with the draft, never raised
            report.outcomes[i].attempts.append(Attempt("fields", str(draft), describe_failure(exc)))
    progress("done")


def example_fields(example: Scenario) -> dict[str, str]:
    """The example's texts as one-shot answers: placeholders as plain words, one or two sentences."""
    first = example.roles[0]
    return {
        "setting": first_sentences(example.setting, 2),
        "roles": ", ".join(role.name for role in example.roles[:2]),
        "goal": first_sentences(first.goal, 1),
        "secret": first_sentences(first.secret, 1) or "Nothing you would admit.",
    }
