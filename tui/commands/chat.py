"""A conversation on the command line, shared by `whirr run`'s one-shot, batch and interactive
modes (and `whirr bench`'s meter): the Chat, printing its text and its statistics."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.commands.common import answer
from tui.format import format_co2, format_joules, ollama_duration

if TYPE_CHECKING:
    from tui.engine.base import ChatMessage, DoneEvent, Stats
    from tui.engine.runner.client import RunnerEngine
    from tui.engine.options import Options
    from tui.meters import AnswerEnergy, EnergyMeter
    from tui.models.personas import RunTarget


@dataclass(frozen=True)
class Answer:
    """An answer's text and statistics, and its energy when a meter was running."""

    done: "DoneEvent"
    energy: "AnswerEnergy | None"


@dataclass
class Chat:
    """One conversation with a loaded model: its history, system prompt and options."""

    target: "RunTarget"
    engine: "RunnerEngine"
    options: "Options"
    system: str
    meter: "EnergyMeter | None" = None
    history: list["ChatMessage"] = field(default_factory=list)

    def messages_for(self, prompt: str) -> list["ChatMessage"]:
        """System prompt, the persona's few-shot messages, history, then the new user message."""
        return self.target.conversation(self.system, self.history, prompt)

    def ask(self, prompt: str, on_text) -> Answer:
        """Answer `prompt` in this conversation and remember the exchange."""
        from tui.engine.base import ChatRequest, ChatMessage

        measurement = self.meter.start(lambda: self.engine.pid) if self.meter is not None else None
        request = ChatRequest(self.messages_for(prompt), self.options, template=self.target.template)
        done = answer(self.engine, request, on_text, show_loading)
        energy = measurement.finish(done.stats.eval_count) if measurement is not None else None
        if done.stats.finish_reason != "error":
            self.history += [ChatMessage("user", prompt), ChatMessage("assistant", done.text)]
        return Answer(done, energy)


def start_meter(config) -> "EnergyMeter":
    """Start the meters' sampler (a daemon thread) and return a per-answer energy meter."""
    from tui.meters import EnergyMeter, Probe, Sampler

    sampler = Sampler(Probe.detect(config.energy.cpu_tdp_watts))
    sampler.start()
    return EnergyMeter(sampler, config.energy)


def write_text(text: str) -> None:
    """Print answer text as it arrives."""
    sys.stdout.write(text)
    sys.stdout.flush()


def show_loading(percent: int | None) -> None:
    """Show how far the model's load got on a terminal's stderr (None: clear the line)."""
    if not sys.stderr.isatty():
        return
    sys.stderr.write("\r\x1b[K" if percent is None else f"\rloading model {percent}%")
    sys.stderr.flush()


TIMINGS = {
    "server": "counts and durations from the server",
    "usage": "counts from the server's usage, timed here",
    "counted": "streamed pieces counted and timed here",
}
"""What a remote answer's `timing` means, for --verbose."""


def print_stats(stats: "Stats", energy: "AnswerEnergy | None" = None) -> None:
    """The statistics `ollama run --verbose` prints, with the same labels, then whirr's extras."""
    rows = [
        ("total duration", ollama_duration(stats.total_duration)),
        ("load duration", ollama_duration(stats.load_duration)),
        ("prompt eval count", f"{stats.prompt_eval_count} token(s)"),
        ("prompt eval duration", ollama_duration(stats.prompt_eval_duration)),
        ("prompt eval rate", f"{stats.prompt_eval_rate:.2f} tokens/s"),
        ("eval count", f"{stats.eval_count} token(s)"),
        ("eval duration", ollama_duration(stats.eval_duration)),
        ("eval rate", f"{stats.eval_rate:.2f} tokens/s"),
        ("prompt cache count", f"{stats.prompt_cached_count} token(s)"),
        ("time to first token", ollama_duration(stats.time_to_first_token)),
        ("finish reason", stats.finish_reason),
    ]
    if stats.server:
        rows.append(("server", f"{stats.server} ({TIMINGS.get(stats.timing, stats.timing)})"))
        if stats.options_not_sent:
            rows.append(("options not sent", ", ".join(stats.options_not_sent)))
        if stats.server_energy_j is not None:
            rows.append(("energy", f"{format_joules(stats.server_energy_j)} on {stats.server}; {stats.server_energy_method}"))
        else:
            rows.append(("energy", "remote: not measured"))
    if energy is not None:
        per_token = energy.j_per_token
        rows += [
            ("energy", f"{format_joules(energy.whirr_j)} (machine {format_joules(energy.machine_j)}), "
                       f"{format_co2(energy.co2_g)}; {energy.method}"),
            ("energy per token", f"{format_joules(per_token)}/token" if per_token is not None else "n/a"),
        ]
    for label, value in rows:
        print(f"{label + ':':<22}{value}", file=sys.stderr)
