"""`culturesim cultures list|show|validate` and `culturesim schema` (registered by personas.commands)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from personas.descriptors import HOFSTEDE_PHRASES, level
from personas.schema import CultureProfile

HOFSTEDE_SHORT = {
    "power_distance": "PDI",
    "individualism": "IDV",
    "masculinity": "MAS",
    "uncertainty_avoidance": "UAI",
    "long_term_orientation": "LTO",
    "indulgence": "IVR",
}
SCHEMA_NAMES = ("scenario", "persona", "culture", "casting")


def register(subparsers: argparse._SubParsersAction, add_command: Callable, add_group: Callable) -> None:
    group = add_group(subparsers, "cultures", "List, show and validate culture profiles.")
    add_command(
        group,
        "list",
        "List the culture profiles with their Hofstede scores and Inglehart-Welzel coordinates.",
        "culturesim cultures list",
        list_command,
    )
    parser = add_command(
        group,
        "show",
        "Show one culture: scores, derived prompt descriptors, demographics, naming and norms.",
        "culturesim cultures show japanese",
        show_command,
    )
    parser.add_argument("culture_id", metavar="ID", help="culture id or country, e.g. japanese or Japan")
    parser = add_command(
        group,
        "validate",
        "Check culture files against the CultureProfile schema (add them via $CULTURESIM_CULTURES_PATH).",
        "culturesim cultures validate my_cultures/korean.yaml",
        validate_command,
    )
    parser.add_argument("files", nargs="+", metavar="FILE")

    parser = add_command(
        subparsers,
        "schema",
        "Print the JSON Schema of a file format, for editors and validators.",
        "culturesim schema persona > persona.schema.json",
        schema_command,
    )
    parser.add_argument("kind", choices=SCHEMA_NAMES)


def list_command(args: argparse.Namespace) -> int:
    from personas.cultures import BUILTIN_CULTURES_DIR, culture_source, list_cultures

    cultures = list_cultures()
    files = {c.id: culture_source(c.id) for c in cultures}
    show_files = any(path.parent != BUILTIN_CULTURES_DIR for path in files.values())
    table = Table(
        title="Culture profiles",
        caption="Hofstede scores 0-100; T-S, S-SE: Inglehart-Welzel traditional-secular, survival-self-expression",
    )
    table.add_column("id", no_wrap=True)
    table.add_column("country", no_wrap=True)
    for column in (*HOFSTEDE_SHORT.values(), "T-S", "S-SE"):
        table.add_column(column, justify="right")
    if show_files:
        table.add_column("file", overflow="fold")
    for culture in cultures:
        iw = culture.inglehart_welzel
        row = [
            culture.id,
            culture.country,
            *(str(getattr(culture.hofstede, field)) for field in HOFSTEDE_SHORT),
            f"{iw.traditional_secular:+.1f}",
            f"{iw.survival_self_expression:+.1f}",
        ]
        if show_files:
            row.append(
                "built-in" if files[culture.id].parent == BUILTIN_CULTURES_DIR else str(files[culture.id])
            )
        table.add_row(*row)
    Console().print(table)
    return 0


def show_command(args: argparse.Namespace) -> int:
    from personas.cultures import load_culture

    culture = load_culture(args.culture_id, source="culture id")
    console = Console()
    console.print(f"[bold]{culture.name}[/bold] ({culture.id}) - {culture.country}, {culture.language}")
    scores = Table(title="Hofstede dimensions and derived descriptors")
    for column in ("dimension", "score", "level", "prompt descriptor"):
        scores.add_column(column, overflow="fold")
    descriptors = culture.descriptors()
    for index, field in enumerate(HOFSTEDE_PHRASES):
        score = getattr(culture.hofstede, field)
        scores.add_row(field.replace("_", " "), str(score), level(score), descriptors[index])
    iw = culture.inglehart_welzel
    scores.add_row("traditional-secular", f"{iw.traditional_secular:+.2f}", "", descriptors[-2])
    scores.add_row("survival-self-expression", f"{iw.survival_self_expression:+.2f}", "", descriptors[-1])
    console.print(scores)
    console.print(_demographics_table(culture))
    naming = culture.naming
    order = "family name first" if naming.family_name_first else "given name first"
    console.print(
        f"[bold]Names[/bold] ({order}): e.g. {', '.join(naming.family_names[:5])}; cities: {', '.join(naming.cities[:5])}"
    )
    console.print(f"[bold]Greeting[/bold]: {naming.greeting}   [bold]Currency[/bold]: {naming.currency}")
    console.print("[bold]Norms[/bold]:")
    for norm in culture.norms:
        console.print(f"  - {norm}")
    console.print("[bold]Sources[/bold]:")
    for source in culture.sources:
        console.print(f"  - {source}")
    return 0


def _demographics_table(culture: CultureProfile) -> Table:
    table = Table(title="Demographics (sampling weights, % of the listed total)")
    table.add_column("attribute")
    table.add_column("distribution", overflow="fold")
    demo = culture.demographics
    for field in (
        "age_bands",
        "gender",
        "education",
        "settlement",
        "occupation_groups",
        "marital_status",
        "household_size",
    ):
        weights: dict[str, float] = getattr(demo, field)
        total = sum(weights.values())
        shares = ", ".join(f"{key} {100 * weight / total:.0f}%" for key, weight in weights.items())
        table.add_row(field.replace("_", " "), shares)
    return table


def validate_command(args: argparse.Namespace) -> int:
    from personas.files import BadInputError, load_records

    count = 0
    seen: dict[str, Path] = {}
    for file in args.files:
        for culture in load_records(file, CultureProfile, key="cultures"):
            if culture.id in seen:
                raise BadInputError(
                    file, f"duplicate id (also in {seen[culture.id]})", record=culture.id, field="id"
                )
            seen[culture.id] = Path(file)
            count += 1
    Console().print(f"[green]ok[/green]: {count} valid culture profile(s) in {len(args.files)} file(s)")
    return 0


def schema_command(args: argparse.Namespace) -> int:
    from personas.commands import print_json

    if args.kind == "scenario":
        from scenarios.schema import Scenario  # the one place personas reaches up: a CLI handler

        model: type = Scenario
    elif args.kind == "persona":
        from personas.schema import Persona

        model = Persona
    elif args.kind == "casting":
        from personas.casting import Casting

        model = Casting
    else:
        model = CultureProfile
    print_json(model.model_json_schema())
    return 0
