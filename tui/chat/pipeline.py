"""The answer pipeline: prepare a model, stream an answer, save it as it grows, finish, cancel.

Plain Python on the event loop, without Textual: the chat view and the editor's try-it pane
answer through it, and so can anything else holding an engine (the `chat(request) ->
ChatStream` contract of `tui.engine.base`). What may block (finding the engine, which can
import llama.cpp; loading; counting tokens) runs in a thread. The caller hears what happens
through callbacks, called on the event loop, and renders at its own pace: batching tokens per
frame is the UI's business.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tui.engine.base import (
    ChatMessage,
    ChatRequest,
    ChatStream,
    DoneEvent,
    Engine,
    EngineError,
    Stats,
    StatusEvent,
    TokenEvent,
)
from tui.engine.options import Options
from tui.engine.remote.common import RemoteEngine
from tui.meters import reported_energy

if TYPE_CHECKING:
    from tui.meters import AnswerEnergy, EnergyMeter, Measurement
    from tui.meters.energy import EnergyFactors

SAVE_EVERY = 0.5  # seconds between saves of a streaming answer (at most this much is lost)
RATE_AFTER = 0.2  # seconds of tokens before a rate means anything


class LocalEngine(Protocol):
    """An engine that holds a model in this process: it loads, and counts a prompt's tokens."""

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        ...

    def load(self, options: Options, on_progress: Callable[[int], None] | None = None) -> float:
        """Load the model (blocking); returns the seconds it took. `on_progress(percent)` hears
        how far it got (from the loading thread), when the engine can tell."""
        ...

    def count_tokens(self, messages: Sequence[ChatMessage], options: Options) -> int:
        """How many tokens the conversation takes (blocking)."""
        ...

    def chat(self, request: ChatRequest) -> ChatStream:
        """Start answering `request`."""
        ...


def describe_error(error: BaseException) -> str:
    """What went wrong, for the user: our own errors (engine errors, names not found, bad
    values such as a Modelfile's) read as they are; anything else with its kind."""
    text = str(error).strip("'\"")
    if isinstance(error, (EngineError, LookupError, ValueError)):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def load_model(
    engine_for: Callable[[], LocalEngine], options: Options, on_loading: Callable[[int | None], None]
) -> LocalEngine:
    """Find the engine and load its model unless it is loaded: `on_loading(None)` first, then
    `on_loading(percent)` as the load goes on (on the event loop)."""
    engine = await asyncio.to_thread(engine_for)
    if not engine.loaded:
        on_loading(None)
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(engine.load, options, lambda percent: loop.call_soon_threadsafe(on_loading, percent))
    return engine


async def count_context(engine: LocalEngine, messages: Sequence[ChatMessage], options: Options) -> int:
    """The tokens a conversation takes in the model's context (0 when it is empty)."""
    if not messages:
        return 0
    return await asyncio.to_thread(engine.count_tokens, messages, options)


@dataclass(frozen=True)
class Outcome:
    """How an answer ended: its text and statistics (`stats.finish_reason` is the state), its
    energy when it was measured, and the error that ended it, if one did."""

    text: str
    stats: Stats
    energy: AnswerEnergy | None = None
    error: Exception | None = None

    @property
    def state(self) -> str:
        """stop, length, cancelled or error."""
        return self.stats.finish_reason


class AnswerPipeline:
    """One answer: find the engine, stream `request`, save it as it grows, and finish it.

    Callbacks (each optional but `on_token`): `on_start()` once the engine is found,
    `on_status(state, detail)` while the engine waits, loads or reads the prompt, `on_token(text)` for
    each piece of the answer, `save(text)` with the answer so far every SAVE_EVERY seconds,
    and `finish(outcome)` exactly once at the end, also when the task running the answer is
    cancelled (the app closing), so the answer is always stored.

    The energy: `meter` measures an answer written on this machine; an answer a server writes
    (`remote` names it) spent its energy there, and counts what the server reported, priced
    with `factors`.
    """

    def __init__(
        self,
        request: ChatRequest,
        *,
        on_token: Callable[[str], None],
        on_status: Callable[[str, str], None] | None = None,
        on_start: Callable[[], None] | None = None,
        save: Callable[[str], None] | None = None,
        finish: Callable[[Outcome], None] | None = None,
        meter: EnergyMeter | None = None,
        factors: EnergyFactors | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.request = request
        self._on_token = on_token
        self._on_status = on_status
        self._on_start = on_start
        self._save = save
        self._finish = finish
        self._meter = meter
        self._factors = factors
        self.remote = ""  # the server writing the answer; empty: this machine
        self._clock = clock
        self.measurement: Measurement | None = None  # the energy being measured while streaming
        self.tokens = 0
        self.prompt_tokens: int | None = None  # counted before the answer starts
        self._pieces: list[str] = []
        self._first_at: float | None = None
        self._stream: ChatStream | None = None

    @property
    def text(self) -> str:
        """The answer so far."""
        return "".join(self._pieces)

    def rate(self) -> float | None:
        """Tokens per second since the first token (None until there is enough to tell)."""
        if self._first_at is None:
            return None
        elapsed = self._clock() - self._first_at
        return self.tokens / elapsed if elapsed > RATE_AFTER else None

    @property
    def context_used(self) -> int | None:
        """Tokens in the model's context now: the prompt plus the answer so far (None until the
        prompt is counted; the answer's statistics then give the exact figure)."""
        return None if self.prompt_tokens is None else self.prompt_tokens + self.tokens

    def cancel(self) -> bool:
        """Stop the answer; the partial answer is kept. False when nothing is streaming yet."""
        if self._stream is None:
            return False
        self._stream.cancel()
        return True

    async def run(self, engine_for: Callable[[], Engine]) -> Outcome:
        """Answer with the engine `engine_for()` returns (called in a thread); never raises
        for what goes wrong with the answer: that becomes an outcome with state 'error'."""
        done: DoneEvent | None = None
        error: Exception | None = None
        try:
            engine = await asyncio.to_thread(engine_for)
            self.remote = engine.server.name if isinstance(engine, RemoteEngine) else ""
            if self._on_start is not None:
                self._on_start()
            if self._meter is not None and not self.remote:
                self.measurement = self._meter.start(lambda: engine.pid)
            self.prompt_tokens = await asyncio.to_thread(engine.count_tokens, self.request.messages, self.request.options)
            self._stream = engine.chat(self.request)
            done = await self._pump(self._stream)
        except Exception as caught:  # whatever goes wrong ends this answer, never its caller
            error = caught
        finally:
            if self._stream is not None and done is None:
                self._stream.cancel()  # cancelled from outside, or failed: the engine stops too
            self._stream = None
            outcome = self._outcome(done, error)
            if self._finish is not None:
                self._finish(outcome)
        return outcome

    async def _pump(self, stream: ChatStream) -> DoneEvent:
        saved_at = self._clock()
        async for event in stream:
            if isinstance(event, TokenEvent):
                if self._first_at is None:
                    self._first_at = self._clock()
                self.tokens += event.tokens
                self._pieces.append(event.text)
                self._on_token(event.text)
                if self._save is not None and self._clock() - saved_at >= SAVE_EVERY:
                    saved_at = self._clock()
                    self._save(self.text)
            elif isinstance(event, StatusEvent):
                if self._on_status is not None:
                    percent = f"{event.percent}%" if event.percent is not None else ""
                    self._on_status(event.state, event.detail or percent)
            elif isinstance(event, DoneEvent):
                return event
        raise EngineError("the engine stopped without finishing the answer")

    def _outcome(self, done: DoneEvent | None, error: Exception | None) -> Outcome:
        if done is not None:
            text, stats = done.text, done.stats
        elif error is not None:
            text, stats = self.text, Stats(finish_reason="error", error=describe_error(error))
        else:
            text, stats = self.text, Stats(finish_reason="cancelled")
        energy = None
        if self.measurement is not None:
            energy = self.measurement.finish(stats.eval_count)
            self.measurement = None
        elif stats.server_energy_j is not None and self._factors is not None:
            factors = self._factors
            energy = reported_energy(stats.server_energy_j, stats.server_energy_method, stats.server,
                                     stats.eval_count, stats.total_duration, factors.co2_g_per_kwh,
                                     factors.price_per_kwh, factors.currency)
        return Outcome(text, stats, energy, error)
