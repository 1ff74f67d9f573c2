"""`culturesim personas list|show|sample|validate|import`, `culturesim cultures list|show|validate`,
`culturesim cast` and `culturesim schema`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from personas.schema import Persona

TABLE_ROWS = 200  # longer samples are summarised on screen; --out keeps them all
PERSONAS_PATH_HELP = "extra persona file or directory (repeatable; also $CULTURESIM_PERSONAS_PATH)"


def register(subparsers: argparse._SubParsersAction) -> None:
    # The CLI helpers live in simulator.cli, which imports this module by name; importing them at
    # registration time keeps `import personas` free of any higher wing.
    from personas import cast_commands, culture_commands
    from simulator.cli import add_command, add_group

    group = add_group(subparsers, "personas", "List, show, sample, validate and import personas.")
    parser = add_command(
        group,
        "list",
        "List the built-in and user personas.",
        "culturesim personas list --culture japanese",
        list_command,
    )
    parser.add_argument("--culture", help="only personas of this culture (id or country)")
    parser.add_argument("--path", action="append", default=[], help=PERSONAS_PATH_HELP)

    parser = add_command(
        group,
        "show",
        "Show one persona in full.",
        "culturesim personas show japanese-tanaka-hiroshi",
        show_command,
    )
    parser.add_argument("persona_id", metavar="ID")
    parser.add_argument("--path", action="append", default=[], help=PERSONAS_PATH_HELP)

    parser = add_command(
        group,
        "sample",
        "Draw personas from a culture's demographic distributions (deterministic for a seed).",
        "culturesim personas sample --culture mexican -n 20 --seed 7 --out mexican_personas.yaml",
        sample_command,
    )
    parser.add_argument("--culture", required=True, help="culture id or country, e.g. mexican or Mexico")
    parser.add_argument("-n", type=int, default=10, help="how many personas (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", help="write them to this .yaml, .json or .jsonl file")

    parser = add_command(
        group,
        "validate",
        "Check persona files (YAML, JSON or JSONL): schema, known cultures, unique ids.",
        "culturesim personas validate my_personas.yaml more_personas.jsonl",
        validate_command,
    )
    parser.add_argument("files", nargs="+", metavar="FILE")

    parser = add_command(
        group,
        "import",
        "Import Sotopia agent profiles (agent_profiles.jsonl) as personas.",
        "culturesim personas import ../shared/data/sotopia/agent_profiles.jsonl --out sotopia_personas.yaml",
        import_command,
    )
    parser.add_argument("file", metavar="FILE.jsonl")
    parser.add_argument(
        "--culture", default="unspecified", help="culture id for every persona (default: unspecified)"
    )
    parser.add_argument("--out", help="write the personas to this .yaml, .json or .jsonl file")

    culture_commands.register(subparsers, add_command, add_group)
    cast_commands.register(subparsers, add_command)


def persona_table(personas: Sequence[Persona], title: str) -> Table:
    # Sized for an 80-column terminal: ids never wrap, age and gender share a column, and the
    # culture column appears only when the personas are of several cultures.
    several_cultures = len({p.culture for p in personas}) > 1
    table = Table(title=title)
    table.add_column("id", no_wrap=True)  # ids are copied into other commands: never break them
    table.add_column("name", overflow="fold")
    table.add_column("age, gender", no_wrap=True)
    table.add_column("occupation", overflow="fold")
    if several_cultures:
        table.add_column("culture", overflow="fold")
    for persona in personas:
        row = [persona.id, persona.name, f"{persona.age}, {persona.gender}", persona.occupation]
        table.add_row(*[*row, persona.culture] if several_cultures else row)
    return table


def list_command(args: argparse.Namespace) -> int:
    from personas.library import load_personas

    personas = load_personas(args.culture, extra_paths=args.path)
    cultures = sorted({p.culture for p in personas})
    of = f" of culture '{cultures[0]}'" if len(cultures) == 1 else ""
    Console().print(persona_table(personas, f"{len(personas)} personas{of}"))
    return 0


def show_command(args: argparse.Namespace) -> int:
    from personas.library import get_persona

    persona = get_persona(args.persona_id, extra_paths=args.path)
    table = Table(title=f"{persona.name} ({persona.id})", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field, value in persona.model_dump(mode="json").items():
        if value in ("", [], {}):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        table.add_row(field, str(value))
    Console().print(table)
    return 0


def sample_command(args: argparse.Namespace) -> int:
    from rich.progress import track

    from personas.cultures import load_culture
    from personas.library import save_personas
    from personas.sampler import iter_personas

    culture = load_culture(args.culture)
    console = Console()
    drawn = iter_personas(culture, args.n, args.seed)  # checks -n before the progress bar starts
    personas = list(
        track(drawn, total=args.n, description="sampling", console=console, disable=args.n < 2000)
    )
    title = f"{len(personas)} {culture.name} personas (seed {args.seed})"
    console.print(persona_table(personas[:TABLE_ROWS], title))
    if len(personas) > TABLE_ROWS:
        console.print(f"... and {len(personas) - TABLE_ROWS} more (use --out to keep them all)")
    if args.out:
        console.print(f"wrote {len(personas)} personas to {save_personas(personas, args.out)}")
    return 0


def validate_command(args: argparse.Namespace) -> int:
    from personas.library import load_persona_files

    personas = load_persona_files(args.files)
    Console().print(f"[green]ok[/green]: {len(personas)} valid personas in {len(args.files)} file(s)")
    return 0


def import_command(args: argparse.Namespace) -> int:
    from personas.library import save_personas
    from personas.sotopia import import_agent_profiles

    personas = import_agent_profiles(args.file, culture=args.culture)
    console = Console()
    title = f"{len(personas)} personas (culture '{args.culture}') imported from {args.file}"
    console.print(persona_table(personas, title))
    if args.out:
        console.print(f"wrote {len(personas)} personas to {save_personas(personas, args.out)}")
    return 0


def print_json(data: object) -> None:
    # Plain print, not rich: the output is for pipes and editors, and must not be wrapped.
    print(json.dumps(data, indent=2, ensure_ascii=False))
