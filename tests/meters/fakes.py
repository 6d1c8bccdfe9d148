"""Stand-ins for the hardware CI lacks: a powercap sysfs tree and a pynvml-shaped module."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace


class FakePowercap:
    """A /sys/class/powercap-shaped tree in a temporary folder, with counters the test sets."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, folder: str, name: str, energy_uj: int | str, max_range_uj: int | str) -> Path:
        """Create one domain folder (e.g. "intel-rapl:0", name "package-0")."""
        path = self.root / folder
        path.mkdir()
        (path / "name").write_text(f"{name}\n")
        (path / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
        (path / "energy_uj").write_text(f"{energy_uj}\n")
        return path

    def set(self, folder: str, energy_uj: int) -> None:
        """Move a domain's counter to `energy_uj`, atomically as sysfs does (a sampler may be reading)."""
        path = self.root / folder / "energy_uj"
        tmp = path.with_name("energy_uj.tmp")
        tmp.write_text(f"{energy_uj}\n")
        os.replace(tmp, path)


class NVMLError(Exception):
    """pynvml's exception base class, as the stand-in raises it."""


@dataclass
class FakeGpu:
    """One GPU as the stand-in reports it."""

    name: str | bytes = "NVIDIA H100 80GB HBM3"
    utilization: int = 0
    vram_used: int = 1 << 30
    vram_total: int = 80 << 30
    power_mw: int = 75_000
    energy_mj: int | None = 1_000_000
    """None: the GPU has no energy counter (pre-Volta), the call raises NVMLError."""


@dataclass
class FakeNvml:
    """The pynvml functions whirr uses, over a list of FakeGpu; a stand-in module object."""

    gpus: list[FakeGpu] = field(default_factory=lambda: [FakeGpu()])
    init_error: bool = False
    initialised: bool = False
    NVMLError: type[Exception] = NVMLError

    def nvmlInit(self) -> None:
        if self.init_error:
            raise NVMLError("Driver Not Loaded")
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self.initialised = False

    def _gpu(self, handle: int) -> FakeGpu:
        if not self.initialised:
            raise NVMLError("Uninitialized")
        return self.gpus[handle]

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus) if self.initialised else 0

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        self._gpu(index)
        return index

    def nvmlDeviceGetName(self, handle: int) -> str | bytes:
        return self._gpu(handle).name

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=self._gpu(handle).utilization, memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        gpu = self._gpu(handle)
        return SimpleNamespace(total=gpu.vram_total, used=gpu.vram_used, free=gpu.vram_total - gpu.vram_used)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return self._gpu(handle).power_mw

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        energy = self._gpu(handle).energy_mj
        if energy is None:
            raise NVMLError("Not Supported")
        return energy
