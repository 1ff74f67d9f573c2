"""`culturesim scenarios review`: every problem of every record, and a diff for an adapted scenario."""

from __future__ import annotations

import textwrap

from scenarios.review import review_file
from simulator.cli import main

BAD_FILE = textwrap.dedent(
    """\
    - id: Bad Id
      title: ""
      category: gift giving
      setting: At a {venue:Restaurant} in {town}.
      relationship: boss
      roles:
        - {name: host, goal: Eat., colour: red}
    - id: fine-apart-from-a-secret
      title: A fine scenario
      category: gift giving
      setting: Somewhere in {city}.
      relationship: friend
      roles:
        - {name: giver, goal: Give.}
        - {name: taker, goal: Take., secret: "{oops}"}
    - id: fine-apart-from-a-secret
      title: The same id again
      category: gift giving
      setting: Somewhere.
      relationship: friend
      roles:
        - {name: giver, goal: Give.}
        - {name: taker, goal: Take.}
    """
)


def test_every_problem_of_every_record_is_listed(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_FILE)
    first, second, third = review_file(path)
    assert {field for field, _ in first.problems} == {
        "id",
        "title",
        "relationship",
        "roles.0.colour",
        "setting",
    }
    assert len([f for f, _ in first.problems if f == "setting"]) == 2  # both bad placeholders
    assert (
        second.scenario is not None
        and second.problems == [("roles.1.secret", second.problems[0][1])]
        and "{oops}" in second.problems[0][1]
    )
    assert [field for field, _ in third.problems] == ["id"]

    assert main(["scenarios", "review", str(path)]) == 2
    out = capsys.readouterr().out
    assert "roles.0.colour" in out and "'^[a-z0-9][a-z0-9_.-]*$'" in out  # rich markup must not eat brackets
    assert "3 with problems (8 in all)" in out.replace("\n", " ")


def test_an_adapted_scenario_is_diffed_against_its_base(tmp_path, capsys):
    adapted = tmp_path / "adapted.yaml"
    assert (
        main(["scenarios", "adapt", "supplier-gift-refusal", "--to", "japanese", "--out", str(adapted)]) == 0
    )
    capsys.readouterr()
    assert main(["scenarios", "review", str(adapted)]) == 0
    out = capsys.readouterr().out
    assert "changes from base supplier-gift-refusal" in out
    assert "-  The end of a long business lunch at a {venue:restaurant}" in out
    assert "+culture: japanese" in out and "no problems" in out


def test_a_missing_base_is_said_not_hidden(tmp_path, capsys):
    path = tmp_path / "orphan.yaml"
    path.write_text(
        "id: orphan.japanese\ntitle: t\ncategory: c\nsetting: s\nrelationship: friend\nculture: japanese\n"
        "roles: [{name: a, goal: g}, {name: b, goal: h}]\nprovenance: {base_scenario: no-such-base, method: llm}\n"
    )
    assert main(["scenarios", "review", str(path)]) == 0
    assert "base scenario 'no-such-base' not shown" in capsys.readouterr().out
