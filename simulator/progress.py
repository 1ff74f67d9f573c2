"""The simulate progress bar: episodes, turns/s, tokens/s and ETA, fed by engine events."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from simulator.events import EpisodeFinished, EventBus, RunFinished, RunStarted, TurnCompleted


def progress_bar(*fields: ProgressColumn, console: Console | None = None) -> Progress:
    """The commands' progress bar: description, bar, done/total, `fields`, elapsed time, ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *fields,
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


async def show_progress(bus: EventBus, console: Console | None = None) -> None:
    """Consume events until RunFinished (or cancellation) and draw one progress bar."""
    queue = bus.subscribe()
    progress = progress_bar(TextColumn("{task.fields[rates]}"), console=console or Console(stderr=True))
    task = progress.add_task("episodes", total=None, rates="")
    turns = tokens = failed = 0
    started = time.perf_counter()
    try:
        with progress:
            while True:
                event = await queue.get()
                if isinstance(event, RunStarted):
                    todo = event.planned - event.already_done
                    progress.update(task, total=todo, description=f"episodes ({event.model})")
                    started = time.perf_counter()
                elif isinstance(event, TurnCompleted):
                    turns += 1
                    tokens += event.turn.completion_tokens
                elif isinstance(event, EpisodeFinished):
                    failed += event.episode.status == "failed"
                    progress.advance(task)
                elif isinstance(event, RunFinished):
                    break
                elapsed = max(time.perf_counter() - started, 1e-9)
                rates = f"{turns / elapsed:.2f} turns/s  {tokens / elapsed:.1f} tok/s"
                progress.update(task, rates=rates + (f"  [red]{failed} failed[/red]" if failed else ""))
    finally:
        bus.unsubscribe(queue)
