"""What both remote engines share: one answer's bookkeeping, cancelling, and errors in one line.

An answer runs as an asyncio task on its own event loop, on the thread that answers (the CLI's
main thread, or a worker thread for the app). Cancelling cancels that task, which closes the
HTTP stream at once, even while the server has not sent a first token yet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.engine.base import (
    ChatMessage,
    ChatRequest,
    ChatStream,
    DoneEvent,
    EngineError,
    EventSink,
    Stats,
    StatusEvent,
    TokenEvent,
)
from tui.engine.options import Options
from tui.servers import Server, http_error_message, looks_like_html, refused_key_message

CANCEL_POLL = 0.02
"""Seconds between looks at the cancel flag while an answer streams."""
CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection; reading has no limit (a big model may take long to start)."""
TEMPLATE_REFUSED = (
    "TEMPLATE cannot be used with a remote model: the server renders its own chat template "
    "(whirr sends it messages, not a prompt)"
)


class RemoteModelNotFound(EngineError, LookupError):
    """The server does not have the model (HTTP 404)."""

    def __init__(self, server: Server, model: str) -> None:
        super().__init__(f"model '{server.name}/{model}' not found on {server.name} ({server.url})")


class RemoteError(EngineError):
    """A server answered in a way whirr cannot use; the text says what happened, in one line."""


def refused_key(server: Server) -> RemoteError:
    """The error for HTTP 401/403."""
    return RemoteError(refused_key_message(server))


def status_error(server: Server, model: str, status: int, body: str) -> EngineError:
    """The error for an HTTP error status answering a request about `model`: a 404 that is not a
    proxy's page is RemoteModelNotFound; the rest say what the server said, in one line."""
    if status == 404 and not looks_like_html(body):
        return RemoteModelNotFound(server, model)
    return RemoteError(http_error_message(server, status, body))


@dataclass
class Answer:
    """One remote answer as it streams: its text, thinking wrapped in <think>, and its statistics."""

    sink: EventSink
    stats: Stats
    started: float = field(default_factory=time.perf_counter)
    parts: list[str] = field(default_factory=list)
    pieces: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    _thinking: bool = False

    def _emit(self, text: str) -> None:
        now = time.perf_counter()
        if not self.pieces:
            self.first_at = now
        self.last_at = now
        self.pieces += 1
        self.parts.append(text)
        self.sink.put(TokenEvent(text))

    def think(self, text: str) -> None:
        """Reasoning text (Ollama's `thinking`, OpenAI's `reasoning_content`): shown as the
        collapsed thinking section, as a local model's <think> block is."""
        if not text:
            return
        if not self._thinking:
            self._thinking = True
            text = "<think>" + text
        self._emit(text)

    def say(self, text: str) -> None:
        """Answer text."""
        if not text:
            return
        if self._thinking:
            self._thinking = False
            text = "</think>\n\n" + text
        self._emit(text)

    @property
    def text(self) -> str:
        """Everything received so far, thinking included."""
        return "".join(self.parts) + ("</think>\n" if self._thinking else "")

    def fail(self, message: str) -> None:
        """End with an error; the partial answer is kept."""
        self.stats.finish_reason, self.stats.error = "error", message

    def finish(self) -> None:
        """Fill in the times measured here and deliver the DoneEvent."""
        stats = self.stats
        now = time.perf_counter()
        stats.total_duration = now - self.started
        if self.pieces:
            stats.time_to_first_token = self.first_at - self.started
            if stats.timing != "server":
                stats.prompt_eval_duration = self.first_at - self.started
                stats.eval_duration = self.last_at - self.first_at
            if stats.timing == "counted" or not stats.eval_count:
                stats.eval_count = max(stats.eval_count, self.pieces)
        self.sink.put(DoneEvent(self.text, stats))


class RemoteEngine:
    """The part of a remote engine that does not depend on the API: the engine contract."""

    def __init__(self, server: Server, model: str) -> None:
        self.server = server
        self.model = model
        self.name = f"{server.name}/{model}"
        self.force = False  # the engine contract's flag; there is no memory check to override
        self._checked = False

    pid: int | None = None
    """None: the answers are written on the server (no process of this machine)."""

    @property
    def loaded(self) -> bool:
        """True once the server said it has the model (nothing is loaded on this machine)."""
        return self._checked

    def load(self, options: Options, on_progress: Callable[[int], None] | None = None) -> float:
        """Ask the server whether it has the model (no load progress to report); returns the
        seconds it took. Blocking. Raises RemoteModelNotFound, or RemoteError when the server
        cannot be asked."""
        started = time.perf_counter()
        self.check_model()
        self._checked = True
        return time.perf_counter() - started

    def unload(self) -> None:
        """Nothing to free here; the server decides what it keeps loaded."""
        self._checked = False

    def check_memory(self, options: Options) -> None:
        """The model's memory is the server's: nothing to check on this machine."""

    def count_tokens(self, messages: Sequence[ChatMessage], options: Options, template: str | None = None) -> int:
        """An estimate (four characters a token, plus a few per message): servers have no common
        way to count tokens; an answer's statistics then give the server's own count."""
        return sum(len(m.content) // 4 + 4 for m in messages)

    def chat(self, request: ChatRequest) -> ChatStream:
        """Start answering on a worker thread; call from a running event loop."""
        stream = ChatStream()
        stream.run_in_thread(lambda s: self.answer_here(request, s), name=f"whirr-remote-{self.name}")
        return stream

    def answer_here(self, request: ChatRequest, sink: EventSink) -> None:
        """Answer on the calling thread, delivering events to `sink` (the last is a DoneEvent)."""
        answer = Answer(sink, Stats(server=self.server.name))
        try:
            if request.template is not None:
                raise RemoteError(TEMPLATE_REFUSED)
            sink.put(StatusEvent("waiting", self.server.name))
            asyncio.run(self._run(request, answer))
        except EngineError as error:
            answer.fail(str(error))
        except Exception as error:  # a client failure must end the answer, not the app
            answer.fail(self.describe(error, answer))
        finally:
            answer.finish()

    async def _run(self, request: ChatRequest, answer: Answer) -> None:
        task = asyncio.ensure_future(self.stream(request, answer))
        while not task.done():
            if answer.sink.cancelled:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                answer.stats.finish_reason = "cancelled"
                return
            await asyncio.wait({task}, timeout=CANCEL_POLL)
        task.result()

    def dropped(self, answer: Answer, what: str) -> str:
        """One line for a connection that failed: before anything came, or in the middle."""
        if answer.pieces:
            return f"the connection to {self.server.name} dropped mid-answer ({what}); the partial answer is kept"
        return f"cannot reach {self.server.name} at {self.server.url} ({what})"

    # -- what each API implements ----------------------------------------------------------

    def check_model(self) -> None:
        """Raise RemoteModelNotFound unless the server has the model (blocking)."""
        raise NotImplementedError

    async def stream(self, request: ChatRequest, answer: Answer) -> None:
        """Send the request and feed the answer as it streams."""
        raise NotImplementedError

    def describe(self, error: Exception, answer: Answer) -> str:
        """One line for an unexpected client error."""
        return f"{type(error).__name__}: {error}"


def server_energy(stats: Stats, record: Any) -> None:
    """Copy the energy a server reports (`energy_joules` and `energy_method`, as `whirr serve`
    adds them to its last chunk) into the statistics."""
    if not isinstance(record, dict):
        return
    joules = record.get("energy_joules")
    if isinstance(joules, (int, float)) and not isinstance(joules, bool) and joules >= 0:
        stats.server_energy_j = float(joules)
        method = record.get("energy_method")
        stats.server_energy_method = method if isinstance(method, str) and method else "not said"
