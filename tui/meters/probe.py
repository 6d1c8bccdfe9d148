"""Reading every source at once, and turning two readings into energy per component.

psutil is always there (CPU times, whirr's processes, RAM); RAPL and NVML join when readable.
CPU energy is RAPL's when it can be read, else the TDP model on the machine load between the
two readings; RAM energy is always the estimate; GPU energy is NVML's.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil

from tui.meters import estimate, nvml, rapl
from tui.meters.estimate import CpuTdp, RamPower
from tui.meters.nvml import NvmlSource
from tui.meters.processes import WHIRR_PROCESSES, ProcessGroup
from tui.meters.rapl import RaplSource
from tui.meters.sample import ComponentPower, Energy, Sample


class Probe:
    """The machine's sources, read together into Samples (safe to use from several threads)."""

    def __init__(
        self,
        tdp: CpuTdp,
        ram: RamPower,
        rapl_source: RaplSource | None = None,
        nvml_source: NvmlSource | None = None,
        processes: ProcessGroup = WHIRR_PROCESSES,
    ) -> None:
        """`processes` are whirr's (this one and its runners): their CPU time and memory are whirr's."""
        self.tdp = tdp
        self.ram = ram
        self.rapl = rapl_source
        self.nvml = nvml_source
        self.processes = processes
        self.served = ProcessGroup(include_self=False)
        """The processes of a `whirr serve` on this machine, read apart from whirr's own (the
        app sets them from the serve's record: `served.watch(pids)`)."""

    @classmethod
    def detect(
        cls,
        cpu_tdp_watts: float = 0.0,
        powercap_root: Path = rapl.DEFAULT_POWERCAP_ROOT,
        nvml_module: ModuleType | Any | None = None,
    ) -> Probe:
        """Find what this machine can measure; `cpu_tdp_watts` <= 0 means 4 W per thread.

        `powercap_root` and `nvml_module` let tests supply a fake sysfs tree and a pynvml stand-in.
        """
        return cls(
            estimate.cpu_tdp(cpu_tdp_watts, psutil.cpu_count() or 1),
            estimate.ram_power(psutil.virtual_memory().total),
            RaplSource.open(powercap_root),
            NvmlSource.open(nvml_module),
        )

    @property
    def cpu_method(self) -> str:
        """How CPU energy is obtained."""
        return rapl.METHOD if self.rapl else self.tdp.method

    def read(self, previous: Sample | None = None, per_core: tuple[float, ...] = ()) -> Sample:
        """Read every source now; with `previous`, also the interval figures since that sample."""
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        # Linux counts guest time inside user time already; psutil's cpu_percent leaves it out too.
        total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        own = self.processes.read()
        served = self.served.read() if self.served.pids else None
        memory = psutil.virtual_memory()
        sample = Sample(
            t=time.monotonic(),
            cpu_busy_s=total - idle,
            cpu_total_s=total,
            process_cpu_s=own.cpu_s,
            rss_bytes=own.rss_bytes,
            cpu_s_by_pid=own.cpu_s_by_pid,
            ram_used_bytes=memory.total - memory.available,
            ram_total_bytes=memory.total,
            rapl_uj=self.rapl.read() if self.rapl else None,
            gpus=self.nvml.read() if self.nvml else (),
            cpu_percent_per_core=per_core,
            served_cpu_s=None if served is None else served.cpu_s,
            served_rss_bytes=None if served is None else served.rss_bytes,
        )
        if previous is None or sample.t <= previous.t:
            return sample
        seconds = sample.t - previous.t
        return replace(
            sample,
            cpu_percent=_load_percent(previous, sample),
            process_cpu_percent=100.0 * (sample.process_cpu_s - previous.process_cpu_s) / seconds,
            served_cpu_percent=None if sample.served_cpu_s is None or previous.served_cpu_s is None
            else max(100.0 * (sample.served_cpu_s - previous.served_cpu_s) / seconds, 0.0),
            power=tuple(
                ComponentPower(e.name, e.joules / seconds, e.method)
                for e in self.energy_between(previous, sample)
            ),
        )

    def energy_between(self, before: Sample, after: Sample) -> tuple[Energy, ...]:
        """Energy per component ("cpu", "ram", then "gpu" when NVML is present) between two samples."""
        seconds = max(after.t - before.t, 0.0)
        if self.rapl and before.rapl_uj is not None and after.rapl_uj is not None:
            cpu = Energy("cpu", self.rapl.joules_between(before.rapl_uj, after.rapl_uj), rapl.METHOD)
        else:
            watts = estimate.cpu_power_watts(self.tdp.watts, _load_percent(before, after))
            cpu = Energy("cpu", watts * seconds, self.tdp.method)
        energies = [cpu, Energy("ram", self.ram.watts * seconds, self.ram.method)]
        if self.nvml:
            gpu_joules = nvml.joules_between(before.gpus, after.gpus, seconds)
            energies.append(Energy("gpu", gpu_joules, self.nvml.method))
        return tuple(energies)

    def close(self) -> None:
        """Release NVML, if it was opened."""
        if self.nvml:
            self.nvml.close()


def _load_percent(before: Sample, after: Sample) -> float:
    total = after.cpu_total_s - before.cpu_total_s
    if total <= 0:
        return 0.0
    return min(max(100.0 * (after.cpu_busy_s - before.cpu_busy_s) / total, 0.0), 100.0)
