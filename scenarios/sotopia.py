"""Import Sotopia environment profiles (environment_profiles.jsonl) as scenarios.

A Sotopia record: env_id, codename, source, scenario, agent_goals (one per agent, with private
parts in tags), relationship (RelationshipType as a digit), age_constraint ("[(18, 70), (18, 70)]"),
occupation_constraint ("nan" or "[actor, actor]") and agent_constraint.

Mapping: the goal text outside the tags is the role's goal; <extra_info> becomes the role's secret
(what only this agent knows); <strategy_hint> and <clarification_hint> become the role's hint.
Scenario text in <p viewer="environment"> is for the evaluator only and goes to `judge_notes`;
<p viewer="agent_N"> goes to agent N's secret. agent_constraint pins specific Sotopia agent
profiles; our casting draws personas from a culture instead, so it is not carried over.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from personas.files import BadInputError, read_data_file, validate_record
from scenarios.files import check_scenario, slug
from scenarios.schema import Scenario

# Sotopia's RelationshipType, by value and by name.
RELATIONSHIPS = {
    "0": "stranger",
    "1": "acquaintance",  # know_by_name
    "2": "acquaintance",
    "3": "friend",
    "4": "romantic",  # romantic_relationship
    "5": "family",  # family_member
    "stranger": "stranger",
    "know_by_name": "acquaintance",
    "acquaintance": "acquaintance",
    "friend": "friend",
    "romantic_relationship": "romantic",
    "family_member": "family",
}
HINT_TAG = re.compile(r"<(strategy_hint|clarification_hint)>(.*?)</\1>", re.S)
INFO_TAG = re.compile(r"<extra_info>(.*?)</extra_info>", re.S)
VIEWER_TAG = re.compile(r'<p viewer="([^"]+)">(.*?)</p>', re.S)
ANY_TAG = re.compile(r"</?[a-zA-Z_][^<>]*>")
EMPTY_VALUES = ("", "nan", "none", "null", "[]")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _tidy(text: str) -> str:
    """Whitespace squashed within lines; line breaks kept (Sotopia's friend lists are one per line)."""
    return "\n".join(filter(None, (_squash(line) for line in text.splitlines())))


def _without_prefix(text: str, prefix: str) -> str:
    text = _tidy(text)
    return text[len(prefix) :].strip() if text.lower().startswith(prefix.lower()) else text


def split_goal(text: str) -> tuple[str, str, str]:
    """(goal, secret, hint) of one Sotopia agent goal."""
    hints: list[str] = []
    secrets: list[str] = []

    def take_hint(match: re.Match[str]) -> str:
        hints.append(_without_prefix(match.group(2), "Hint:"))
        return ""

    def take_info(match: re.Match[str]) -> str:
        secrets.append(_without_prefix(match.group(1), "Extra information:"))
        return ""

    text = HINT_TAG.sub(take_hint, text)  # hints first: they may sit inside <extra_info>
    text = INFO_TAG.sub(take_info, text)
    goal = _squash(re.sub(r"\(\s*\)", "", ANY_TAG.sub("", text)))
    return goal, "\n".join(filter(None, secrets)), "\n".join(filter(None, hints))


def split_setting(text: str, agent_count: int) -> tuple[str, str, dict[int, str]]:
    """(setting shown to everyone, notes for the judge, extra secrets by agent index)."""
    judge_notes: list[str] = []
    agent_notes: dict[int, str] = {}

    def take(match: re.Match[str]) -> str:
        viewer, content = match.group(1).strip(), _squash(match.group(2))
        agent = re.fullmatch(r"agent_(\d+)", viewer)
        if agent and 1 <= int(agent.group(1)) <= agent_count:
            index = int(agent.group(1)) - 1
            agent_notes[index] = _squash(f"{agent_notes.get(index, '')} {content}")
        else:
            judge_notes.append(content)
        return ""

    setting = _squash(ANY_TAG.sub("", VIEWER_TAG.sub(take, text)))
    return setting, " ".join(judge_notes), agent_notes


def parse_age_constraint(value: Any, agent_count: int) -> list[tuple[int, int] | None]:
    if value is None or str(value).strip().lower() in EMPTY_VALUES:
        return [None] * agent_count
    try:
        parsed = ast.literal_eval(str(value)) if isinstance(value, str) else value
        ranges = [(int(low), int(high)) for low, high in parsed]
    except (ValueError, SyntaxError, TypeError):
        raise ValueError(
            f"expected a list of (min, max) ages like '[(18, 70), (18, 70)]', got {value!r}"
        ) from None
    if len(ranges) == 1:
        ranges *= agent_count
    if len(ranges) != agent_count:
        raise ValueError(f"{len(ranges)} age ranges for {agent_count} agents")
    return list(ranges)


def parse_occupation_constraint(value: Any, agent_count: int) -> list[list[str]]:
    if value is None or str(value).strip().lower() in EMPTY_VALUES:
        return [[] for _ in range(agent_count)]
    items = value if isinstance(value, list) else str(value).strip().strip("[]").split(",")
    occupations = [str(item).strip().strip("'\"") for item in items]
    if len(occupations) == 1:
        occupations *= agent_count
    if len(occupations) != agent_count:
        raise ValueError(f"{len(occupations)} occupations for {agent_count} agents")
    return [[] if item.lower() in EMPTY_VALUES else [item] for item in occupations]


def role_names(goals: list[str]) -> list[str]:
    """Buyer and seller where the goals say so (bargaining tasks), otherwise numbered participants."""
    found = [re.search(r"\b(buyer|seller)\b", goal, re.I) for goal in goals]
    names = [match.group(1).lower() if match else "" for match in found]
    if all(names) and len(set(names)) == len(names):
        return names
    return [f"participant {index + 1}" for index in range(len(goals))]


def record_to_data(record: dict[str, Any], scenario_id: str) -> dict[str, Any]:
    """The Scenario fields of one Sotopia record; ValueError carries (field, reason) in its args."""
    goals = record.get("agent_goals")
    if not isinstance(goals, list) or not all(isinstance(goal, str) for goal in goals):
        raise ValueError("agent_goals", "expected a list of goal strings")
    if len(goals) < 2:
        raise ValueError("agent_goals", f"needs a goal for each of at least two agents, got {len(goals)}")
    relationship_key = str(record.get("relationship", "")).strip().lower()
    if relationship_key not in RELATIONSHIPS:
        raise ValueError(
            "relationship", f"unknown relationship {record.get('relationship')!r} (Sotopia uses 0-5)"
        )
    setting, judge_notes, agent_notes = split_setting(str(record.get("scenario") or ""), len(goals))
    try:
        ages = parse_age_constraint(record.get("age_constraint"), len(goals))
    except ValueError as exc:
        raise ValueError("age_constraint", str(exc)) from None
    try:
        occupations = parse_occupation_constraint(record.get("occupation_constraint"), len(goals))
    except ValueError as exc:
        raise ValueError("occupation_constraint", str(exc)) from None
    roles = []
    for index, (name, text) in enumerate(zip(role_names(goals), goals)):
        goal, secret, hint = split_goal(text)
        if not goal:
            raise ValueError(f"agent_goals.{index}", "goal is empty once the tags are removed")
        secret = "\n".join(filter(None, [secret, agent_notes.get(index, "")]))
        role: dict[str, Any] = {"name": name, "goal": goal, "secret": secret}
        role.update({"hint": hint, "occupations": occupations[index]})
        if ages[index] is not None:
            role["age_range"] = ages[index]
        roles.append(role)
    source = str(record.get("source") or "").strip()
    return {
        "id": scenario_id,
        "title": str(record.get("codename") or scenario_id).replace("_", " ").strip().capitalize(),
        "category": source or "imported",
        "setting": setting,
        "relationship": RELATIONSHIPS[relationship_key],
        "roles": roles,
        "judge_notes": judge_notes,
        "provenance": {"method": "import", "source": "sotopia", "source_id": record.get("env_id") or None},
    }


def unique_id(record: dict[str, Any], index: int, taken: set[str]) -> str:
    """The codename as an id; a repeated one gets _2, _3 ... in file order (deterministic)."""
    base = slug(str(record.get("codename") or record.get("env_id") or f"sotopia_{index}"))
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    taken.add(candidate)
    return candidate


def records_to_scenarios(records: list[Any], path: str | Path) -> Iterator[Scenario]:
    """Sotopia records as scenarios, one at a time (the CLI shows progress over them)."""
    taken: set[str] = set()
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadInputError(path, f"expected a JSON object, got {type(record).__name__}", record=index)
        label = record.get("codename") or record.get("env_id") or index
        scenario_id = unique_id(record, index, taken)
        try:
            fields = record_to_data(record, scenario_id)
        except ValueError as exc:
            field, reason = exc.args
            raise BadInputError(path, reason, record=label, field=field) from None
        scenario = validate_record(Scenario, fields, path, label)
        check_scenario(scenario, path, known_cultures=())
        yield scenario


def read_environment_profiles(path: str | Path) -> list[Any]:
    data = read_data_file(path)
    records = data if isinstance(data, list) else [data]
    if not records:
        raise BadInputError(path, "no records found")
    return records


def import_environment_profiles(path: str | Path) -> list[Scenario]:
    """All records of a Sotopia environment_profiles.jsonl (or a .json list) as scenarios."""
    return list(records_to_scenarios(read_environment_profiles(path), path))
