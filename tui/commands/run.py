"""`whirr run`: one-shot answers, piped prompts, batches, and an interactive loop like `ollama run`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.commands.common import (
    CommandError,
    add_option_flags,
    answer,
    load_context,
    options_from_flags,
    resolve_usable,
)

if TYPE_CHECKING:
    from tui.engine.base import DoneEvent, ChatMessage, Stats
    from tui.engine.runner.client import RunnerEngine
    from tui.engine.options import Options
    from tui.meters import AnswerEnergy, EnergyMeter
    from tui.modelfile.personas import RunTarget


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr run`."""
    parser = subparsers.add_parser(
        "run",
        help="chat with a model (one-shot, piped, batch or interactive)",
        description="Answer PROMPT with MODEL, streaming tokens to stdout. With no PROMPT, read it "
        "from stdin when stdin is not a terminal, else start an interactive chat.",
    )
    parser.add_argument("model", nargs="?", help="model name or path to a .gguf file (default: from config)")
    parser.add_argument("prompt", nargs="*", help="the prompt (several words are joined)")
    parser.add_argument("--verbose", action="store_true", help="print timing statistics after each answer")
    parser.add_argument("--batch", metavar="FILE", help="answer each prompt in FILE (lines, or JSONL with a 'prompt' field)")
    parser.add_argument("--output", metavar="FILE", help="with --batch: write the JSONL answers here instead of stdout")
    parser.add_argument("--force", action="store_true", help="load the model even if it does not seem to fit in memory")
    parser.add_argument("--keepalive", metavar="DURATION",
                        help="how long the model stays loaded after an answer (5m, 1h, 90s or seconds; "
                        "0 unloads at once, negative keeps it; default: config keep_alive, 5m)")
    add_option_flags(parser)
    parser.set_defaults(func=run_command, trailing_words="prompt")


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

        measurement = self.meter.start() if self.meter is not None else None
        request = ChatRequest(self.messages_for(prompt), self.options, template=self.target.template)
        done = answer(self.engine, request, on_text, show_loading)
        energy = measurement.finish(done.stats.eval_count) if measurement is not None else None
        if done.stats.finish_reason != "error":
            self.history += [ChatMessage("user", prompt), ChatMessage("assistant", done.text)]
        return Answer(done, energy)


def run_command(args: argparse.Namespace) -> int:
    """Entry point of `whirr run`."""
    from tui.engine.keepalive import parse_keep_alive
    from tui.logs import setup_logging
    from tui.models.fit import DoesNotFit

    context = load_context()
    setup_logging(context.paths)
    if args.output and not args.batch:
        raise CommandError("--output needs --batch")
    target = resolve_usable(context, args.model or context.config.default_model)
    system = next(s for s in (args.system, target.system, context.config.system) if s is not None)
    entry = target.entry
    try:
        keep_alive = parse_keep_alive(args.keepalive if args.keepalive is not None else context.config.keep_alive)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if entry.server:
        from tui.engine.remote import remote_engine
        from tui.servers import split_remote

        on_server = split_remote(entry.name, context.library.servers)
        assert on_server is not None
        engine = remote_engine(*on_server)
    else:
        from tui.engine.runner.client import RunnerEngine
        from tui.engine.runner.registry import registry_dir

        engine = RunnerEngine(entry.path, target.name, adapter=target.adapter, info=entry.info, file_size=entry.size,
                              model_id=entry.id, registry=registry_dir(context.paths), keep_alive=keep_alive)
    engine.force = args.force
    chat = Chat(target, engine, options_from_flags(args, target.options(context.config.options)), system)
    try:
        engine.check_memory(chat.options)
    except DoesNotFit as error:
        raise CommandError(f"{error}, or run with --force to load it anyway") from None
    if args.verbose:
        chat.meter = start_meter(context.config)
    if args.batch:
        from tui.commands.batch import run_batch

        return run_batch(chat, args.batch, args.output, args.verbose)
    prompt = " ".join(args.prompt)
    if not prompt and not sys.stdin.isatty():
        prompt = sys.stdin.read()
    if prompt:
        return one_shot(chat, prompt, args.verbose)
    from tui.commands.interactive import interactive

    return interactive(chat, args.verbose)


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


def one_shot(chat: Chat, prompt: str, verbose: bool) -> int:
    """Answer one prompt; exit code 130 when stopped with Ctrl+C, 1 on error."""
    result = chat.ask(prompt, write_text)
    done = result.done
    if done.text and not done.text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
    if verbose:
        print_stats(done.stats, result.energy)
    if done.stats.finish_reason == "error":
        raise CommandError(done.stats.error)
    return 130 if done.stats.finish_reason == "cancelled" else 0


def format_duration(seconds: float) -> str:
    """Durations as Ollama prints them: 1.234567s, 12.345ms, 120µs."""
    if seconds >= 1:
        return f"{seconds:.6f}s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.3f}ms"
    return f"{seconds * 1_000_000:.0f}µs"


TIMINGS = {
    "server": "counts and durations from the server",
    "usage": "counts from the server's usage, timed here",
    "counted": "streamed pieces counted and timed here",
}
"""What a remote answer's `timing` means, for --verbose."""


def print_stats(stats: "Stats", energy: "AnswerEnergy | None" = None) -> None:
    """The statistics `ollama run --verbose` prints, with the same labels, then whirr's extras."""
    rows = [
        ("total duration", format_duration(stats.total_duration)),
        ("load duration", format_duration(stats.load_duration)),
        ("prompt eval count", f"{stats.prompt_eval_count} token(s)"),
        ("prompt eval duration", format_duration(stats.prompt_eval_duration)),
        ("prompt eval rate", f"{stats.prompt_eval_rate:.2f} tokens/s"),
        ("eval count", f"{stats.eval_count} token(s)"),
        ("eval duration", format_duration(stats.eval_duration)),
        ("eval rate", f"{stats.eval_rate:.2f} tokens/s"),
        ("prompt cache count", f"{stats.prompt_cached_count} token(s)"),
        ("time to first token", format_duration(stats.time_to_first_token)),
        ("finish reason", stats.finish_reason),
    ]
    if stats.server:
        rows.append(("server", f"{stats.server} ({TIMINGS.get(stats.timing, stats.timing)})"))
        if stats.options_not_sent:
            rows.append(("options not sent", ", ".join(stats.options_not_sent)))
        if stats.server_energy_j is not None:
            from tui.meters import format_joules

            rows.append(("energy", f"{format_joules(stats.server_energy_j)} on {stats.server}; {stats.server_energy_method}"))
        else:
            rows.append(("energy", "remote: not measured"))
    if energy is not None:
        from tui.meters import format_co2, format_joules

        per_token = energy.j_per_token
        rows += [
            ("energy", f"{format_joules(energy.whirr_j)} (machine {format_joules(energy.machine_j)}), "
                       f"{format_co2(energy.co2_g)}; {energy.method}"),
            ("energy per token", f"{format_joules(per_token)}/token" if per_token is not None else "n/a"),
        ]
    for label, value in rows:
        print(f"{label + ':':<22}{value}", file=sys.stderr)
