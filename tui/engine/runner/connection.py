"""One runner process seen from whirr: spawning it, sending requests, routing its events.

A reader thread reads the runner's frames and hands each to the handler registered for its
request id. When the runner's output ends (it exited, was killed or crashed), every pending
handler gets one {"ev": "died", "reason": ...} event, so no caller waits forever.

Runners are spawned from one long-lived thread: PR_SET_PDEATHSIG fires when the *thread* that
forked the child ends, so a runner started from a short-lived worker thread would die with it.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tui.engine.runner.protocol import FrameWriter, ProtocolError, read_frame
from tui.meters.processes import WHIRR_PROCESSES

log = logging.getLogger("whirr.runner")
log.addHandler(logging.NullHandler())  # to whirr's log file when set up, never to the terminal

Handler = Callable[[dict[str, Any]], None]

_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whirr-runner-spawner")

SPIN_COUNT = "1000"
"""GOMP_SPINCOUNT for runners: llama.cpp's OpenMP workers spin about ten microseconds waiting
for each other, then sleep. libgomp's default (about 3 ms of spinning) holds a core a busy
machine wants; OMP_WAIT_POLICY=PASSIVE (no spinning) costs a third of the quiet rate. Measured
with benchmarks/runner_threads.py (README, Performance)."""


def runner_environment() -> dict[str, str]:
    """The environment a runner starts with: whirr's, with GOMP_SPINCOUNT set unless the user
    chose OpenMP's waiting already (GOMP_SPINCOUNT would override their OMP_WAIT_POLICY)."""
    env = dict(os.environ)
    if not {"GOMP_SPINCOUNT", "OMP_WAIT_POLICY"} & env.keys():
        env["GOMP_SPINCOUNT"] = SPIN_COUNT
    return env


class RunnerConnection:
    """A running runner process and the requests waiting for its answers."""

    def __init__(self, arguments: list[str], env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "tui.engine.runner", "--parent", str(os.getpid()), *arguments]
        self.process: subprocess.Popen[bytes] = _SPAWNER.submit(
            subprocess.Popen,
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env if env is not None else runner_environment(),
            start_new_session=True,  # the terminal's Ctrl+C is whirr's, not the runner's
        ).result()
        self.pid = self.process.pid
        WHIRR_PROCESSES.add(self.pid)
        assert self.process.stdin is not None
        # The writer owns its own descriptor, so closing it can never race a write onto a reused one.
        self._writer = FrameWriter(os.dup(self.process.stdin.fileno()))
        self.process.stdin.close()
        self._handlers: dict[int, Handler] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.reason = ""
        """Why the runner ended ('' while it runs), e.g. "signal 9" or "exit code 1"."""
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self._ended = threading.Event()
        threading.Thread(target=self._read_events, name=f"whirr-runner-{self.pid}", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"whirr-runner-{self.pid}-stderr", daemon=True).start()

    @property
    def alive(self) -> bool:
        """True until the runner's output has ended."""
        return not self._ended.is_set()

    def request(self, op: str, handler: Handler, **fields: Any) -> int:
        """Send a request; `handler` gets its events (on the reader thread). Returns its id."""
        with self._lock:
            request_id = next(self._ids)
            if self._ended.is_set():
                dead = True
            else:
                dead = False
                self._handlers[request_id] = handler
        if dead:
            handler({"ev": "died", "id": request_id, "reason": self.reason})
            return request_id
        self.send({"op": op, "id": request_id, **fields})
        return request_id

    def send(self, message: dict[str, Any]) -> None:
        """Send a message that expects no answer (a write to a dead runner is ignored: its
        reader reports the death)."""
        try:
            self._writer.send(message)
        except OSError:
            pass

    def forget(self, request_id: int) -> None:
        """Stop routing events of a finished request."""
        with self._lock:
            self._handlers.pop(request_id, None)

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the runner to exit; kill it if it has not within `timeout` seconds."""
        if self.alive:
            self.close()
            if not self._ended.wait(timeout):
                self.kill()
        self._ended.wait(timeout)

    def close(self) -> None:
        """Tell the runner to exit and close its pipe, without waiting."""
        self.send({"op": "exit"})
        self._writer.close()

    def kill(self) -> None:
        """SIGKILL the runner (its pending requests hear that it died)."""
        try:
            self.process.send_signal(signal.SIGKILL)
        except OSError:
            pass

    def wait_ended(self, timeout: float | None = None) -> bool:
        """Wait until the runner's output has ended; True when it has."""
        return self._ended.wait(timeout)

    def _read_events(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        try:
            while (message := read_frame(stream)) is not None:
                with self._lock:
                    handler = self._handlers.get(message.get("id", 0))
                if handler is not None:
                    try:
                        handler(message)
                    except Exception:  # one caller's failure must not stop the others' events
                        log.exception("runner %d: handling %s failed", self.pid, message.get("ev"))
        except (OSError, ValueError, ProtocolError) as error:
            log.warning("runner %d: unreadable output: %s", self.pid, error)
            self.kill()
        code = self.process.wait()
        self._writer.close()
        WHIRR_PROCESSES.remove(self.pid)
        self.reason = f"signal {-code}" if code < 0 else f"exit code {code}"
        if code != 0:
            log.warning("runner %d stopped: %s; its last lines: %s", self.pid, self.reason, " | ".join(self.stderr_tail))
        with self._lock:
            self._ended.set()
            handlers, self._handlers = list(self._handlers.items()), {}
        for request_id, handler in handlers:
            handler({"ev": "died", "id": request_id, "reason": self.reason})

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                self.stderr_tail.append(line)
                log.debug("runner %d: %s", self.pid, line)
