"""`culturesim cast` (registered by personas.commands).

Scenarios belong to the higher `scenarios` wing, so they are imported inside the handler only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import yaml
from rich.console import Console
from rich.progress import track
from rich.table import Table

from personas.files import BadInputError


def register(subparsers: argparse._SubParsersAction, add_command: Callable) -> None:
    parser = add_command(
        subparsers,
        "cast",
        "Pick personas from a culture's population graph to play each scenario's roles.",
        "culturesim cast --culture japanese --scenario all -n 2 --seed 7 --graph-out japanese_population.graphml",
        cast_command,
    )
    parser.add_argument("--culture", help="culture id or country (default: the culture of --graph)")
    parser.add_argument(
        "--scenario", required=True, help="scenario id (a base id is adapted to --culture), or 'all'"
    )
    parser.add_argument("-n", type=int, default=1, help="castings per scenario (default 1)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the population and the casting (default 0)"
    )
    parser.add_argument(
        "--population", type=int, default=200, help="personas to sample besides the library (default 200)"
    )
    parser.add_argument(
        "--graph", help="use this saved population graph (.json or .graphml) instead of sampling"
    )
    parser.add_argument("--graph-out", help="save the population graph to this .json or .graphml file")
    parser.add_argument("--out", help="write the castings to this .yaml, .json or .jsonl file")
    parser.add_argument(
        "--path", action="append", default=[], help="extra scenario file or directory (repeatable)"
    )


def cast_command(args: argparse.Namespace) -> int:
    from personas.casting import cast
    from personas.cultures import load_culture
    from personas.population import build_population, load_graph, save_graph

    # Check every output path before doing the work, so a typo does not cost a long run.
    for option, path in (("--out", args.out), ("--graph-out", args.graph_out)):
        if path:
            _check_output_path(
                option, path, (".json", ".graphml") if option == "--graph-out" else CASTING_SUFFIXES
            )
    if args.graph:
        graph = load_graph(args.graph)
        culture_id = load_culture(args.culture).id if args.culture else graph.graph.get("culture")
    elif args.culture:
        culture_id = load_culture(args.culture).id
        graph = build_population(culture_id, args.population, args.seed)
    else:
        raise BadInputError("command line", "give --culture (to sample a population) or --graph")
    console = Console()
    if args.graph_out:
        console.print(
            f"population graph ({graph.number_of_nodes()} personas) saved to {save_graph(graph, args.graph_out)}"
        )
    scenarios = _scenarios(args.scenario, culture_id, args.path)
    castings, failures = [], []
    for scenario in track(scenarios, description="casting", console=console, disable=len(scenarios) < 5):
        try:
            castings.extend(cast(scenario, graph, args.n, args.seed))
        except BadInputError as exc:
            if len(scenarios) == 1:
                raise
            failures.append((scenario.id, exc.reason))
    console.print(_castings_table(castings, graph, scenarios))
    for scenario_id, reason in failures:
        console.print(f"[yellow]not cast[/yellow] {scenario_id}: {reason}")
    if args.out:
        _write_castings(castings, Path(args.out))
        console.print(f"wrote {len(castings)} castings to {args.out}")
    return 0 if castings else 1


CASTING_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


def _check_output_path(option: str, path: str, suffixes: tuple[str, ...]) -> None:
    suffix = Path(path).suffix.lower()
    if suffix not in suffixes:
        raise BadInputError(
            option, f"unsupported file type '{suffix}' for {path} (use {', '.join(suffixes)})"
        )
    if Path(path).is_dir():
        raise BadInputError(option, f"{path} is a directory, expected a file")


def _scenarios(wanted: str, culture_id: str | None, paths: list[str]) -> list:
    from scenarios.library import get_scenario, load_scenarios

    if wanted == "all":
        return load_scenarios([culture_id] if culture_id else None, paths=paths)
    scenario = get_scenario(wanted, paths=paths)
    if scenario.culture is None and culture_id:
        scenario = get_scenario(f"{scenario.id}.{culture_id}", paths=paths)
    return [scenario]


def _castings_table(castings: list, graph: nx.Graph, scenarios: list) -> Table:
    relationship = {scenario.id: scenario.relationship for scenario in scenarios}
    table = Table(title=f"{len(castings)} castings")
    table.add_column("scenario", overflow="fold")
    table.add_column("relationship")
    table.add_column("cast", overflow="fold")
    for casting in castings:
        people = []
        for role, node in casting.roles.items():
            persona = graph.nodes[node]
            people.append(f"{role}: {persona['name']} ({persona['age']}, {persona['occupation']}) [{node}]")
        table.add_row(casting.scenario, relationship.get(casting.scenario, ""), "\n".join(people))
    return table


def _write_castings(castings: list, path: Path) -> None:
    records = [casting.model_dump(mode="json") for casting in castings]
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    elif suffix == ".json":
        text = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    else:
        text = yaml.safe_dump({"castings": records}, allow_unicode=True, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
