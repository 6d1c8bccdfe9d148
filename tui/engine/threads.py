"""Contention-aware thread count: fewer llama.cpp threads when other programs want the cores.

llama.cpp's worker threads spin while they wait for each other; when another CPU-bound program
takes a core, a thread that is not running holds all the others up at every barrier, and the
rate collapses (measured on 2 cores with two busy loops: 2 threads 13 tok/s, 1 thread 50 tok/s).
So while an answer streams, the governor looks every half second at how much CPU time the rest
of the machine used, sets the thread count to the cores left free (at least one, at most the
configured count), and checks the per-token time after each change: a change that made tokens
slower by more than a tenth is undone and held for a while.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

WINDOW_S = 0.5
"""How often the decision is revisited while tokens stream."""
MIN_TOKENS = 4
"""Fewest tokens a window needs before it says anything about the rate."""
WORSE = 0.9
"""A change is undone when the rate after it is below this fraction of the rate before."""
HOLD_S = 10.0
"""After an undone change, keep the count this long."""
FREE_ROUNDING = 0.5
"""A core counts as free when at least half of it is. Runners' workers spin only briefly
(GOMP_SPINCOUNT), so a thread that shares its core loses little; a client streaming the tokens
(the app's UI, `whirr serve` and its HTTP client: 0.1-0.4 of a core) must not cost a thread."""


class MachineLoad:
    """Cumulative CPU time of the whole machine and of this process (seconds)."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.cpus = psutil.cpu_count() or 1

    def read(self) -> tuple[float, float]:
        """(machine busy CPU seconds since boot, this process's CPU seconds)."""
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        own = self._process.cpu_times()
        return total - idle, own.user + own.system


@dataclass
class _Window:
    started: float
    busy: float
    own: float
    token_times: list[float]


class ThreadGovernor:
    """Picks llama.cpp's thread count from the machine's load and the measured token rate.

    Call `begin()` when generation starts and `token()` after every generated token; the
    governor calls `apply(threads)` when the count should change.
    """

    def __init__(
        self,
        max_threads: int,
        apply: Callable[[int], None],
        load: MachineLoad | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.max_threads = max(1, max_threads)
        self.threads = self.max_threads
        self._apply = apply
        self._load = load if load is not None else MachineLoad()
        self._clock = clock
        self._window: _Window | None = None
        self._before: tuple[int, float] | None = None  # (threads, rate) just before the last change
        self._held_until = 0.0
        self.changes: list[tuple[float, int, str]] = []
        """(time, new count, why) of every change, for logs and tests."""

    def begin(self) -> None:
        """Generation (re)starts: the next token opens a fresh window."""
        self._window = None

    def token(self) -> None:
        """One token was generated now."""
        now = self._clock()
        window = self._window
        if window is None:
            busy, own = self._load.read()
            self._window = _Window(now, busy, own, [now])
            return
        window.token_times.append(now)
        if now - window.started >= WINDOW_S and len(window.token_times) > MIN_TOKENS:
            self._decide(window, now)

    def _decide(self, window: _Window, now: float) -> None:
        busy, own = self._load.read()
        elapsed = now - window.started
        others = max(0.0, (busy - window.busy) - (own - window.own)) / elapsed
        times = window.token_times
        rate = 1.0 / statistics.median(b - a for a, b in zip(times, times[1:]))
        self._window = _Window(now, busy, own, [now])
        if self._before is not None:
            threads, before_rate = self._before
            self._before = None
            if rate < WORSE * before_rate:
                self._set(threads, now, f"undo: {rate:.1f} tok/s after the change, {before_rate:.1f} before")
                self._held_until = now + HOLD_S
                return
        if now < self._held_until:
            return
        free = self._load.cpus - others
        target = min(self.max_threads, max(1, int(free + FREE_ROUNDING)))
        if target != self.threads:
            self._before = (self.threads, rate)
            self._set(target, now, f"other programs use {others:.1f} cores; {rate:.1f} tok/s")

    def _set(self, threads: int, now: float, why: str) -> None:
        self.threads = threads
        self.changes.append((now, threads, why))
        self._apply(threads)
