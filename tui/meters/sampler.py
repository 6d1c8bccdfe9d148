"""The one background thread that reads the machine a few times a second.

It keeps the latest Sample and a bounded history (for sparklines), and calls listeners with each
new Sample from its own thread (a UI hands it over to its loop, e.g. with call_from_thread).
Per-core load comes from psutil.cpu_percent(percpu=True, interval=None), which keeps its state
inside psutil: nothing else in the process should call it while the sampler runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import psutil

from tui.meters.probe import Probe
from tui.meters.sample import Sample

log = logging.getLogger(__name__)

Listener = Callable[[Sample], None]


def _wait(stop: threading.Event, seconds: float) -> bool:
    """Sleep until `stop` is set or `seconds` pass; True when stopped."""
    return stop.wait(seconds)


class Sampler:
    """Samples the machine at `hz` (2-4 is plenty) in a daemon thread; start() and stop() it.

    `clock` (seconds, monotonic) and `wait(stop_event, seconds)` (True once stopped) time the
    schedule; a test passes its own to step through it without waiting on the wall clock.
    """

    def __init__(
        self,
        probe: Probe | None = None,
        hz: float = 4.0,
        history: int = 240,
        *,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Event, float], bool] = _wait,
    ) -> None:
        if not 0 < hz <= 50:
            raise ValueError(f"sampling rate must be in (0, 50] Hz, got {hz}")
        if history < 1:
            raise ValueError(f"history must hold at least one sample, got {history}")
        self.probe = probe if probe is not None else Probe.detect()
        self.period = 1.0 / hz
        self._history: deque[Sample] = deque(maxlen=history)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clock = clock
        self._wait = wait

    @property
    def running(self) -> bool:
        """Whether the sampling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def thread(self) -> threading.Thread | None:
        """The sampling thread while running (its native_id lets a benchmark read its CPU time)."""
        return self._thread

    @property
    def latest(self) -> Sample | None:
        """The newest Sample, or None before the first one."""
        with self._lock:
            return self._history[-1] if self._history else None

    def history(self) -> tuple[Sample, ...]:
        """The retained Samples, oldest first (a copy, safe to keep)."""
        with self._lock:
            return tuple(self._history)

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(sample)` from the sampling thread after each new Sample."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling `listener`; removing one that is not registered does nothing."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def record(self, sample: Sample) -> None:
        """Keep `sample` as the newest reading and hand it to the listeners (the sampling thread
        calls this; a replay of recorded readings, such as a deterministic screenshot, may too)."""
        with self._lock:
            self._history.append(sample)
            listeners = tuple(self._listeners)
        for listener in listeners:
            try:
                listener(sample)
            except Exception:
                log.exception("meters listener %r failed", listener)

    def start(self) -> None:
        """Start sampling (the first Sample is taken at once); starting twice does nothing."""
        if self.running:
            return
        self._stop.clear()
        psutil.cpu_percent(percpu=True, interval=None)  # primes psutil's per-core baseline
        self._thread = threading.Thread(target=self._run, name="whirr-meters", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop sampling and wait for the thread to end (history and latest are kept)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        previous = self.latest
        deadline = self._clock()
        while True:
            sample = self.probe.read(previous, tuple(psutil.cpu_percent(percpu=True, interval=None)))
            self.record(sample)
            previous = sample
            # Fixed-rate schedule; after a stall (suspend, heavy load) restart it instead of bursting.
            deadline += self.period
            now = self._clock()
            if deadline < now:
                deadline = now + self.period
            if self._wait(self._stop, deadline - now):
                return
