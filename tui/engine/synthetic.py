"""A synthetic engine: streams given text at a fixed rate through the real ChatStream.

It exists to measure and test the UI without a model: the benchmark drives it at 2,000
tokens/s, and UI tests use it for answers that are instant and deterministic. It behaves like
the in-process engine where the UI can tell: one lock per model (a second request waits and
first says `queued`), cancel within one token, a DoneEvent with statistics at the end.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tui.engine.base import (
    ChatRequest,
    ChatStream,
    DoneEvent,
    ChatMessage,
    Stats,
    StatusEvent,
    TokenEvent,
)
from tui.engine.options import Options

if TYPE_CHECKING:
    from tui.models.personas import RunTarget

# Pieces about the size of real tokens: a word with its leading space, or a run of symbols.
_PIECES = re.compile(r"\s*\w{1,6}|\s*[^\w\s]|\s+")

Reply = Callable[[ChatRequest], str]


def split_tokens(text: str) -> list[str]:
    """Cut text into token-sized pieces that join back to exactly `text`."""
    return _PIECES.findall(text)


def echo_reply(request: ChatRequest) -> str:
    """The default answer: repeats the last user message."""
    last = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    return f"You said: {last}"


class SyntheticEngine:
    """Streams a reply at `tokens_per_second`, one TokenEvent per piece of text."""

    def __init__(
        self,
        reply: str | Reply = echo_reply,
        tokens_per_second: float = 2000.0,
        name: str = "synthetic",
    ) -> None:
        self.reply: Reply = (lambda _request: reply) if isinstance(reply, str) else reply
        self.tokens_per_second = tokens_per_second
        self.name = name
        self._lock = threading.Lock()
        self._loaded = False
        self.requests: list[ChatRequest] = []  # every request answered, for tests to inspect

    pid: int | None = None
    """None: the answers are written in this process."""

    @property
    def loaded(self) -> bool:
        """True once `load()` ran or an answer was given."""
        return self._loaded

    def load(self, options: Options, on_progress: Callable[[int], None] | None = None) -> float:
        """Nothing to load (no progress to report); returns the seconds spent (0)."""
        self._loaded = True
        return 0.0

    def unload(self) -> None:
        """Forget the (pretend) model."""
        self._loaded = False

    def count_tokens(self, messages: Sequence[ChatMessage], options: Options) -> int:
        """Prompt size in this engine's pieces (a few added per message, like a template)."""
        return sum(len(split_tokens(m.content)) + 4 for m in messages)

    def chat(self, request: ChatRequest) -> ChatStream:
        """Start streaming the reply on a thread; call from a running event loop."""
        stream = ChatStream()
        self.requests.append(request)
        stream.run_in_thread(lambda s: self._answer(request, s), name=f"whirr-synthetic-{self.name}")
        return stream

    def _answer(self, request: ChatRequest, stream: ChatStream) -> None:
        started = time.perf_counter()
        stats = Stats()
        if not self._lock.acquire(blocking=False):
            stream.put(StatusEvent("queued"))
            while not self._lock.acquire(timeout=0.01):
                if stream.cancelled:
                    stats.finish_reason = "cancelled"
                    stream.put(DoneEvent("", stats))
                    return
        try:
            self._loaded = True
            stream.put(StatusEvent("prompt"))
            stats.prompt_eval_count = self.count_tokens(request.messages, request.options)
            pieces = split_tokens(self.reply(request))
            if 0 <= request.options.num_predict < len(pieces):
                pieces = pieces[: request.options.num_predict]
            stats.time_to_first_token = time.perf_counter() - started
            sent = self._emit(pieces, stream, stats)
        finally:
            self._lock.release()
        stats.eval_count = sent
        stats.total_duration = time.perf_counter() - started
        stream.put(DoneEvent("".join(pieces[:sent]), stats))

    def _emit(self, pieces: list[str], stream: ChatStream, stats: Stats) -> int:
        """Put pieces on the stream on schedule; returns how many were sent."""
        begin = time.perf_counter()
        sent = 0
        while sent < len(pieces):
            if stream.cancelled:
                stats.finish_reason = "cancelled"
                break
            due = min(len(pieces), int((time.perf_counter() - begin) * self.tokens_per_second) + 1)
            if due <= sent:
                time.sleep(min(0.001, (sent + 1 - due) / self.tokens_per_second))
                continue
            while sent < due and not stream.cancelled:
                stream.put(TokenEvent(pieces[sent]))
                sent += 1
        stats.eval_duration = time.perf_counter() - begin
        return sent


class SyntheticEngines:
    """Hands out one SyntheticEngine per model name (the UI's engine source for tests and benchmarks)."""

    def __init__(self, factory: Callable[[str], SyntheticEngine] | None = None) -> None:
        self._factory = factory or (lambda name: SyntheticEngine(name=name))
        self._engines: dict[str, SyntheticEngine] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing runs outside this process: nothing to end."""

    def engine_for_target(self, target: RunTarget) -> SyntheticEngine:
        """The engine answering as a resolved target's model."""
        return self.engine_for(target.entry.name)

    def engine_for(self, model_name: str) -> SyntheticEngine:
        """The engine answering as `model_name`, created on first use."""
        with self._lock:
            engine = self._engines.get(model_name)
            if engine is None:
                engine = self._engines[model_name] = self._factory(model_name)
            return engine
