"""Importing Sotopia environment profiles as scenarios."""

from __future__ import annotations

import pytest

from personas.files import BadInputError
from scenarios.sotopia import import_environment_profiles, split_goal


def sotopia_record(**changes) -> dict:
    record = {
        "env_id": "01TESTENV0000000000000001",
        "codename": "share_the_cake",
        "source": "hand-craft",
        "scenario": 'Two friends have one cake left. <p viewer="environment">Both secretly dislike cake.</p>',
        "agent_goals": [
            "Get the bigger half (<extra_info>Extra information: you skipped lunch.</extra_info>)",
            "Keep the friendship (<extra_info>Extra information: you are on a diet. "
            "<strategy_hint>Hint: suggest sharing it with others</strategy_hint></extra_info>)",
        ],
        "relationship": "3",
        "age_constraint": "[(18, 70), (21, 60)]",
        "occupation_constraint": "nan",
        "agent_constraint": "none",
    }
    record.update(changes)
    return record


def test_tags_move_to_secret_and_hint():
    goal, secret, hint = split_goal(
        "Lend money (<extra_info>Extra information: you have $2000. "
        "<clarification_hint>Hint: keep some savings.</clarification_hint></extra_info>)"
    )
    assert (goal, secret, hint) == ("Lend money", "you have $2000.", "keep some savings.")
    assert split_goal("Ask for donation") == ("Ask for donation", "", "")


def test_fixture_records_import(write_file):
    records = [
        sotopia_record(),
        sotopia_record(env_id="02", relationship="0", codename="share_the_cake"),
        sotopia_record(
            env_id="03", relationship="5", codename="Share The Cake!", occupation_constraint="[actor, actor]"
        ),
        sotopia_record(
            env_id="04",
            codename="bargain",
            source="craigslist_bargains",
            agent_goals=["You are the buyer, target $10.", "You are the seller, target $20."],
            age_constraint="nan",
        ),
    ]
    path = write_file("environment_profiles.jsonl", records)
    scenarios = import_environment_profiles(path)
    assert [s.id for s in scenarios] == ["share_the_cake", "share_the_cake_2", "share_the_cake_3", "bargain"]
    first = scenarios[0]
    assert first.setting == "Two friends have one cake left."
    assert first.judge_notes == "Both secretly dislike cake."
    assert first.relationship == "friend"
    assert first.category == "hand-craft"
    assert [r.goal for r in first.roles] == ["Get the bigger half", "Keep the friendship"]
    assert first.roles[0].secret == "you skipped lunch."
    assert first.roles[1].secret == "you are on a diet."
    assert first.roles[1].hint == "suggest sharing it with others"
    assert [r.age_range for r in first.roles] == [(18, 70), (21, 60)]
    assert first.provenance.method == "import" and first.provenance.source == "sotopia"
    assert first.provenance.source_id == "01TESTENV0000000000000001"
    assert scenarios[1].relationship == "stranger"
    assert scenarios[2].relationship == "family"
    assert [r.occupations for r in scenarios[2].roles] == [["actor"], ["actor"]]
    assert [r.name for r in scenarios[3].roles] == ["buyer", "seller"]
    assert scenarios[3].roles[0].age_range is None
    assert import_environment_profiles(path) == scenarios  # deterministic


@pytest.mark.parametrize(
    ("relationship", "expected"),
    [
        ("0", "stranger"),
        ("1", "acquaintance"),
        ("2", "acquaintance"),
        ("3", "friend"),
        ("4", "romantic"),
        ("5", "family"),
    ],
)
def test_relationship_types_map_to_ours(write_file, relationship, expected):
    path = write_file("one.jsonl", [sotopia_record(relationship=relationship)])
    assert import_environment_profiles(path)[0].relationship == expected


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"relationship": "9"}, "relationship", "unknown relationship"),
        ({"age_constraint": "[(18, 70)"}, "age_constraint", "list of (min, max)"),
        ({"age_constraint": "[(70, 18), (18, 70)]"}, "roles.0.age_range", "reversed"),
        ({"agent_goals": ["only one"]}, "agent_goals", "at least two"),
        ({"agent_goals": "not a list"}, "agent_goals", "list of goal strings"),
        ({"agent_goals": ["<extra_info>x</extra_info>", "ok"]}, "agent_goals.0", "empty"),
        ({"occupation_constraint": "[a, b, c]"}, "occupation_constraint", "3 occupations for 2 agents"),
        ({"scenario": ""}, "setting", "at least 1 character"),
    ],
)
def test_bad_records_name_file_record_and_field(write_file, changes, field, reason):
    path = write_file("bad.jsonl", [sotopia_record(), sotopia_record(codename="broken", **changes)])
    with pytest.raises(BadInputError) as caught:
        import_environment_profiles(path)
    assert caught.value.source == str(path)
    assert caught.value.record == "broken"
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_all_real_sotopia_environment_profiles_import(shared_data):
    path = shared_data / "sotopia" / "environment_profiles.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    scenarios = import_environment_profiles(path)
    assert len(scenarios) == 90
    assert len({s.id for s in scenarios}) == 90
    assert all(s.provenance.source == "sotopia" and s.provenance.source_id for s in scenarios)
    assert all("<" not in r.goal and ">" not in r.goal for s in scenarios for r in s.roles)
    assert all("<" not in s.setting for s in scenarios)
