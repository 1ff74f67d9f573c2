"""Drafting logic without a model: JSON extraction, retries with feedback, builders, failure reports.

A scripted backend stands in for the model here only, to make replies that are not JSON happen
on purpose; the real model's drafts are tested in test_design_model.py.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from design_fakes import ScriptedBackend
from pydantic import ValidationError

from personas.cultures import load_culture
from scenarios.library import get_scenario
from scenarios.schema import Scenario
from simulator.design.drafting import (
    DesignReport,
    DraftError,
    DraftSettings,
    TextRequest,
    clean_text,
    describe_failure,
    draft_json,
    extract_json_object,
    text_problem,
)
from simulator.design.llm_adaptation import AdaptationBuilder
from simulator.design.persona_generation import PersonaBuilder, skeletons
from simulator.design.scenario_generation import ScenarioBuilder, generate_scenarios, parse_role_names

DRAFT = {
    "title": "A gift for the new neighbour",
    "setting": "A Saturday morning in a quiet street in {city}. A newcomer rings the neighbour's doorbell.",
    "relationship": "neighbour",
    "roles": [
        {"name": "newcomer", "goal": "Have the gift accepted.", "secret": "It was bought in a hurry."},
        {"name": "neighbour", "goal": "Accept it modestly.", "secret": ""},
    ],
}


def test_json_object_is_found_in_fences_and_surrounding_text():
    wrapped = f"Sure! Here it is:\n```json\n{json.dumps(DRAFT)}\n```\nHope this helps."
    assert extract_json_object(wrapped) == DRAFT
    assert extract_json_object('The answer is {"a": {"b": "}"}} and more {"c": 1}') == {"a": {"b": "}"}}
    with pytest.raises(DraftError, match="no JSON object"):
        extract_json_object("no braces at all")
    with pytest.raises(DraftError, match="invalid JSON"):
        extract_json_object('{"title": "cut off')


def test_clean_text_keeps_whole_sentences_and_drops_labels():
    assert clean_text('Title: "A quiet dinner"\nmore', 1) == "A quiet dinner"
    assert clean_text("One thing. Two things. Three", 3) == "One thing. Two things."
    assert clean_text("\n\n", 2) == ""


def test_text_checks_refuse_echoes_braces_and_wrong_lengths():
    request = TextRequest(("x", "setting"), [], words=(3, 10), avoid=("A gift for the new neighbour",))
    assert text_problem("A gift for the new neighbour.", request).startswith("repeats")
    assert text_problem("At the {town} hall, people wait.", request) == "contains braces"
    assert "words" in text_problem("Too short", request)
    assert text_problem("The newcomer rings the bell at noon.", request) is None
    assert text_problem("In one or two sentences: when it happens.", request) == "repeats the instructions"
    spanish = TextRequest(("x", "setting"), [], words=(3, 40))
    assert text_problem(
        "El día de la llegada de unos pobres restauradores es una cabeza del mundo", spanish
    ) == ("not written in English")
    assert text_problem("アドバルコラスティラグ (Sales Representative)", spanish) == "not written in English"
    copying = TextRequest(
        ("x", "secret"), [], words=(3, 40), avoid=("You are on a strict diet and told nobody.",)
    )
    assert text_problem("You are on a strict diet and told nobody, not even your boss.", copying).startswith(
        "repeats"
    )


def _scenario_builder() -> ScenarioBuilder:
    return ScenarioBuilder("gift giving", "scripted-model", taken={"a-gift-for-the-new-neighbour"})


def test_invalid_replies_are_retried_with_feedback_then_reported_with_raw_text():
    replies = ["I cannot write JSON, sorry.", '{"title": "half', "still no json"]
    backend = ScriptedBackend(replies)
    report: DesignReport[Scenario] = DesignReport.empty(1)
    settings = DraftSettings(strategy="json", retries=2, seed=5)
    asyncio.run(
        draft_json(backend, [[{"role": "user", "content": "go"}]], _scenario_builder(), settings, report)
    )
    [outcome] = report.outcomes
    assert not outcome.ok and report.records == []
    assert [a.raw for a in outcome.attempts] == replies
    assert [a.stage for a in outcome.attempts] == ["json", "json retry 1", "json retry 2"]
    assert "no JSON object" in outcome.attempts[0].error and "invalid JSON" in outcome.attempts[1].error
    # Each retry shows the model its own failed reply and why it failed, under a new seed.
    retry = backend.requests[1].messages
    assert retry[-2] == {"role": "assistant", "content": replies[0]}
    assert "no JSON object" in retry[-1]["content"]
    assert len({r.params.seed for r in backend.requests}) == 3


def test_a_retry_that_validates_becomes_the_record():
    bad = DRAFT | {"relationship": "boss", "roles": DRAFT["roles"][:1]}
    backend = ScriptedBackend([json.dumps(bad), f"```json\n{json.dumps(DRAFT)}\n```"])
    report: DesignReport[Scenario] = DesignReport.empty(1)
    build = _scenario_builder()
    asyncio.run(
        draft_json(backend, [[{"role": "user", "content": "go"}]], build, DraftSettings(retries=1), report)
    )
    [scenario] = report.records
    first_error = report.outcomes[0].attempts[0].error
    assert (
        "relationship" in first_error and "roles" in first_error
    )  # every problem is fed back, not the first
    assert scenario.id == "a-gift-for-the-new-neighbour-2"  # unique against the library's ids
    assert scenario.category == "gift giving" and scenario.culture is None
    assert scenario.provenance.source == "scripted-model"


def test_scenario_builder_owns_code_fields_and_checks_placeholders():
    build = _scenario_builder()
    scenario = build(DRAFT | {"id": "Not An Id", "category": "other", "relationship": "Neighbor"})
    assert scenario.category == "gift giving" and scenario.relationship == "neighbour"
    with pytest.raises(Exception, match="unknown placeholder"):
        build(DRAFT | {"setting": "In {town}."})
    with pytest.raises(ValidationError) as refused:
        build(DRAFT | {"mood": "tense", "relationship": "boss"})
    assert describe_failure(refused.value).count(": ") == 2  # both problems, not the first only
    assert "mood: unknown field" in describe_failure(refused.value)


def test_role_names_are_parsed_or_refused():
    assert parse_role_names("The host, the guest.") == ("host", "guest")
    assert parse_role_names("a shop assistant and a customer") == ("shop assistant", "customer")
    assert parse_role_names("host, host") is None
    assert parse_role_names("Alice (the host), Bob, Carol") is None


def test_adaptation_builder_keeps_roles_and_records_provenance():
    base = get_scenario("supplier-gift-refusal")
    build = AdaptationBuilder(base, load_culture("japanese"), "scripted-model")
    roles = [
        {"name": "someone else", "goal": f"Goal {i}.", "secret": "Hidden."} for i in range(len(base.roles))
    ]
    adapted = build(
        {"title": "Refusing a gift in Osaka", "setting": "At an izakaya in Osaka.", "roles": roles}
    )
    assert [r.name for r in adapted.roles] == [r.name for r in base.roles]
    assert adapted.provenance.base_scenario == base.id and adapted.provenance.method == "llm"
    assert adapted.culture == "japanese" and adapted.id == f"{base.id}.japanese"
    assert adapted.setting.startswith("At an izakaya in Osaka.") and "Cultural context" in adapted.setting
    with pytest.raises(DraftError, match="same 2 roles"):
        build({"title": "t", "setting": "s", "roles": roles[:1]})
    with pytest.raises(Exception, match="placeholder"):
        build({"title": "t", "setting": "In {city}.", "roles": roles})


def test_persona_builder_accepts_only_complete_valid_profiles():
    culture = load_culture("german")
    [skeleton] = skeletons(culture, 1, seed=3, source="scripted-model")
    build = PersonaBuilder([skeleton])
    good = {
        "background": "Works at the bakery in the old town and sings in a choir on Thursdays.",
        "personality": dict.fromkeys(
            ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"), "High"
        ),
        "values": ["Tradition", "security"],
        "secret": "Has been offered a job in Vienna.",
    }
    persona = build(good, 0)
    assert persona.values == ["tradition", "security"] and persona.personality["openness"] == "high"
    assert (persona.name, persona.age, persona.id) == (skeleton.name, skeleton.age, "german-g3-001")
    with pytest.raises(DraftError, match="personality"):
        build(good | {"personality": {"openness": "high"}}, 0)
    with pytest.raises(DraftError, match="not one of"):
        build(good | {"values": ["money"]}, 0)
    with pytest.raises(Exception, match="low, medium or high"):
        build(good | {"personality": good["personality"] | {"openness": "very"}}, 0)


def test_auto_goes_field_by_field_for_the_embedded_model_only():
    settings = DraftSettings()
    assert settings.stages(ScriptedBackend([])) == (True, True)
    embedded = ScriptedBackend([])
    embedded.model_id_override = "SmolLM2-135M-Instruct+my-adapter"
    assert settings.stages(embedded) == (False, True)
    assert DraftSettings(strategy="json").stages(embedded) == (True, False)


def test_failed_json_drafts_are_built_field_by_field_with_the_structure_from_code():
    library_example = get_scenario("supplier-gift-refusal")
    replies = [
        "not json at all",  # the JSON round (no retries)
        "Returning a borrowed umbrella in the rain",  # title
        "A rainy evening at the office entrance. The borrower brings back a torn umbrella.",  # setting
        "The borrower, the lender.",  # role names
        "Return the umbrella and apologise for the tear.",
        "You tore it on the train.",
        "Get your umbrella back without making a fuss.",
        "You never liked that umbrella anyway.",
    ]
    backend = ScriptedBackend(replies)
    settings = DraftSettings(strategy="json+fields", retries=0)
    report = asyncio.run(
        generate_scenarios(backend, "asking favours", 1, library_example, settings, taken_ids=set())
    )
    [scenario] = report.records
    assert [role.name for role in scenario.roles] == ["borrower", "lender"]
    assert scenario.roles[1].secret == "You never liked that umbrella anyway."
    assert scenario.relationship == "stranger"  # the scripted scores are all equal: the first option
    assert scenario.id == "returning-a-borrowed-umbrella-in-the-rain"
    stages = [attempt.stage for attempt in report.outcomes[0].attempts]
    assert stages[0] == "json" and "fields: title" in stages and "fields: secret" in stages
    # The field questions are one-shot: the library example's own text is the worked answer.
    title_request = backend.requests[1].messages
    assert title_request[2] == {"role": "assistant", "content": library_example.title}
