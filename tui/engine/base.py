"""The engine contract shared by the CLI and the UI.

An engine answers a chat: `engine.chat(request)` returns a `ChatStream`, an async iterator
of events — optional `StatusEvent`s (queued, loading, prompt), `TokenEvent`s carrying answer text as it is generated, then exactly one
`DoneEvent` carrying the full answer and its statistics. `ChatStream.cancel()` stops the
answer within one token; the partial answer still arrives in the `DoneEvent`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from tui.engine.options import Options

FinishReason = Literal["stop", "length", "cancelled", "error"]
Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation."""

    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """Everything needed for one answer.

    `template` replaces the model's chat template (a Modelfile TEMPLATE: Jinja or Ollama's
    Go-template subset). `conversation_id` (a session's id) lets the engine keep a snapshot of
    the conversation's KV cache, so answering it again after another conversation does not
    re-evaluate its history. `ignore_eos` keeps generating past the end-of-turn token (benchmarks
    use it to get a fixed number of tokens); it is not an Ollama option.

    For the API server (`whirr serve`), and carried by every engine (a runner's frames too):
    `prompt` is a raw prompt, tokenized as is with no chat template (then `messages` is not
    used); `context` holds tokens of an earlier answer (Ollama's generate `context`) evaluated
    before the prompt; `grammar` is a GBNF grammar the answer must follow (Ollama's `format`,
    see tui.engine.grammar); `return_context` asks for the prompt and answer tokens in the
    DoneEvent's `context`.
    """

    messages: Sequence[ChatMessage]
    options: Options = field(default_factory=Options)
    template: str | None = None
    conversation_id: str | None = None
    ignore_eos: bool = False
    prompt: str | None = None
    context: tuple[int, ...] = ()
    grammar: str | None = None
    return_context: bool = False
    keep_alive: float | None = None
    """Seconds to keep the model loaded after this answer, as Ollama's keep_alive: 0 unloads at
    once, negative keeps it loaded; None: the engine's default."""


@dataclass
class Stats:
    """What one answer took. Durations are seconds; counts are tokens."""

    load_duration: float = 0.0
    prompt_eval_count: int = 0
    prompt_cached_count: int = 0
    prompt_eval_duration: float = 0.0
    eval_count: int = 0
    eval_duration: float = 0.0
    time_to_first_token: float = 0.0
    total_duration: float = 0.0
    finish_reason: FinishReason = "stop"
    error: str = ""
    messages_dropped: int = 0  # oldest turns left out to fit the context
    server: str = ""  # the server that answered a remote model; empty when this machine did
    timing: str = ""
    """How a remote answer's figures were obtained: "server" (the server's own counts and
    durations), "usage" (its token counts, timed here) or "counted" (streamed pieces counted and
    timed here); empty for a local answer."""
    options_not_sent: tuple[str, ...] = ()  # options set but not sent: the server's API has no field for them
    server_energy_j: float | None = None  # the answer's energy as the server reported it
    server_energy_method: str = ""  # how the server obtained it

    @property
    def prompt_eval_rate(self) -> float:
        """Prompt tokens evaluated per second (0 when nothing was evaluated)."""
        return self.prompt_eval_count / self.prompt_eval_duration if self.prompt_eval_duration else 0.0

    @property
    def eval_rate(self) -> float:
        """Answer tokens generated per second."""
        return self.eval_count / self.eval_duration if self.eval_duration else 0.0


@dataclass(frozen=True)
class TokenEvent:
    """A piece of answer text, ready to show (never a partial UTF-8 character).

    `tokens` is how many generated tokens the text covers (more than one when text was held
    back, e.g. a character split across tokens), so consumers can count tokens exactly.
    """

    text: str
    tokens: int = 1


@dataclass(frozen=True)
class StatusEvent:
    """What the engine is doing before the first token: waiting for the model, loading it
    (with `percent` done when known), evaluating the prompt, or (a remote model) waiting for
    the server named in `detail`."""

    state: Literal["queued", "loading", "prompt", "waiting"]
    detail: str = ""
    percent: int | None = None


@dataclass(frozen=True)
class DoneEvent:
    """The answer ended: its whole text and statistics; with `request.return_context`, the
    prompt's and the answer's tokens (what Ollama's generate returns as `context`)."""

    text: str
    stats: Stats
    context: tuple[int, ...] = ()


ChatEvent = TokenEvent | StatusEvent | DoneEvent


class EngineError(Exception):
    """A problem the user can fix (missing model, prompt too long...), with a clear message."""


class Engine(Protocol):
    """Anything that can answer chats."""

    @property
    def pid(self) -> int | None:
        """The process of this machine that writes the answers when it is not this one (a
        runner's, once started); None when they are written in this process or on a server.
        The meters count that process's CPU time as the answer's."""
        ...

    def chat(self, request: ChatRequest) -> "ChatStream":
        """Start answering `request`; must be called from a running event loop."""
        ...

    def count_tokens(self, messages: Sequence[ChatMessage], options: Options) -> int:
        """How many tokens `messages` take in the model's context (an estimate for a server)."""
        ...


class EventSink:
    """Where an engine delivers one answer's events, and the flag that tells it to stop.

    Subclasses implement `put()`; the cancel flag is shared by every kind of sink.
    """

    def __init__(self) -> None:
        self.cancel_event = threading.Event()
        self._wakes: list[threading.Event] = []

    @property
    def cancelled(self) -> bool:
        """True once `cancel()` was called."""
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        """Ask the producer to stop; a DoneEvent with finish reason 'cancelled' follows."""
        self.cancel_event.set()
        for wake in self._wakes:
            wake.set()

    def wake_on_cancel(self, wake: threading.Event) -> None:
        """Set `wake` when the answer is cancelled (now, if it already is): a producer waiting
        for something else as well waits on one event instead of polling the flag."""
        self._wakes.append(wake)
        if self.cancelled:
            wake.set()

    def put(self, event: ChatEvent) -> None:
        """Deliver an event; must never block the producer."""
        raise NotImplementedError


class ChatStream(EventSink):
    """An async stream of one answer's events, fed from a worker thread.

    The producer never waits for the consumer: events queue without bound. The producer
    calls `put()` from any thread and checks `cancelled` between tokens.
    """

    def __init__(self) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self._done = False

    def put(self, event: ChatEvent) -> None:
        """Hand an event to the consumer (thread-safe)."""
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:
            pass  # the consumer's loop has closed: nobody is listening any more

    def run_in_thread(self, target: Callable[["ChatStream"], None], name: str) -> None:
        """Run `target(self)` on a daemon thread."""
        threading.Thread(target=target, args=(self,), name=name, daemon=True).start()

    def __aiter__(self) -> "ChatStream":
        return self

    async def __anext__(self) -> ChatEvent:
        if self._done:
            raise StopAsyncIteration
        event = await self._queue.get()
        if isinstance(event, DoneEvent):
            self._done = True
        return event

    async def result(self) -> DoneEvent:
        """Consume the rest of the stream and return its DoneEvent."""
        async for event in self:
            if isinstance(event, DoneEvent):
                return event
        raise RuntimeError("stream ended without a DoneEvent")
