"""What several commands share: settings, model lookup, option flags, answering with Ctrl+C."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.config import Config, load_config
from tui.engine.options import Options
from tui.paths import Paths, resolve_paths

from tui.engine.base import ChatEvent, DoneEvent, EventSink, StatusEvent, TokenEvent

if TYPE_CHECKING:
    from tui.engine.base import ChatRequest
    from tui.engine.runner.client import RunnerEngine
    from tui.models.personas import PersonaStore, RunTarget
    from tui.models.library import Library


@dataclass
class Context:
    """Settings every command starts from."""

    paths: Paths
    config: Config

    @property
    def library(self) -> "Library":
        """The model library with the configured folders and stores."""
        from tui.models.library import Library

        return Library.from_config(self.paths, self.config)

    @property
    def personas(self) -> "PersonaStore":
        """The stored personas."""
        from tui.models.personas import PersonaStore

        return PersonaStore(self.paths)


def load_context() -> Context:
    """Read the config, printing its warnings to stderr."""
    paths = resolve_paths()
    config, warnings = load_config(paths)
    for warning in warnings:
        print(warning, file=sys.stderr)
    return Context(paths, config)


class CommandError(Exception):
    """Ends a command with `Error: <message>` and exit code 1."""


def resolve_usable(context: Context, name: str) -> "RunTarget":
    """What `name` (persona, model or GGUF path) runs, or CommandError with suggestions / the
    file's problem."""
    from tui.models.personas import PersonaError, resolve_usable as resolve
    from tui.models.library import ModelNotFound

    try:
        return resolve(name, context.library, context.personas)
    except (ModelNotFound, PersonaError) as error:
        raise CommandError(str(error)) from None


def _option(name: str) -> Callable[[str], object]:
    """An argparse type for option `name`: the same rule as a Modelfile PARAMETER line."""
    from tui.engine.options import ParameterError, parse_parameter

    def convert(text: str) -> object:
        try:
            return parse_parameter(name, text)
        except ParameterError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


FLAG_OPTIONS = {"temperature": "temperature", "seed": "seed", "num_predict": "num_predict", "num_ctx": "num_ctx", "threads": "num_thread", "num_gpu": "num_gpu"}
"""Each generation flag (its argparse dest) and the Ollama option it sets."""


def add_option_flags(parser: argparse.ArgumentParser) -> None:
    """The generation flags, with Ollama's parameter meaning, defaults and accepted ranges."""
    group = parser.add_argument_group("generation options (Ollama's meaning and defaults)")
    group.add_argument("--system", help="system prompt")
    group.add_argument("--temperature", type=_option("temperature"), help="default 0.8; 0 is greedy")
    group.add_argument("--seed", type=_option("seed"), help="random seed; default -1 (random)")
    group.add_argument("--num-predict", type=_option("num_predict"), help="most tokens to generate; -1 no limit")
    group.add_argument("--num-ctx", type=_option("num_ctx"), help="context window in tokens; default 4096")
    group.add_argument("--threads", type=_option("num_thread"), help="CPU threads; 0 picks automatically")
    group.add_argument("--num-gpu", type=_option("num_gpu"), help="layers on the GPU; -1 all that fit, 0 none")


def options_from_flags(args: argparse.Namespace, base: Options) -> Options:
    """Apply the flags the user gave on top of `base`; a value whirr rounds is said on stderr."""
    from tui.engine.options import option_note

    changes = {option: getattr(args, dest) for dest, option in FLAG_OPTIONS.items() if getattr(args, dest) is not None}
    for name, value in changes.items():
        note = option_note(name, value)
        if note:
            print(f"note: {note}", file=sys.stderr)
    return base.updated(**changes)


class _PrintingSink(EventSink):
    """Receives one answer's events and passes text on as it comes, and load progress."""

    def __init__(self, on_text: Callable[[str], None], on_loading: Callable[[int | None], None] | None) -> None:
        super().__init__()
        self.on_text = on_text
        self.on_loading = on_loading
        self.loading = False
        self.done: DoneEvent | None = None

    def put(self, event: ChatEvent) -> None:
        if isinstance(event, TokenEvent):
            self._loaded()
            self.on_text(event.text)
        elif isinstance(event, StatusEvent):
            if event.state == "loading" and self.on_loading is not None:
                self.loading = True
                self.on_loading(event.percent or 0)
            else:
                self._loaded()
        elif isinstance(event, DoneEvent):
            self._loaded()
            self.done = event

    def _loaded(self) -> None:
        if self.loading and self.on_loading is not None:
            self.loading = False
            self.on_loading(None)


def answer(
    engine: "RunnerEngine",
    request: "ChatRequest",
    on_text: Callable[[str], None],
    on_loading: Callable[[int | None], None] | None = None,
) -> DoneEvent:
    """Run one answer, passing text to `on_text` as it arrives and load progress (a percent,
    then None once loaded) to `on_loading`.

    Ctrl+C cancels the answer (within one token, or during prompt evaluation) instead of
    killing the process; the returned DoneEvent then has finish reason 'cancelled' and the
    partial text.
    """
    sink = _PrintingSink(on_text, on_loading)
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: sink.cancel())
    try:
        engine.answer_here(request, sink)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert sink.done is not None, "an engine always ends an answer with a DoneEvent"
    return sink.done
