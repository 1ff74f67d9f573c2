"""Shared helpers for benchmarks: print a rich table and append it, with machine and date, to RESULTS.md."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    """CPU model and core count, e.g. 'AMD EPYC, 2 cores, Linux 6.1'."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def record_results(title: str, table_rows: Sequence[dict[str, Any]], notes: str = "") -> None:
    """Print the rows as a table and append a section to benchmarks/RESULTS.md."""
    columns = list(dict.fromkeys(key for row in table_rows for key in row))
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in table_rows:
        table.add_row(*(_cell(row.get(column, "")) for column in columns))
    Console().print(table)
    lines = [
        f"## {title}",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M')}  ",
        f"Machine: {machine()}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |" for row in table_rows),
        "",
    ]
    if notes:
        lines += [notes, ""]
    if not RESULTS.exists():
        lines = [
            "# Benchmark results",
            "",
            "Appended by the scripts in benchmarks/ (newest last).",
            "",
            *lines,
        ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
