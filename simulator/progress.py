"""The simulate progress bar: episodes, turns/s, tokens/s and ETA, fed by engine events."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from simulator.events import EpisodeFinished, EventBus, RunFinished, RunStarted, TurnCompleted


async def show_progress(bus: EventBus, console: Console | None = None) -> None:
    """Consume events until RunFinished (or cancellation) and draw one progress bar."""
    queue = bus.subscribe()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rates]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=False,
    )
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
