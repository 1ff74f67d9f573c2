"""LLM culture adaptation: a model rewrites a base scenario for a culture.

The model starts from the base scenario with its placeholders already filled for the culture (the
template adaptation's names, cities and forms of address, without its framing paragraph), so even
a small model begins from culture-specific text, and it is asked to rewrite title, setting and each
role's goal and secret: names, setting, forms of address, the norms at stake. The code keeps the
structure: the same roles, in the same order, with their names and casting constraints, the base's
relationship, category and judge notes. The template's cultural-framing paragraph (descriptors and
the culture's norm for this kind of situation) is appended to the setting, so that the role-players
always see the norms at stake whatever the model wrote. Provenance: the base scenario, method
'llm', and the model as source.

Like generation: JSON first, with retries, then field by field (one text per request) for the
cultures whose JSON drafts all failed; every text of a culture's drafts goes out in one batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from personas.files import BadInputError
from personas.schema import CultureProfile
from scenarios.adaptation import NamingPicker, cultural_framing, relevant_norms
from scenarios.files import check_scenario
from scenarios.schema import Provenance, Scenario
from simulator.backends.base import Backend
from simulator.design import prompts
from simulator.design.drafting import (
    Attempt,
    DesignReport,
    DraftError,
    DraftSettings,
    ProgressCallback,
    TextRequest,
    describe_failure,
    draft_json,
    write_texts,
)

ADAPTED_FIELDS = ("title", "setting", "roles")
MIN_LENGTH_RATIO = 0.4
ROLE_KEYS = ("name", "goal", "secret")


def filled_base(base: Scenario, culture: CultureProfile) -> Scenario:
    """The base with its placeholders filled for the culture: the text the model rewrites."""
    picker = NamingPicker(base, culture)
    roles = picker.fill_roles(base.roles)
    return base.model_copy(
        update={"title": picker.fill(base.title), "setting": picker.fill(base.setting), "roles": roles}
    )


class AdaptationBuilder:
    """A model's rewrite (title, setting, role goals and secrets) on the base's structure."""

    def __init__(self, base: Scenario, culture: CultureProfile, source: str):
        self.base = base
        self.culture = culture
        self.source = source
        self.framing = cultural_framing(base, culture, NamingPicker(base, culture))
        self.filled = filled_base(base, culture)

    def __call__(self, data: dict, _index: int = 0) -> Scenario:
        unknown = sorted(set(data) - set(ADAPTED_FIELDS))
        if unknown:
            raise DraftError(f"unknown fields {unknown}; write only {', '.join(ADAPTED_FIELDS)}")
        roles = data.get("roles")
        if not isinstance(roles, list) or len(roles) != len(self.base.roles):
            count = len(roles) if isinstance(roles, list) else 0
            raise DraftError(f"roles: expected the same {len(self.base.roles)} roles, got {count}")
        rewritten = []
        for position, (base_role, role) in enumerate(zip(self.filled.roles, roles)):
            if not isinstance(role, dict) or set(role) - set(ROLE_KEYS):
                raise DraftError(f"roles.{position}: expected an object with {', '.join(ROLE_KEYS)}")
            # Names stay the base's, by position: roles are functions ("host"), and casting uses them.
            texts = {"goal": role.get("goal", ""), "secret": role.get("secret", base_role.secret)}
            rewritten.append(base_role.model_dump() | texts)
        return self.assemble(data.get("title", ""), data.get("setting", ""), rewritten)

    def assemble(self, title: str, setting: str, roles: list[dict]) -> Scenario:
        setting = (
            f"{setting.strip()}\n\n{self.framing}" if isinstance(setting, str) and setting.strip() else ""
        )
        scenario = Scenario.model_validate(
            self.base.model_dump()
            | {
                "id": f"{self.base.id}.{self.culture.id}",
                "title": title,
                "setting": setting,
                "roles": roles,
                "culture": self.culture.id,
                "provenance": Provenance(
                    base_scenario=self.base.id,
                    method="llm",
                    source=self.source,
                    source_id=self.base.provenance.source_id,
                ).model_dump(),
            }
        )
        check_scenario(scenario, "draft", known_cultures=[self.culture.id])
        return scenario


async def adapt_by_llm(
    backend: Backend,
    base: Scenario,
    cultures: Sequence[CultureProfile],
    settings: DraftSettings,
    on_progress: ProgressCallback | None = None,
) -> DesignReport:
    """One adaptation of `base` per culture, in order; failures are reported, never returned half-valid."""
    if base.culture is not None:
        raise BadInputError(
            "SCENARIO", f"'{base.id}' is already specific to '{base.culture}'; adapt its base"
        )
    builders = [AdaptationBuilder(base, culture, backend.model_id) for culture in cultures]
    sources = [builder.filled for builder in builders]
    briefs = [prompts.culture_brief(c, relevant_norms(c, base.category)) for c in cultures]
    report: DesignReport[Scenario] = DesignReport.empty(len(cultures))
    use_json, use_fields = settings.stages(backend)
    if use_json:
        conversations = [
            [
                {"role": "system", "content": prompts.ADAPT_SYSTEM},
                {
                    "role": "user",
                    "content": prompts.ADAPT_REQUEST.format(
                        culture_brief=brief,
                        country=culture.country,
                        culture_name=culture.name,
                        count=len(base.roles),
                        scenario=prompts.adaptable_view(source),
                    ),
                },
            ]
            for culture, source, brief in zip(cultures, sources, briefs)
        ]

        def build(data: dict, index: int) -> Scenario:
            return builders[index](data)

        await draft_json(backend, conversations, build, settings, report, on_progress)
    failed = [o.index for o in report.outcomes if not o.ok]
    if failed and use_fields:
        if on_progress:
            on_progress(f"rewriting {len(failed)} adaptation(s) field by field", report)
        await _adapt_by_fields(backend, failed, cultures, sources, briefs, builders, report, settings)
    return report


async def _adapt_by_fields(
    backend: Backend,
    indices: list[int],
    cultures: Sequence[CultureProfile],
    sources: Sequence[Scenario],
    briefs: Sequence[str],
    builders: Sequence[AdaptationBuilder],
    report: DesignReport,
    settings: DraftSettings,
) -> None:
    def question(brief: str, country: str, culture_name: str, what: str, text: str) -> str:
        return prompts.ADAPT_FIELD_PROMPT.format(
            culture_brief=brief, what=what, country=country, culture_name=culture_name, text=text
        )

    def rewrite(index: int, key: tuple, what: str, text: str, sentences: int) -> TextRequest:
        culture = cultures[index]
        demo_text, demo_answer = prompts.ADAPT_DEMOS[key[-1]]
        demo = question(prompts.ADAPT_DEMO_BRIEF, *prompts.ADAPT_DEMO_CULTURE, what, demo_text)
        real = question(briefs[index], culture.country, culture.name, what, text)
        messages = prompts.one_shot(prompts.ADAPT_FIELD_SYSTEM, demo, demo_answer, real)
        words = len(text.split())
        # Room for a rewrite as long as the text, within the record budget.
        budget = min(settings.max_new_tokens, max(settings.field_tokens, 2 * words))
        # A rewrite keeps roughly the original's length: a list of names is not a setting.
        bounds = (max(2, int(words * MIN_LENGTH_RATIO)), max(20, words * 3))
        avoid = (demo_answer,)  # small models copy the worked example
        return TextRequest((index, *key), messages, sentences, budget, words=bounds, avoid=avoid)

    requests = []
    for i in indices:
        source = sources[i]
        requests.append(rewrite(i, ("title",), "title", source.title, 1))
        requests.append(rewrite(i, ("setting",), "setting", source.setting, 4))
        for position, role in enumerate(source.roles):
            requests.append(rewrite(i, (position, "goal"), f"goal of the {role.name}", role.goal, 3))
            if role.secret:
                what = f"secret of the {role.name}"
                requests.append(rewrite(i, (position, "secret"), what, role.secret, 2))
    found = await write_texts(backend, requests, settings)

    for i in indices:
        texts = {key[1:]: text for key, (text, _) in found.items() if key[0] == i}
        for key, (_, attempts) in found.items():
            if key[0] == i:
                report.outcomes[i].attempts.extend(attempts)
        if any(text is None for text in texts.values()):
            continue
        roles = [
            role.model_dump() | {"goal": texts[(p, "goal")], "secret": texts.get((p, "secret"), role.secret)}
            for p, role in enumerate(sources[i].roles)
        ]
        try:
            report.outcomes[i].record = builders[i].assemble(texts[("title",)], texts[("setting",)], roles)
        except (ValueError, BadInputError) as exc:
            report.outcomes[i].attempts.append(Attempt("fields", str(texts), describe_failure(exc)))
