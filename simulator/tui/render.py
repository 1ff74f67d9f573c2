"""Rich renderables of a RunState: header, a grid of conversations sized to the terminal, footer."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.layout import Layout
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from simulator.records import Judgement, Turn
from simulator.tui.state import ConversationView, RunState

SPEAKER_STYLES = ("bold cyan", "bold magenta", "bold green", "bold yellow", "bold blue", "bold red")
PANEL_MIN_WIDTH = 44
PANEL_HEIGHT = 11


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def render_header(state: RunState) -> Panel:
    status = "finished" if state.finished else "running"
    line1 = Text.assemble(
        (state.run_name or "run", "bold"),
        f"  {state.backend}",
        (f" · {state.model}" if state.model else ""),
        (f"  [{status}]", "green" if state.finished else "yellow"),
    )
    line2 = Text.assemble(
        ("done ", "dim"),
        (str(state.done), "bold green"),
        ("  running ", "dim"),
        (str(state.running), "bold yellow"),
        ("  failed ", "dim"),
        (str(state.failed), "bold red" if state.failed else "bold"),
        ("  planned ", "dim"),
        (str(state.planned), "bold"),
        ("  turns/s ", "dim"),
        f"{state.rate(state.turns):.1f}",
        ("  tokens/s ", "dim"),
        f"{state.rate(state.tokens):.0f}",
        ("  elapsed ", "dim"),
        format_duration(state.elapsed),
        ("  eta ", "dim"),
        format_duration(state.eta_s),
    )
    return Panel(Group(line1, line2), padding=(0, 1))


def render_turn(turn: Turn, style: str, width: int) -> Text:
    budget = max(20, width * 2)
    body = turn.text if len(turn.text) <= budget else turn.text[: budget - 1] + "…"
    line = Text.assemble((f"{turn.speaker_name}: ", style))
    if turn.action == "non-verbal":
        line.append(f"*{body}*", style="italic dim")
    elif turn.action == "leave":
        line.append(body + " " if body else "", style="")
        line.append("⟶ leaves", style="bold red")
    elif turn.action == "none":
        line.append("(silent)", style="dim")
    else:
        line.append(body)
    if turn.intent:
        line.append(f"\n  ↳ {turn.intent}", style="dim italic")
    return line


def render_verdict(judgement: Judgement) -> Text:
    kept = ("kept", "bold green") if judgement.kept else ("dropped", "bold red")
    return Text.assemble(
        f"quality {judgement.quality.label} {judgement.quality.confidence:.2f} · ",
        f"{judgement.alignment.label} {judgement.alignment.confidence:.2f} · ",
        kept,
    )


def render_conversation(conversation: ConversationView, width: int, height: int) -> Panel:
    names = " & ".join(f"{name} ({role})" if role else name for _, name, role in conversation.participants)
    lines: list[RenderableType] = [Text(names, style="dim")]
    room = max(1, height - 4)
    turns = list(conversation.turns)[-room:]
    for turn in turns:
        style = SPEAKER_STYLES[conversation.speaker_index(turn.speaker) % len(SPEAKER_STYLES)]
        lines.append(render_turn(turn, style, width))
    title = Text.assemble(
        (conversation.title, "bold"), (f" · {conversation.culture}" if conversation.culture else "", "cyan")
    )
    if conversation.judgement:
        subtitle: Text | str = render_verdict(conversation.judgement)
    elif conversation.status == "running":
        subtitle = Text("…", style="yellow")
    else:
        subtitle = Text(conversation.end_reason, style="red" if conversation.status == "failed" else "dim")
    border = {"running": "yellow", "done": "green", "failed": "red"}[conversation.status]
    return Panel(Group(*lines), title=title, subtitle=subtitle, border_style=border, height=height)


def render_grid(state: RunState, width: int, height: int) -> RenderableType:
    columns = max(1, width // PANEL_MIN_WIDTH)
    rows = max(1, height // PANEL_HEIGHT)
    panel_height = max(6, height // rows)
    running = [c for c in state.conversations.values() if c.status == "running"]
    finished = [c for c in reversed(state.conversations.values()) if c.status != "running"]
    shown = (running + finished)[: columns * rows]
    if not shown:
        return Panel(Text("waiting for the first conversation…", style="dim"), height=max(3, height))
    grid = Table.grid(expand=True, padding=0)
    for _ in range(columns):
        grid.add_column(ratio=1)
    panel_width = width // columns
    for start in range(0, len(shown), columns):
        cells = [render_conversation(c, panel_width, panel_height) for c in shown[start : start + columns]]
        grid.add_row(*cells, *[""] * (columns - len(cells)))
    return grid


def render_footer(state: RunState) -> Text:
    summary = state.judge_summary
    if not summary:
        return Text("judge: not run yet", style="dim")
    kept, dropped = summary.get("kept", 0), summary.get("dropped", 0)
    total = kept + dropped
    share = f"{kept / total:.0%}" if total else "-"
    labels = "  ".join(f"{name}: {count}" for name, count in summary.get("labels", {}).items())
    return Text.assemble(
        ("judge ", "bold"),
        f"kept {kept}/{total} ({share})  ",
        ("dropped ", "dim"),
        str(dropped),
        f"  {labels}",
    )


def render_dashboard(state: RunState, width: int, height: int) -> Layout:
    layout = Layout()
    layout.split_column(Layout(name="header", size=4), Layout(name="grid"), Layout(name="footer", size=1))
    layout["header"].update(render_header(state))
    layout["grid"].update(render_grid(state, width, max(6, height - 5)))
    layout["footer"].update(render_footer(state))
    return layout


def plain_line(conversation: ConversationView | None, turn: Turn) -> str:
    """The non-TTY fallback: one line per turn."""
    where = f"[{conversation.title} · {conversation.culture}]" if conversation else ""
    marker = {"non-verbal": "*", "leave": "(leaves) ", "none": "(silent) "}.get(turn.action, "")
    text = f"*{turn.text}*" if turn.action == "non-verbal" else f"{marker}{turn.text}"
    return f"{where} {turn.speaker_name} ({turn.role}): {text}".strip()
