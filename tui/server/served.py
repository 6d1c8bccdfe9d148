"""The server's entry in whirr's registry (tui.engine.runner.registry, `served/`): what it has
served and is serving now, for the meters panel of an app on the same machine.

The entry is rewritten from the meters' sampler thread (no thread of its own): after a sample,
when something it shows changed, and never more often than every MIN_WRITE_S. It is removed
when the server stops; a server that was killed leaves it behind, and readers delete it.
"""

from __future__ import annotations

import collections
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from tui.engine.runner.registry import ServedEntry, remove_entry, write_entry
from tui.meters.processes import WHIRR_PROCESSES, ProcessGroup

if TYPE_CHECKING:
    from tui.meters.sample import Sample
    from tui.server.service import Service

MIN_WRITE_S = 0.25
"""At most four writes a second."""
RATE_WINDOW_S = 1.0
"""The rate "now" is the tokens generated over about this long."""


class ServedRecord:
    """Keeps one server's registry entry; `on_sample` is the sampler's listener, `close()` removes it."""

    def __init__(self, service: Service, directory: Path, address: str,
                 processes: ProcessGroup = WHIRR_PROCESSES) -> None:
        self.service = service
        self.directory = directory
        self.address = address
        self.processes = processes
        self._started = psutil.Process().create_time()
        self._counts: collections.deque[tuple[float, int]] = collections.deque()
        self._written: ServedEntry | None = None
        self._written_at = float("-inf")
        self._lock = threading.Lock()
        self._closed = False

    def entry(self, sample: Sample) -> ServedEntry:
        """The entry as of `sample` (the rate over the samples of the last RATE_WINDOW_S)."""
        activity = self.service.activity()
        self._counts.append((sample.t, activity.tokens))
        while len(self._counts) > 2 and sample.t - self._counts[1][0] >= RATE_WINDOW_S:
            self._counts.popleft()
        first_t, first_tokens = self._counts[0]
        rate = (activity.tokens - first_tokens) / (sample.t - first_t) if sample.t > first_t else 0.0
        return ServedEntry(
            pid=os.getpid(),
            started=self._started,
            address=self.address,
            answers=activity.answers,
            tokens=activity.tokens,
            energy_j=round(activity.energy_j, 3),
            measured=bool(sample.power) and all(p.method.startswith("measured") for p in sample.power),
            answering=activity.answering,
            rate=round(rate, 1),
            pids=self.processes.pids,
        )

    def on_sample(self, sample: Sample) -> None:
        """Rewrite the entry when it changed (at most every MIN_WRITE_S)."""
        with self._lock:
            if self._closed:
                return
            entry = self.entry(sample)
            if entry == self._written or sample.t - self._written_at < MIN_WRITE_S:
                return
            write_entry(self.directory, entry)
            self._written, self._written_at = entry, sample.t

    def close(self) -> None:
        """Remove the entry (the server is stopping); later samples write nothing."""
        with self._lock:
            self._closed = True
            remove_entry(self.directory, os.getpid())
