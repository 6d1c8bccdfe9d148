"""Power estimates for when nothing can be measured (CodeCarbon's models).

CPU: CodeCarbon's `cpu_load` model, P = TDP * (0.1 + 0.9 * (load/100)^3), with the TDP taken
from the user's config or, when unknown, 4 W per hardware thread.
RAM: CodeCarbon's v3 heuristic, a fixed power per estimated DIMM (5 W on x86, 1.5 W on ARM)
with a floor of 10 W on x86 and 3 W on ARM; flat per DIMM as our reference states it
(CodeCarbon itself tapers the per-DIMM figure above four DIMMs).
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass

WATTS_PER_THREAD = 4.0
RAM_WATTS_PER_DIMM_X86 = 5.0
RAM_WATTS_PER_DIMM_ARM = 1.5
RAM_MIN_WATTS_X86 = 10.0
RAM_MIN_WATTS_ARM = 3.0
_GIB = 1024**3


@dataclass(frozen=True)
class CpuTdp:
    """The CPU's thermal design power and where the number came from."""

    watts: float
    source: str

    @property
    def method(self) -> str:
        """The method string shown next to every figure estimated from this TDP."""
        return f"estimated: TDP model ({self.source})"


def cpu_tdp(configured_watts: float, threads: int) -> CpuTdp:
    """The TDP to use: the configured value when positive, else 4 W per hardware thread."""
    if configured_watts > 0:
        return CpuTdp(configured_watts, f"TDP {configured_watts:g} W from config")
    return CpuTdp(WATTS_PER_THREAD * max(threads, 1), f"{WATTS_PER_THREAD:g} W/thread default")


def cpu_power_watts(tdp_watts: float, load_percent: float) -> float:
    """CodeCarbon's cpu_load model: power at a machine CPU load given in percent (0-100)."""
    load = min(max(load_percent, 0.0), 100.0) / 100.0
    return tdp_watts * (0.1 + 0.9 * load**3)


def dimm_count(total_bytes: int) -> int:
    """How many DIMMs a machine with this much RAM most likely has (CodeCarbon's heuristic)."""
    gib = total_bytes / _GIB
    if gib <= 2:
        return 1
    if gib <= 16:
        return 2
    if gib <= 64:
        return 4
    if gib <= 128:
        return 8
    # Large servers: the biggest common DIMM size that still gives at least 8 slots, at most 32.
    size = next(s for s in (128, 64, 32, 16) if s <= gib / 8)
    return min(math.ceil(gib / size), 32)


@dataclass(frozen=True)
class RamPower:
    """Estimated RAM power and how it was estimated."""

    watts: float
    dimms: int
    per_dimm_watts: float

    @property
    def method(self) -> str:
        """The method string shown next to RAM energy."""
        return f"estimated: {self.per_dimm_watts:g} W/DIMM ({self.dimms} DIMMs)"


def ram_power(total_bytes: int, machine: str | None = None) -> RamPower:
    """Estimated RAM power for a machine with `total_bytes` of RAM (architecture from `machine`)."""
    arch = (machine if machine is not None else platform.machine()).lower()
    arm = arch.startswith(("arm", "aarch"))
    per_dimm = RAM_WATTS_PER_DIMM_ARM if arm else RAM_WATTS_PER_DIMM_X86
    floor = RAM_MIN_WATTS_ARM if arm else RAM_MIN_WATTS_X86
    dimms = dimm_count(total_bytes)
    return RamPower(max(per_dimm * dimms, floor), dimms, per_dimm)
