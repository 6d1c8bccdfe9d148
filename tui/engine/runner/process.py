"""The runner process: one model, driven by LlamaEngine on the main thread.

A reader thread takes frames from stdin: a cancel takes effect at once (the answer's cancel
flag, which the engine checks after every token and llama.cpp's abort callback checks during
prompt evaluation); everything else queues for the main thread. End of stdin means whirr has
gone, so the runner exits at once; PR_SET_PDEATHSIG makes the kernel kill it too should
whirr die before it reads that. Frames go out on a copy of stdout; file descriptor 1 itself is
pointed at stderr, so nothing llama.cpp prints can corrupt the frames.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tui.engine.base import ChatEvent, DoneEvent, EngineError, EventSink, StatusEvent, TokenEvent
from tui.engine.runner.protocol import (
    FrameWriter,
    messages_from_list,
    options_from_dict,
    read_frame,
    request_from_dict,
    stats_to_dict,
)
from tui.engine.runner.registry import LoadedModel, remove_entry, write_entry

log = logging.getLogger("whirr.runner")

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(0)


class FrameSink(EventSink):
    """Sends one answer's events to whirr as frames."""

    def __init__(self, writer: FrameWriter, request_id: int, on_done: Any) -> None:
        super().__init__()
        self.writer, self.id = writer, request_id
        self._on_done = on_done

    def put(self, event: ChatEvent) -> None:
        if isinstance(event, TokenEvent):
            self.writer.send({"ev": "token", "id": self.id, "text": event.text, "n": event.tokens})
        elif isinstance(event, StatusEvent):
            self.writer.send({"ev": "status", "id": self.id, "state": event.state, "percent": event.percent})
        elif isinstance(event, DoneEvent):
            self.writer.send({"ev": "done", "id": self.id, "text": event.text, "stats": stats_to_dict(event.stats),
                              "context": list(event.context), **self._on_done()})


class Runner:
    """Serves one model's requests; `serve()` runs on the main thread."""

    def __init__(self, args: argparse.Namespace, writer: FrameWriter) -> None:
        from tui.engine.llama import LlamaEngine

        self.args = args
        self.writer = writer
        self.engine = LlamaEngine(Path(args.model), args.name, adapter=Path(args.adapter) if args.adapter else None)
        self.engine.force = True  # whirr checked the memory fit before asking
        self.registry = Path(args.registry) if args.registry else None
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._sinks: dict[int, FrameSink] = {}
        self._cancelled: set[int] = set()
        self._num_gpu = 0
        self._keep_alive: float | None = None

    # -- the reader thread ------------------------------------------------------------------

    def receive(self, message: dict[str, Any]) -> None:
        """A frame from whirr: cancels act now, the rest waits for the main thread."""
        if message["op"] == "cancel":
            with self._lock:
                sink = self._sinks.get(message["id"])
                if sink is None:
                    self._cancelled.add(message["id"])
            if sink is not None:
                sink.cancel()
        else:
            self.inbox.put(message)

    # -- the main thread --------------------------------------------------------------------

    def serve(self) -> None:
        """Answer requests until whirr says exit."""
        handlers = {
            "load": self._load,
            "chat": self._chat,
            "count": self._count,
            "reset": self._reset,
            "info": self._info,
            "synthetic": self._synthetic,
        }
        while True:
            message = self.inbox.get()
            if message["op"] == "exit":
                return
            request_id = message.get("id", 0)
            try:
                handlers[message["op"]](message)
            except EngineError as error:
                self.writer.send({"ev": "error", "id": request_id, "error": str(error)})
            except Exception as error:  # a failing request must not end the runner
                log.exception("runner request %s failed", message["op"])
                self.writer.send({"ev": "error", "id": request_id, "error": f"{type(error).__name__}: {error}"})

    def _load(self, message: dict[str, Any]) -> None:
        options = options_from_dict(message["options"])
        seconds = self.engine.load(
            options,
            on_progress=lambda percent: self.writer.send({"ev": "progress", "id": message["id"], "percent": percent}),
        )
        self._num_gpu = options.num_gpu
        self._keep_alive = message.get("keep_alive")
        self._register()
        self.writer.send({"ev": "loaded", "id": message["id"], "seconds": seconds, "threads": self.engine.threads})

    def _chat(self, message: dict[str, Any]) -> None:
        request_id = message["id"]
        request = request_from_dict(message["request"])
        self._num_gpu = request.options.num_gpu
        self._keep_alive = request.keep_alive
        sink = FrameSink(self.writer, request_id, self._answered)
        with self._lock:
            self._sinks[request_id] = sink
            if request_id in self._cancelled:
                self._cancelled.discard(request_id)
                sink.cancel()
        try:
            self.engine.answer_here(request, sink)
        finally:
            with self._lock:
                del self._sinks[request_id]

    def _answered(self) -> dict[str, Any]:
        """Just before an answer's done frame: the registry entry is up to date when whirr hears it."""
        self._register()
        return {"loaded": self.engine.loaded}

    def _count(self, message: dict[str, Any]) -> None:
        tokens = self.engine.count_tokens(
            messages_from_list(message["messages"]), options_from_dict(message["options"]), message.get("template")
        )
        self.writer.send({"ev": "count", "id": message["id"], "tokens": tokens})

    def _reset(self, message: dict[str, Any]) -> None:
        self.engine.reset_cache()
        self.writer.send({"ev": "ok", "id": message["id"]})

    def _info(self, message: dict[str, Any]) -> None:
        governor = self.engine.governor
        changes = [[threads, why] for _, threads, why in governor.changes] if governor is not None else []
        self.writer.send({"ev": "info", "id": message["id"], "pid": os.getpid(), "loaded": self.engine.loaded,
                          "threads": self.engine.threads, "thread_changes": changes})

    def _synthetic(self, message: dict[str, Any]) -> None:
        """Send `count` token frames as fast as possible (measures the pipe, no model needed)."""
        request_id, text, count = message["id"], message["text"], message["count"]
        started = time.perf_counter()
        for _ in range(count):
            self.writer.send({"ev": "token", "id": request_id, "text": text, "n": 1})
        seconds = time.perf_counter() - started
        self.writer.send({"ev": "done", "id": request_id, "text": "", "loaded": self.engine.loaded,
                          "stats": {"eval_count": count, "eval_duration": seconds}})

    def _register(self) -> None:
        llm = self.engine.llama
        if self.registry is None or llm is None:
            return
        import psutil

        keep_alive = self._keep_alive
        write_entry(self.registry, LoadedModel(
            pid=os.getpid(),
            started=psutil.Process().create_time(),
            name=self.args.name,
            model_id=self.args.model_id,
            path=self.args.model,
            processor=_processor(self._num_gpu),
            context=llm.n_ctx(),
            until=None if keep_alive is None or keep_alive < 0 else time.time() + keep_alive,
            threads=self.engine.threads or 0,
        ))

    def close(self) -> None:
        """Forget this runner's registry entry."""
        if self.registry is not None:
            remove_entry(self.registry, os.getpid())


def _processor(num_gpu: int) -> str:
    """Where the layers run, as `ollama ps` says it."""
    import llama_cpp

    if num_gpu == 0 or not llama_cpp.llama_supports_gpu_offload():
        return "100% CPU"
    return "100% GPU"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tui.engine.runner")
    parser.add_argument("--parent", type=int, required=True, help="whirr's pid: exit when it is gone")
    parser.add_argument("--model", required=True)
    parser.add_argument("--name", default="")
    parser.add_argument("--model-id", default="")
    parser.add_argument("--adapter", default="")
    parser.add_argument("--registry", default="", help="folder of the loaded-models registry")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run until whirr says exit or goes away."""
    args = _parse(argv)
    die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is whirr's to handle (it sends a cancel)
    frames = os.dup(1)
    os.dup2(2, 1)
    from tui.logs import setup_logging
    from tui.paths import resolve_paths

    setup_logging(resolve_paths())
    writer = FrameWriter(frames)
    runner = Runner(args, writer)

    def read_requests() -> None:
        try:
            while (message := read_frame(sys.stdin.buffer)) is not None:
                runner.receive(message)
        finally:  # whirr has gone (or sent garbage): nothing left to answer for
            runner.close()
            os._exit(0)

    threading.Thread(target=read_requests, name="whirr-runner-reader", daemon=True).start()
    writer.send({"ev": "ready", "id": 0, "pid": os.getpid()})
    try:
        runner.serve()
    finally:
        runner.close()
        logging.shutdown()
    # Not a normal interpreter exit: the reader thread is blocked reading stdin, and
    # finalization would abort on its buffer's lock.
    os._exit(0)
