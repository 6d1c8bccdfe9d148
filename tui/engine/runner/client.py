"""RunnerEngine: the Engine contract, answered by a runner process.

Callers see what LlamaEngine offers (chat(), answer_here(), load(), count_tokens(), unload(),
check_memory(), `loaded`, `force`), so the app, the CLI and `whirr serve` do not change.
What the process boundary adds:
- A runner that dies mid-answer ends the answer with finish reason "error", the partial text
  kept and one line saying so ("the model process stopped: signal 9"); the next request starts
  a fresh runner.
- A cancel is sent at once; a runner that has not finished the answer 2 s later is killed.
- keep_alive (Ollama's meaning): the runner exits that long after its last request; 0 at once,
  negative never.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui.engine.base import (
    ChatEvent,
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
from tui.engine.keepalive import DEFAULT_KEEP_ALIVE_S
from tui.engine.loading import load_settings
from tui.engine.options import Options, context_size
from tui.engine.runner.connection import RunnerConnection
from tui.engine.runner.protocol import messages_to_list, options_to_dict, request_to_dict, stats_from_dict
from tui.models.gguf_info import GGUFInfo

CANCEL_GRACE_S = 2.0
"""A runner that has not ended a cancelled answer this long after the cancel is killed."""


def stopped_message(reason: str) -> str:
    """The one line that ends an answer whose runner died."""
    return f"the model process stopped: {reason}"


class RunnerEngine:
    """Answers chats with one GGUF model in a runner process, started on first use."""

    def __init__(
        self,
        model_path: Path,
        name: str = "",
        adapter: Path | None = None,
        info: GGUFInfo | None = None,
        file_size: int | None = None,
        model_id: str = "",
        registry: Path | None = None,
        keep_alive: float = DEFAULT_KEEP_ALIVE_S,
        env: dict[str, str] | None = None,
    ) -> None:
        """With `file_size`, loading first checks the memory fit (DoesNotFit) unless `force`;
        `registry` is the folder where the runner records itself for `whirr ps`; `env` replaces
        the runner's environment (benchmarks compare OpenMP settings with it)."""
        self.model_path = Path(model_path)
        self.name = name or self.model_path.name
        self.adapter = adapter
        self.info = info
        self.file_size = file_size
        self.model_id = model_id
        self.registry = registry
        self.env = env
        self.keep_alive = keep_alive
        """Seconds the model stays loaded after a request that does not say (Ollama's keep_alive)."""
        self.expires_at: float | None = None
        """When keep_alive unloads the model (seconds since the epoch); None: not scheduled
        (kept until unloaded, or not loaded: see `loaded`)."""
        self.force = False
        """Load even when the memory estimate says the model does not fit (`whirr run --force`)."""
        self._lock = threading.Lock()
        self._connection: RunnerConnection | None = None
        self._settings: tuple | None = None
        self._timer: threading.Timer | None = None

    # -- state --------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """True while a runner holds the model in memory."""
        connection = self._connection
        return connection is not None and connection.alive and self._settings is not None

    @property
    def pid(self) -> int | None:
        """The runner's process id while one runs."""
        connection = self._connection
        return connection.pid if connection is not None and connection.alive else None

    def check_memory(self, options: Options) -> None:
        """Raise DoesNotFit when the model will not fit in free memory with these options
        (nothing is checked when `force` is set or the file size is unknown)."""
        if self.file_size is None or self.force:
            return
        from tui.models.fit import DoesNotFit, check_fit

        fit = check_fit(self.info, self.file_size, context_size(options.num_ctx), options.num_gpu)
        if not fit.fits:
            raise DoesNotFit(fit, self.name)

    # -- answering ----------------------------------------------------------------------------

    def chat(self, request: ChatRequest) -> ChatStream:
        """Start answering on a worker thread; call from a running event loop."""
        stream = ChatStream()
        stream.run_in_thread(lambda s: self.answer_here(request, s), name=f"whirr-runner-client-{self.name}")
        return stream

    def answer_here(self, request: ChatRequest, sink: EventSink) -> None:
        """Answer on the calling thread, delivering events to `sink` (the last is a DoneEvent)."""
        started = time.perf_counter()
        if not self._lock.acquire(blocking=False):
            sink.put(StatusEvent("queued"))
            while not self._lock.acquire(timeout=0.05):
                if sink.cancelled:
                    sink.put(DoneEvent("", Stats(finish_reason="cancelled")))
                    return
        try:
            done = self._answer(request, sink, started)
            # The deadline is set before the answer's end goes out, so a client that asks /api/ps
            # right after its answer sees it; keep_alive 0 ends the runner after the answer is out.
            unload_now = self._after_request(request.keep_alive)
            sink.put(done)
            if unload_now:
                self._stop()
        finally:
            self._lock.release()

    def _answer(self, request: ChatRequest, sink: EventSink, started: float) -> DoneEvent:
        try:
            connection = self._ready(request.options)
        except EngineError as error:
            return DoneEvent("", Stats(finish_reason="error", error=str(error), total_duration=time.perf_counter() - started))
        answer = _Answer(sink)
        request_id = connection.request(
            "chat", answer.handle, request=request_to_dict(self._with_keep_alive(request))
        )
        sink.wake_on_cancel(answer.wake)
        answer.wake.wait()  # no polling: a waiting thread that wakes takes a core from the model's threads
        if not answer.finished.is_set():  # cancelled: the runner stops within a token, or is killed
            connection.send({"op": "cancel", "id": request_id})
            if not answer.finished.wait(CANCEL_GRACE_S):
                answer.killed_for_cancel = True
                connection.kill()
                answer.finished.wait()
        connection.forget(request_id)
        done = answer.done(time.perf_counter() - started)
        self._settings = load_settings(request.options) if answer.loaded else None
        return done

    def _with_keep_alive(self, request: ChatRequest) -> ChatRequest:
        return request if request.keep_alive is not None else replace(request, keep_alive=self.keep_alive)

    # -- loading ------------------------------------------------------------------------------

    def load(self, options: Options, on_progress: Callable[[int], None] | None = None,
             keep_alive: float | None = None) -> float:
        """Start a runner and load the model now (or reload for new load-time options); returns
        the seconds loading took (0 when it was loaded). `on_progress(percent)` hears how far it
        got. The keep_alive deadline starts again from now: `keep_alive` seconds, or the
        engine's. Blocking."""
        with self._lock:
            connection = self._ready(options)
            seconds = self.keep_alive if keep_alive is None else keep_alive
            reply = self._call(connection, "load", on_progress, options=options_to_dict(options), keep_alive=seconds)
            self._settings = load_settings(options)
            if self._after_request(seconds):
                self._stop()
            return float(reply["seconds"])

    def count_tokens(self, messages: Sequence[ChatMessage], options: Options, template: str | None = None) -> int:
        """Exact number of prompt tokens these messages take. Blocking; loads the model."""
        with self._lock:
            connection = self._ready(options)
            reply = self._call(connection, "count", None, messages=messages_to_list(messages),
                               options=options_to_dict(options), template=template)
            self._settings = load_settings(options)
            return int(reply["tokens"])

    def reset_cache(self) -> None:
        """Forget the KV cache so the next prompt is evaluated from scratch (benchmarks)."""
        with self._lock:
            if self._connection is not None and self._connection.alive:
                self._call(self._connection, "reset", None)

    def runner_info(self) -> dict[str, Any]:
        """What the runner reports about itself: pid, loaded, threads, thread_changes."""
        with self._lock:
            if self._connection is None or not self._connection.alive:
                return {"pid": None, "loaded": False, "threads": None, "thread_changes": []}
            return self._call(self._connection, "info", None)

    def pipe_rate(self, count: int, text: str = " word") -> float:
        """Synthetic token frames per second the pipe from the runner carries (starts a runner)."""
        with self._lock:
            connection = self._ready(None)
            answer = _Answer(_Discard())
            started = time.perf_counter()
            request_id = connection.request("synthetic", answer.handle, count=count, text=text)
            answer.finished.wait()
            seconds = time.perf_counter() - started
            connection.forget(request_id)
            if answer.tokens != count:
                raise EngineError(f"the runner sent {answer.tokens} of {count} synthetic tokens")
            return count / seconds

    def unload(self) -> None:
        """End the runner, so its memory returns to the system (waits for a running answer)."""
        with self._lock:
            self._stop()

    def close(self) -> None:
        """End the runner now without waiting for anything (whirr is exiting); a running answer
        ends as if the runner had stopped."""
        if self._timer is not None:
            self._timer.cancel()
        connection = self._connection
        if connection is not None:
            connection.close()

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.expires_at = None
        connection, self._connection, self._settings = self._connection, None, None
        if connection is not None:
            connection.stop()

    def _ready(self, options: Options | None) -> RunnerConnection:
        """A live runner (a fresh one if there is none), after the memory check for a load."""
        if options is not None and self._settings != load_settings(options):
            self.check_memory(options)
        connection = self._connection
        if connection is None or not connection.alive:
            self._settings = None
            arguments = ["--model", str(self.model_path), "--name", self.name, "--model-id", self.model_id]
            if self.adapter is not None:
                arguments += ["--adapter", str(self.adapter)]
            if self.registry is not None:
                arguments += ["--registry", str(self.registry)]
            try:
                connection = self._connection = RunnerConnection(arguments, self.env)
            except OSError as error:
                raise EngineError(f"cannot start the model process: {error}") from None
        return connection

    def _call(self, connection: RunnerConnection, op: str, on_progress: Callable[[int], None] | None,
              **fields: Any) -> dict[str, Any]:
        """Send a request and wait for its one reply; raises EngineError for an error reply."""
        replies: list[dict[str, Any]] = []
        finished = threading.Event()

        def handle(message: dict[str, Any]) -> None:
            if message["ev"] == "progress":
                if on_progress is not None:
                    on_progress(message["percent"])
                return
            replies.append(message)
            finished.set()

        request_id = connection.request(op, handle, **fields)
        finished.wait()
        connection.forget(request_id)
        reply = replies[0]
        if reply["ev"] == "died":
            self._settings = None
            raise EngineError(stopped_message(reply["reason"]))
        if reply["ev"] == "error":
            raise EngineError(reply["error"])
        return reply

    # -- keep_alive ---------------------------------------------------------------------------

    def _after_request(self, keep_alive: float | None) -> bool:
        """Schedule the unload keep_alive asks for (the lock is held); True when it asks for
        the unload now (keep_alive 0), which the caller does."""
        seconds = self.keep_alive if keep_alive is None else keep_alive
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.expires_at = None
        if seconds == 0:
            return True
        if seconds > 0 and self._connection is not None:
            self.expires_at = time.time() + seconds
            self._timer = threading.Timer(seconds, self._expire, args=(self._connection,))
            self._timer.daemon = True
            self._timer.start()
        return False

    def _expire(self, connection: RunnerConnection) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a request is running: when it ends it schedules the unload again
        try:
            if self._connection is connection:
                self._stop()
        finally:
            self._lock.release()


class _Answer:
    """One answer's events as they come from the runner (handled on the connection's thread)."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.finished = threading.Event()
        self.wake = threading.Event()
        """Set when the answer has finished or is cancelled."""
        self.parts: list[str] = []
        self.tokens = 0
        self.loaded = False
        self.killed_for_cancel = False
        self._done: DoneEvent | None = None
        self._died = ""

    def handle(self, message: dict[str, Any]) -> None:
        """Pass an event on to the sink (the DoneEvent waits for the caller's thread)."""
        kind = message["ev"]
        if kind == "token":
            self.parts.append(message["text"])
            self.tokens += message["n"]
            self.sink.put(TokenEvent(message["text"], message["n"]))
        elif kind == "status":
            self.sink.put(StatusEvent(message["state"], percent=message["percent"]))
        elif kind == "done":
            self.loaded = message["loaded"]
            self._done = DoneEvent(message["text"], stats_from_dict(message["stats"]), tuple(message.get("context", ())))
            self.finished.set()
        elif kind == "error":
            self._done = DoneEvent("".join(self.parts), Stats(finish_reason="error", error=message["error"]))
            self.finished.set()
        elif kind == "died":
            self._died = message["reason"]
            self.finished.set()
        if self.finished.is_set():
            self.wake.set()

    def done(self, total: float) -> DoneEvent:
        """The answer's DoneEvent: the runner's own, or one made from what arrived before it died."""
        if self._done is not None:
            return self._done
        text = "".join(self.parts)
        if self.killed_for_cancel:
            stats = Stats(finish_reason="cancelled", eval_count=self.tokens, total_duration=total)
        else:
            stats = Stats(finish_reason="error", error=stopped_message(self._died), eval_count=self.tokens,
                          total_duration=total)
        return DoneEvent(text, stats)


class _Discard(EventSink):
    """A sink that drops every event (the synthetic pipe measurement counts them itself)."""

    def put(self, event: ChatEvent) -> None:
        pass
