"""What one reading of the machine holds: counters for energy, and figures for display."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.meters.nvml import GpuReading


@dataclass(frozen=True)
class ComponentPower:
    """Average power of one component ("cpu", "ram" or "gpu") over a sampling interval."""

    name: str
    watts: float
    method: str


@dataclass(frozen=True)
class Energy:
    """Energy one component used between two samples, and how it was obtained."""

    name: str
    joules: float
    method: str


@dataclass(frozen=True)
class Sample:
    """One reading of the machine and of whirr's processes (the app or CLI and its runners).

    The cumulative counters (`cpu_*_s`, `process_cpu_s`, `rapl_uj`, each GPU's `energy_mj`) make
    energy between any two samples computable; the interval figures (`cpu_percent`,
    `process_cpu_percent`, `cpu_percent_per_core`, `power`) describe the time since the sample
    before and are None or empty on a first reading.
    """

    t: float
    """time.monotonic() when read."""
    cpu_busy_s: float
    """Machine CPU time spent busy, all cores, since boot."""
    cpu_total_s: float
    """Machine CPU time, busy or idle, all cores, since boot."""
    process_cpu_s: float
    """whirr's CPU time (user + system, all threads), its runner processes included."""
    rss_bytes: int
    """Resident memory of whirr's processes, its runners included."""
    ram_used_bytes: int
    ram_total_bytes: int
    rapl_uj: tuple[int, ...] | None
    """RAPL package counters, or None when RAPL is not readable."""
    gpus: tuple[GpuReading, ...]
    cpu_percent: float | None = None
    """Machine CPU load (0-100) over the interval."""
    process_cpu_percent: float | None = None
    """whirr's CPU use over the interval, in percent of one core."""
    cpu_percent_per_core: tuple[float, ...] = ()
    power: tuple[ComponentPower, ...] = ()
    cpu_s_by_pid: dict[int, float] = field(default_factory=dict)
    """Each of whirr's live processes' own CPU time (this process's and each runner's), by pid:
    what splits the energy among answers written at the same time."""
    served_cpu_s: float | None = None
    """CPU time of the processes of a `whirr serve` on this machine (the probe's `served` group:
    whirr serve and its runners) since they were watched; None when none is watched."""
    served_rss_bytes: int | None = None
    """Their resident memory (None when none is watched)."""
    served_cpu_percent: float | None = None
    """Their CPU use over the interval, in percent of one core."""

    @property
    def power_w(self) -> float | None:
        """Total power of all components over the interval, or None on a first reading."""
        return sum(p.watts for p in self.power) if self.power else None

    @property
    def ram_percent(self) -> float:
        """RAM in use, in percent of the total."""
        return 100.0 * self.ram_used_bytes / self.ram_total_bytes if self.ram_total_bytes else 0.0
