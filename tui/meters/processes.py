"""whirr's processes: this one and the runner processes it started.

The meters count all of them as whirr: CPU time, resident memory, and so each answer's energy
share. CPU time stays cumulative when a runner ends: its last reading is kept, so the
difference between two readings never goes backwards.
"""

from __future__ import annotations

import threading

import psutil


class ProcessGroup:
    """This process plus the child processes added to it (thread-safe)."""

    def __init__(self) -> None:
        self._own = psutil.Process()
        self._members: dict[int, psutil.Process] = {}
        self._last_cpu: dict[int, float] = {}
        self._retired_cpu = 0.0
        self._lock = threading.Lock()

    @property
    def pids(self) -> tuple[int, ...]:
        """This process's pid, then the members'."""
        with self._lock:
            return (self._own.pid, *self._members)

    def add(self, pid: int) -> None:
        """Count process `pid` as whirr's from now on (a pid already gone is ignored)."""
        try:
            process = psutil.Process(pid)
        except psutil.Error:
            return
        with self._lock:
            self._members[pid] = process
            self._last_cpu[pid] = 0.0

    def remove(self, pid: int) -> None:
        """Stop counting `pid`; the CPU time it used so far stays in the total."""
        with self._lock:
            self._retire(pid)

    def _retire(self, pid: int) -> None:
        if self._members.pop(pid, None) is not None:
            self._retired_cpu += self._last_cpu.pop(pid, 0.0)

    def read(self) -> tuple[float, int]:
        """(CPU seconds used by whirr's processes, ended ones included; their resident bytes now)."""
        own = self._own.cpu_times()
        cpu = own.user + own.system
        rss = self._own.memory_info().rss
        with self._lock:
            for pid, process in list(self._members.items()):
                try:
                    times = process.cpu_times()
                    rss += process.memory_info().rss
                except psutil.Error:
                    self._retire(pid)
                    continue
                self._last_cpu[pid] = times.user + times.system
            cpu += self._retired_cpu + sum(self._last_cpu.values())
        return cpu, rss


WHIRR_PROCESSES = ProcessGroup()
"""The one group the meters read and the runner client adds its runners to."""
