"""Groups of processes read together: whirr's own (this process and the runners it started),
and the processes of a `whirr serve` on the same machine, which the app shows apart.

The meters count whirr's own group as whirr: CPU time, resident memory, and each answer's energy
share. CPU time stays cumulative when a member ends: its last reading is kept, so the
difference between two readings never goes backwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import psutil


@dataclass(frozen=True)
class GroupReading:
    """One reading of a group: its CPU time (ended members included), resident memory now, and
    each live member's own CPU time (this process's too, when the group includes it)."""

    cpu_s: float
    rss_bytes: int
    cpu_s_by_pid: dict[int, float] = field(default_factory=dict)


class ProcessGroup:
    """This process (unless `include_self` is false) plus the processes added to it (thread-safe)."""

    def __init__(self, include_self: bool = True) -> None:
        self._own = psutil.Process() if include_self else None
        self._members: dict[int, psutil.Process] = {}
        self._last_cpu: dict[int, float] = {}
        self._retired_cpu = 0.0
        self._lock = threading.Lock()

    @property
    def pids(self) -> tuple[int, ...]:
        """This process's pid (when included), then the members'."""
        with self._lock:
            own = () if self._own is None else (self._own.pid,)
            return (*own, *self._members)

    def add(self, pid: int) -> None:
        """Count process `pid` from now on, with all the CPU time it used since it started (a
        pid already gone is ignored)."""
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

    def watch(self, pids: Iterable[int]) -> None:
        """Make the members exactly `pids` (another program's processes, watched from now on):
        new ones count only the CPU time they use from now, gone ones are retired."""
        wanted = set(pids)
        with self._lock:
            for pid in set(self._members) - wanted:
                self._retire(pid)
            for pid in wanted - set(self._members):
                try:
                    process = psutil.Process(pid)
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                self._members[pid] = process
                self._last_cpu[pid] = times.user + times.system
                self._retired_cpu -= self._last_cpu[pid]  # what it used before it was watched

    def _retire(self, pid: int) -> None:
        if self._members.pop(pid, None) is not None:
            self._retired_cpu += self._last_cpu.pop(pid, 0.0)

    def read(self) -> GroupReading:
        """CPU seconds used by the group's processes (ended ones included), their resident bytes now."""
        by_pid: dict[int, float] = {}
        rss = 0
        if self._own is not None:
            own = self._own.cpu_times()
            by_pid[self._own.pid] = own.user + own.system
            rss = self._own.memory_info().rss
        with self._lock:
            for pid, process in list(self._members.items()):
                try:
                    times = process.cpu_times()
                    rss += process.memory_info().rss
                except psutil.Error:
                    self._retire(pid)
                    continue
                self._last_cpu[pid] = by_pid[pid] = times.user + times.system
            members = self._retired_cpu + sum(self._last_cpu.values())
        own_cpu = by_pid[self._own.pid] if self._own is not None else 0.0
        return GroupReading(own_cpu + members, rss, by_pid)


WHIRR_PROCESSES = ProcessGroup()
"""The one group the meters read and the runner client adds its runners to."""
