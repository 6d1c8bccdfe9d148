"""The meters panel beside the chat: the machine's load, memory, GPUs and power, what a
`whirr serve` on this machine is serving, the answer being written, the last answer's cost, and
the totals of the session and of all time.

The panel only shows what it is given (`show_machine`, `show_served`, `show_answer`,
`show_totals`); the chat
screen feeds it from the app's sampler a few times a second while it is displayed. The text of
each part comes from a pure function below, so what the panel says is testable without a screen.

Sparklines are drawn here rather than with Textual's Sparkline widget because that one scales
to the minimum and maximum of its data: a machine idling at 3% would look fully loaded. Load
uses a fixed 0-100% scale; power is scaled to its own peak, which the line names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.format import everyday_equivalents, format_co2, format_cost, format_duration, format_joules, format_watts, format_wh, human_size

if TYPE_CHECKING:
    from tui.engine.runner.registry import ServedEntry
    from tui.meters import AnswerEnergy, GpuReading, LiveEnergy, Sample

PANEL_WIDTH = 36
TEXT_WIDTH = PANEL_WIDTH - 4  # the left border, the padding and room for a scrollbar
LABEL = 6  # width of the labels in the first column
BARS = " ▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True)
class LiveAnswer:
    """The answer being written, as the panel shows it."""

    rate: float | None
    energy: LiveEnergy | None
    remote: str = ""  # the server writing it; its energy is not measured on this machine


def level_style(percent: float) -> str:
    """A gauge's colour: calm, busy, saturated."""
    return "green" if percent < 60 else "yellow" if percent < 85 else "red"


def gauge(percent: float, width: int) -> Text:
    """A horizontal bar filled to `percent`, drawn in eighths of a cell."""
    percent = min(max(percent, 0.0), 100.0)
    eighths = round(percent / 100 * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (EIGHTHS[part] if part else "")
    text = Text(bar, style=level_style(percent))
    text.append("░" * (width - len(bar)), style="dim")
    return text


def core_bar(percent: float) -> str:
    """One core's load as one cell: a dot when idle, at least the lowest bar when busy at all."""
    if percent < 1:
        return "·"
    return BARS[min(max(round(percent / 100 * 8), 1), 8)]


def spark(values: Sequence[float], width: int, top: float) -> str:
    """The last `width` values as one line of bars on a fixed 0..`top` scale."""
    shown = list(values)[-width:]
    if top <= 0:
        return " " * width
    cells = [BARS[min(max(round(v / top * 8), 0), 8)] for v in shown]
    return "".join(cells).rjust(width)


def machine_text(sample: Sample | None, history: Sequence[Sample]) -> Text:
    """CPU (with one bar per core when they fit), RAM and whirr's own use, GPUs, power. While a
    `whirr serve` runs here, whirr's own use is the app's ("app": this process and its runners)
    and the server's processes get a line of their own ("serve")."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if sample is None:
        text.append("reading the machine…", style="dim")
        return text
    gauge_width = TEXT_WIDTH - LABEL - 6
    cpu = sample.cpu_percent or 0.0
    text.append(f"{'CPU':<{LABEL}}", style="bold")
    text.append(f"{cpu:3.0f}% ")
    text.append_text(gauge(cpu, gauge_width))
    text.append("\n")
    cores = sample.cpu_percent_per_core
    if cores and len(cores) <= TEXT_WIDTH - LABEL:
        text.append(f"{'cores':<{LABEL}}", style="dim")
        for load in cores:
            text.append(core_bar(load), style=level_style(load))
        text.append("\n")
    loads = [s.cpu_percent for s in history if s.cpu_percent is not None]
    text.append(" " * LABEL + spark(loads, TEXT_WIDTH - LABEL, 100.0), style="cyan")
    text.append("\n")
    text.append(f"{'RAM':<{LABEL}}", style="bold")
    text.append(f"{sample.ram_percent:3.0f}% ")
    text.append_text(gauge(sample.ram_percent, gauge_width))
    text.append("\n")
    text.append(" " * LABEL + f"{human_size(sample.ram_used_bytes)} of {human_size(sample.ram_total_bytes)}\n", style="dim")
    serving = sample.served_rss_bytes is not None
    text.append_text(_processes_line("app" if serving else "whirr", sample.rss_bytes, sample.process_cpu_percent))
    if sample.served_rss_bytes is not None:
        text.append_text(_processes_line("serve", sample.served_rss_bytes, sample.served_cpu_percent))
    for gpu in sample.gpus:
        text.append_text(_gpu_text(gpu))
    text.append(f"{'Power':<{LABEL}}", style="bold")
    if sample.power:
        text.append(format_watts(sample.power_w or 0.0))
        measured = all(p.method.startswith("measured") for p in sample.power)
        text.append(" measured" if measured else " estimated", style="dim")
        powers = [s.power_w for s in history if s.power_w is not None]
        peak = max(powers, default=0.0)
        text.append("\n" + " " * LABEL)
        text.append(spark(powers, TEXT_WIDTH - LABEL - 10, peak), style="magenta")
        text.append(f" ≤{format_watts(peak):>8}", style="dim")
    else:
        text.append("…", style="dim")
    return text


def _processes_line(label: str, rss_bytes: int, cpu_percent: float | None) -> Text:
    text = Text()
    text.append(f"{label:<{LABEL}}", style="bold")
    cpu = "" if cpu_percent is None else f" · CPU {cpu_percent:.0f}%"
    text.append(f"RSS {human_size(rss_bytes)}{cpu}\n")
    return text


def served_text(entries: Sequence[ServedEntry]) -> Text:
    """What each `whirr serve` on this machine has served (answers, tokens, energy and how it
    was obtained) and is serving now (tokens/s over the last second, answers under way)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, entry in enumerate(entries):
        if index:
            text.append("\n")
        text.append_text(_heading(f"served at {entry.address}"))
        answers = f"{entry.answers:,} answer{'' if entry.answers == 1 else 's'}"
        text.append(f"{answers} · {entry.tokens:,} tokens\n")
        text.append(format_joules(entry.energy_j), style="bold")
        text.append(" measured" if entry.measured else " estimated", style="dim")
        text.append("\n")
        if entry.answering or entry.rate:
            text.append(f"{entry.rate:,.1f} tok/s now", style="bold")
            text.append(f" · {entry.answering} answering" if entry.answering else "")
        else:
            text.append("idle", style="dim")
    return text


def _gpu_text(gpu: GpuReading) -> Text:
    text = Text()
    gauge_width = TEXT_WIDTH - LABEL - 6
    text.append(f"{'GPU' + str(gpu.index):<{LABEL}}", style="bold")
    if gpu.utilization_percent is not None:
        text.append(f"{gpu.utilization_percent:3.0f}% ")
        text.append_text(gauge(gpu.utilization_percent, gauge_width))
        text.append("\n")
    power = "" if gpu.power_w is None else f" · {format_watts(gpu.power_w)}"
    text.append(" " * LABEL + f"{gpu.name}{power}\n", style="dim")
    if gpu.vram_used_bytes is not None and gpu.vram_total_bytes:
        percent = 100.0 * gpu.vram_used_bytes / gpu.vram_total_bytes
        text.append(f"{'VRAM':<{LABEL}}", style="bold")
        text.append(f"{percent:3.0f}% ")
        text.append_text(gauge(percent, gauge_width))
        text.append("\n")
    return text


def _heading(title: str) -> Text:
    return Text(f"── {title} ".ljust(TEXT_WIDTH, "─") + "\n", style="bold")


def answer_text(live: LiveAnswer | None, last: AnswerEnergy | None, remote: str = "") -> Text:
    """The answer being written (live rate and energy), else the last answer's cost; `remote`
    names the server that wrote the last answer (its energy is not measured here unless the
    server reported it, and then `last` says so in its method)."""
    text = Text()
    if live is not None:
        text.append_text(_heading("this answer"))
        rate = "…" if live.rate is None else f"{live.rate:,.1f} tok/s"
        text.append(rate, style="bold")
        if live.energy is not None:
            text.append(f" · {format_joules(live.energy.whirr_j)} · {format_duration(live.energy.elapsed_s)}")
        elif live.remote:
            text.append(f" · on {live.remote}\nremote: not measured", style="dim")
        return text
    text.append_text(_heading("last answer"))
    if last is None:
        text.append(f"remote: not measured (answered on {remote})" if remote else "no measured answer yet", style="dim")
        return text
    per_token = last.j_per_token
    text.append(format_joules(last.whirr_j), style="bold")
    text.append(f" · {format_joules(per_token)}/token" if per_token is not None else "")
    text.append(f"\n{last.tokens:,} tokens in {format_duration(last.wall_s)}\n")
    text.append(f"{format_wh(last.whirr_j)} · {format_co2(last.co2_g)}\n")
    text.append(f"{format_cost(last.cost, last.currency)} · machine {format_joules(last.machine_j)}\n")
    text.append(last.method, style="dim")
    return text


def totals_text(session: dict[str, float], everything: dict[str, float], currency: str) -> Text:
    """The session's and all-time energy, CO2e and cost, and one line of everyday equivalents."""
    text = Text()
    for title, totals in (("session", session), ("all time", everything)):
        answers = int(totals.get("answers", 0))
        text.append_text(_heading(f"{title} · {answers:,} answer{'' if answers == 1 else 's'}"))
        joules = float(totals.get("energy_j", 0.0))
        text.append(f"{format_joules(joules)} · {format_co2(float(totals.get('co2_g', 0.0)))}\n")
        text.append(f"{format_wh(joules)} · {format_cost(float(totals.get('cost', 0.0)), currency)}\n")
    text.append(everyday_equivalents(float(session.get("energy_j", 0.0))), style="dim italic")
    return text


class MetersPanel(VerticalScroll, can_focus=False):
    """The panel; hidden or shown by the chat screen."""

    DEFAULT_CSS = f"""
    MetersPanel {{
        width: {PANEL_WIDTH};
        height: 1fr;
        padding: 0 1;
        border-left: vkey $panel-lighten-2;
        scrollbar-size-vertical: 1;
        & > Static {{ margin-bottom: 1; }}
    }}
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._machine_lines = 0
        self._answer_lines = 0
        self._served: tuple[ServedEntry, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(machine_text(None, ()), id="machine")
        served = Static(id="served")
        served.display = False
        yield served
        yield Static(answer_text(None, None), id="answer")
        yield Static(totals_text({}, {}, ""), id="totals")

    def show_machine(self, sample: Sample | None, history: Sequence[Sample]) -> None:
        """The latest reading and the recent ones (for the sparklines). Its lines never wrap, so
        the panel is laid out again only when their number changes: the refreshes 4 times a
        second cost no layout while an answer streams."""
        text = machine_text(sample, history)
        lines = text.plain.count("\n")
        self.query_one("#machine", Static).update(text, layout=lines != self._machine_lines)
        self._machine_lines = lines

    def show_served(self, entries: Sequence[ServedEntry]) -> None:
        """What the `whirr serve`s on this machine serve (the section hides when there is none);
        nothing is redrawn while the entries stay the same."""
        entries = tuple(entries)
        if entries == self._served:
            return
        self._served = entries
        served = self.query_one("#served", Static)
        served.display = bool(entries)
        served.update(served_text(entries))

    def show_answer(self, live: LiveAnswer | None, last: AnswerEnergy | None, remote: str = "") -> None:
        """The answer being written, or (when `live` is None) the last one (`remote`: its server)."""
        text = answer_text(live, last, remote)
        lines = text.plain.count("\n")
        self.query_one("#answer", Static).update(text, layout=lines != self._answer_lines)  # as show_machine
        self._answer_lines = lines

    def show_totals(self, session: dict[str, float], everything: dict[str, float], currency: str) -> None:
        """Sums from the store (`Database.session_totals`) for the session and for all time."""
        self.query_one("#totals", Static).update(totals_text(session, everything, currency))
