"""`culturesim scenarios list|show|validate|review|adapt|import` (`generate` and the `adapt --method llm`
options come from simulator/commands/design.py, which needs the model backends)."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from personas.files import BadInputError
from scenarios.placeholders import KINDS
from scenarios.schema import Scenario

ADAPTATION_METHODS = ("template", "llm")


def register(subparsers: argparse._SubParsersAction) -> None:
    # The CLI helpers live in the simulator's cli module, which imports this one by name; importing
    # them here, at registration time, keeps `import scenarios` free of the simulator.
    from simulator.cli import add_command, add_group

    group = add_group(
        subparsers, "scenarios", "List, show, validate, review, adapt, import and generate social scenarios."
    )
    paths_help = "extra scenario file or directory (repeatable; also $CULTURESIM_SCENARIOS_PATH)"

    parser = add_command(
        group,
        "list",
        "List the base scenarios and their culture adaptations.",
        "culturesim scenarios list --culture japanese --category 'gift giving'",
        list_command,
    )
    parser.add_argument("--culture", help="list the scenarios adapted to this culture")
    parser.add_argument("--category", help="only this kind of situation, e.g. 'negotiation'")
    parser.add_argument("--base", action="store_true", help="only the base scenarios, without adaptations")
    parser.add_argument("--path", action="append", default=[], help=paths_help)

    parser = add_command(
        group,
        "show",
        "Show one scenario: setting, relationship, each role's goal and secret.",
        "culturesim scenarios show dinner-invitation-decline.japanese",
        show_command,
    )
    parser.add_argument("scenario_id", metavar="ID", help="a base id, or <base-id>.<culture-id>")
    parser.add_argument("--yaml", action="store_true", help="print the scenario as YAML instead of a panel")
    parser.add_argument("--path", action="append", default=[], help=paths_help)

    parser = add_command(
        group,
        "validate",
        "Check scenario files (YAML, JSON or JSONL): schema, known cultures, placeholders, unique ids.",
        "culturesim scenarios validate my_scenarios.yaml",
        validate_command,
    )
    parser.epilog += f"\n\nplaceholders in base scenarios: {', '.join('{' + kind + '}' for kind in KINDS)}"
    parser.epilog += "\n(see scenarios/placeholders.py for their arguments)"
    parser.add_argument("files", nargs="+", metavar="FILE")

    parser = add_command(
        group,
        "review",
        "Show a scenario file record by record, with every problem listed and, for an adapted "
        "scenario, a diff against its base.",
        "culturesim scenarios review drafts/gift_giving.yaml",
        review_command,
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--path", action="append", default=[], help=paths_help)

    parser = add_command(
        group,
        "adapt",
        "Adapt a base scenario to one or more cultures and print or write the result.",
        "culturesim scenarios adapt market-haggling --to japanese --to mexican --out haggling.yaml",
        adapt_command,
    )
    parser.add_argument("scenario_id", metavar="SCENARIO_ID")
    parser.add_argument(
        "--to", action="append", required=True, metavar="CULTURE", help="target culture (repeatable)"
    )
    parser.add_argument(
        "--method",
        choices=ADAPTATION_METHODS,
        default="template",
        help="template (default, offline) or llm (a model rewrites it; see --backend)",
    )
    parser.add_argument("--out", help="write to this .yaml/.json/.jsonl file instead of printing YAML")
    parser.add_argument("--path", action="append", default=[], help=paths_help)

    parser = add_command(
        group,
        "import",
        "Import Sotopia environment profiles (environment_profiles.jsonl) as scenarios.",
        "culturesim scenarios import ../shared/data/sotopia/environment_profiles.jsonl --out my_scenarios/",
        import_command,
    )
    parser.add_argument("file", metavar="FILE", help="a Sotopia environment_profiles .jsonl (or .json list)")
    parser.add_argument(
        "--out", help="a .yaml/.json/.jsonl file, or a directory (one YAML file per category)"
    )


def _filter_category(scenarios: list[Scenario], category: str | None) -> list[Scenario]:
    if not category:
        return scenarios
    wanted = category.strip().lower()
    chosen = [s for s in scenarios if s.category.lower() == wanted]
    if not chosen:
        known = sorted({s.category for s in scenarios})
        raise BadInputError(
            "--category", f"no scenarios in category '{category}'; categories: {', '.join(known)}"
        )
    return chosen


def list_command(args: argparse.Namespace) -> int:
    from personas.cultures import list_cultures
    from scenarios.library import load_base_scenarios, load_scenarios, resolve_cultures

    console = Console()
    if args.culture:
        culture_id = resolve_cultures([args.culture])[0]
        scenarios = _filter_category(load_scenarios([culture_id], paths=args.path), args.category)
        table = Table(title=f"Scenarios adapted to {culture_id}", caption=f"{len(scenarios)} scenarios")
        for column in ("id", "title", "category", "relationship", "roles", "method"):
            table.add_column(column, overflow="fold")
        for s in scenarios:
            roles = ", ".join(role.name for role in s.roles)
            table.add_row(s.id, s.title, s.category, s.relationship, roles, s.provenance.method)
        console.print(table)
        return 0
    bases = _filter_category(load_base_scenarios(paths=args.path), args.category)
    adaptations: dict[str, list[str]] = defaultdict(list)
    if not args.base:
        for scenario in load_scenarios(paths=args.path):
            if scenario.provenance.base_scenario and scenario.culture:
                adaptations[scenario.provenance.base_scenario].append(scenario.culture)
    codes = {culture.id: culture.country_code for culture in list_cultures()}  # keeps the column narrow
    # Columns by terminal width, so that an 80-column terminal still gets a readable table.
    columns = ["category", "roles"]
    if console.width >= 100:
        columns.insert(1, "relationship")
    if console.width >= 140:
        columns.insert(0, "title")
    if not args.base:
        columns.append("adapted to")
    table = Table(title="Base scenarios")
    table.add_column("id", no_wrap=True)
    for column in columns:
        table.add_column(column, min_width=9)
    for s in bases:
        cells = {
            "title": s.title,
            "category": s.category,
            "relationship": s.relationship,
            "roles": ", ".join(role.name for role in s.roles),
            "adapted to": " ".join(codes.get(culture, culture) for culture in adaptations[s.id]),
        }
        table.add_row(s.id, *(cells[column] for column in columns))
    caption = f"{len(bases)} base scenarios in {len({s.category for s in bases})} categories"
    if not args.base:
        legend = ", ".join(f"{code} {culture_id}" for culture_id, code in codes.items())
        caption += f", {sum(len(adaptations[s.id]) for s in bases)} adaptations ({legend})"
    table.caption = caption
    console.print(table)
    return 0


def render_scenario(scenario: Scenario) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    provenance = scenario.provenance
    origin = f"{provenance.method} ({provenance.source})"
    if provenance.base_scenario:
        origin += f", from {provenance.base_scenario}"
    for label, value in (
        ("category", scenario.category),
        ("relationship", scenario.relationship),
        ("culture", scenario.culture or "none (base scenario)"),
        ("provenance", origin),
    ):
        facts.add_row(label, value)
    roles = Table(show_lines=True, expand=True)
    for column in ("role", "goal", "secret", "casting"):
        roles.add_column(column, overflow="fold")
    for role in scenario.roles:
        casting = []
        if role.age_range:
            casting.append(f"age {role.age_range[0]}-{role.age_range[1]}")
        if role.occupations:
            casting.append(", ".join(role.occupations))
        secret = role.secret + (f"\n[dim]hint: {role.hint}[/dim]" if role.hint else "")
        roles.add_row(role.name, role.goal, secret, "\n".join(casting))
    parts = [facts, Text(""), Text(scenario.setting), Text(""), roles]
    if scenario.judge_notes:
        parts.append(Text(f"judge notes: {scenario.judge_notes}", style="dim"))
    return Panel(Group(*parts), title=f"[bold]{scenario.title}[/bold]", subtitle=scenario.id)


def show_command(args: argparse.Namespace) -> int:
    from scenarios.files import dump_yaml
    from scenarios.library import get_scenario

    scenario = get_scenario(args.scenario_id, paths=args.path)
    if args.yaml:
        sys.stdout.write(dump_yaml([scenario]))
    else:
        Console().print(render_scenario(scenario))
    return 0


def validate_command(args: argparse.Namespace) -> int:
    from scenarios.files import known_culture_ids, read_scenario_file

    console = Console()
    cultures = known_culture_ids()
    first_seen: dict[str, str] = {}
    failed = 0
    for path in args.files:
        try:
            scenarios = read_scenario_file(path, cultures)
            for scenario in scenarios:
                if scenario.id in first_seen:
                    reason = f"duplicate id (already defined in {first_seen[scenario.id]})"
                    raise BadInputError(path, reason, record=scenario.id, field="id")
                first_seen[scenario.id] = path
        except BadInputError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        console.print(f"[green]ok[/green] {path}: {len(scenarios)} scenario(s)", soft_wrap=True)
    return 2 if failed else 0


def adapt_command(args: argparse.Namespace) -> int:
    from scenarios.adaptation import adapt_by_template
    from scenarios.files import dump_yaml, write_scenarios
    from scenarios.library import culture_profile, get_scenario, resolve_cultures

    scenario = get_scenario(args.scenario_id, paths=args.path)
    if scenario.culture is not None:
        if not scenario.provenance.base_scenario:
            raise BadInputError(
                "SCENARIO_ID", f"'{scenario.id}' is culture-specific and has no base scenario to adapt"
            )
        scenario = get_scenario(scenario.provenance.base_scenario, paths=args.path)
    if args.method == "llm":
        # Lazy on purpose: the model backends live in the simulator, a higher wing than scenarios.
        from simulator.commands.design import adapt_with_llm

        return adapt_with_llm(args, scenario)
    adapted = [
        adapt_by_template(scenario, culture_profile(culture_id)) for culture_id in resolve_cultures(args.to)
    ]
    if args.out:
        written = write_scenarios(adapted, args.out)
        Console(stderr=True).print(
            f"wrote {len(adapted)} scenario(s) to {', '.join(map(str, written))}", soft_wrap=True
        )
    else:
        sys.stdout.write(dump_yaml(adapted))
    return 0


def review_command(args: argparse.Namespace) -> int:
    from scenarios.review import render_record, review_file

    console = Console()
    reviewed = review_file(args.file, paths=args.path)
    for record in reviewed:
        for part in render_record(record):
            console.print(part)
    troubled = [record for record in reviewed if record.problems]
    problems = sum(len(record.problems) for record in reviewed)
    summary = f"{args.file}: {len(reviewed)} scenario(s)"
    if troubled:
        console.print(
            f"[red]{summary}, {len(troubled)} with problems ({problems} in all)[/red]", soft_wrap=True
        )
        return 2
    console.print(f"[green]{summary}, no problems[/green]", soft_wrap=True)
    return 0


def import_command(args: argparse.Namespace) -> int:
    from rich.progress import track

    from scenarios.files import write_scenarios
    from scenarios.sotopia import read_environment_profiles, records_to_scenarios

    console = Console()
    records = read_environment_profiles(args.file)
    converted = records_to_scenarios(records, args.file)
    scenarios = list(
        track(converted, total=len(records), description="importing", console=console, transient=True)
    )
    by_category: dict[str, int] = defaultdict(int)
    for scenario in scenarios:
        by_category[scenario.category] += 1
    table = Table(title=f"Imported from {args.file}")
    table.add_column("category")
    table.add_column("scenarios", justify="right")
    for category, count in sorted(by_category.items()):
        table.add_row(category, str(count))
    console.print(table)
    console.print(f"imported {len(scenarios)} scenarios")
    if not args.out:
        console.print(
            "nothing written: add --out FILE_OR_DIR to keep them (a directory works as $CULTURESIM_SCENARIOS_PATH)"
        )
    else:
        written = write_scenarios(scenarios, args.out)
        console.print(f"wrote {len(written)} file(s): {', '.join(map(str, written))}", soft_wrap=True)
    return 0
