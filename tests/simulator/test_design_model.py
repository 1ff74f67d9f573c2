"""Model-driven design on the real embedded model: what it drafts must validate like a user's file.

Kept small for CPU: one draft each, field by field (the path the embedded model takes), 32 new
tokens at most per reply.
"""

from __future__ import annotations

import asyncio

import pytest

from personas.cultures import load_culture
from personas.library import load_persona_file, load_personas, save_personas
from scenarios.files import read_scenario_file, write_scenarios
from scenarios.library import get_scenario, load_base_scenarios
from simulator.design.drafting import DraftSettings
from simulator.design.llm_adaptation import adapt_by_llm
from simulator.design.persona_generation import generate_personas
from simulator.design.scenario_generation import generate_scenarios, pick_example

pytestmark = pytest.mark.model

SETTINGS = DraftSettings(strategy="fields", retries=1, max_new_tokens=32, field_tokens=32, seed=1)


def test_generated_scenarios_validate_as_files(embedded_backend, tmp_path):
    library = load_base_scenarios()
    example = pick_example("gift giving", library)
    report = asyncio.run(
        generate_scenarios(embedded_backend, "gift giving", 1, example, SETTINGS, {s.id for s in library})
    )
    assert len(report.records) + len(report.failures) == 1
    assert report.records, f"no valid draft: {report.failures[0].last_error}"
    written = write_scenarios(report.records, tmp_path / "generated.yaml")
    [scenario] = read_scenario_file(written[0])  # the same checks as a hand-written file
    assert scenario.category == "gift giving" and scenario.culture is None and len(scenario.roles) == 2
    assert scenario.id not in {s.id for s in library}
    assert scenario.provenance.source == embedded_backend.model_id


def test_generated_personas_validate_and_keep_the_sampled_facts(embedded_backend, tmp_path):
    culture = load_culture("german")
    example = load_personas("german")[0]
    report = asyncio.run(generate_personas(embedded_backend, culture, 1, example, SETTINGS))
    assert report.records, f"no valid persona: {report.failures[0].last_error}"
    [persona] = load_persona_file(save_personas(report.records, tmp_path / "personas.yaml"))
    assert persona.culture == "german" and persona.background and persona.secret
    assert set(persona.personality) == {
        "openness",
        "conscientiousness",
        "extraversion",
        "agreeableness",
        "neuroticism",
    }
    assert 1 <= len(persona.values) <= 3
    assert persona.extra["generated_by"] == embedded_backend.model_id


def test_llm_adaptation_keeps_roles_and_records_provenance(embedded_backend):
    base = get_scenario("supplier-gift-refusal")
    report = asyncio.run(adapt_by_llm(embedded_backend, base, [load_culture("japanese")], SETTINGS))
    assert report.records, f"adaptation failed: {report.failures[0].last_error}"
    [adapted] = report.records
    assert [r.name for r in adapted.roles] == [r.name for r in base.roles]
    assert adapted.provenance.base_scenario == base.id and adapted.provenance.method == "llm"
    assert adapted.culture == "japanese" and "{" not in adapted.setting
    assert all(role.goal for role in adapted.roles)
