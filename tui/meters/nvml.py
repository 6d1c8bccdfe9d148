"""NVIDIA GPUs through NVML (nvidia-ml-py's `pynvml`, an optional extra).

Per GPU: utilisation, VRAM used/total, board power (mW) and the total energy counter (mJ,
monotonic since the driver loaded; Volta and newer). Energy between two readings is the counter's
difference; on GPUs without the counter it is the mean of the two power readings times the time.
Without pynvml, or when NVML cannot start (no driver, no GPU), there is no NVML source.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

METHOD = "measured: NVML"
METHOD_POWER = "measured: NVML power samples"


@dataclass(frozen=True)
class GpuReading:
    """One GPU at one moment; a field is None when the GPU does not report it."""

    index: int
    name: str
    utilization_percent: float | None
    vram_used_bytes: int | None
    vram_total_bytes: int | None
    power_w: float | None
    energy_mj: int | None


class NvmlSource:
    """The GPUs NVML can see, read through the `pynvml` module given (or imported)."""

    def __init__(self, nvml: Any, handles: tuple[Any, ...], names: tuple[str, ...]) -> None:
        self._nvml = nvml
        self._handles = handles
        self._names = names
        self.has_energy_counter = all(
            self._call("nvmlDeviceGetTotalEnergyConsumption", h) is not None for h in handles
        )

    @classmethod
    def open(cls, module: ModuleType | Any | None = None) -> NvmlSource | None:
        """Start NVML and list the GPUs; None when pynvml is missing, NVML fails, or no GPU is found.

        `module` stands in for `pynvml` (tests inject one); by default pynvml is imported.
        """
        if module is None:
            try:
                module = importlib.import_module("pynvml")
            except ImportError:
                return None
        try:
            module.nvmlInit()
        except Exception:  # NVMLError subclasses, or OSError when libnvidia-ml is missing
            return None
        try:
            handles = tuple(module.nvmlDeviceGetHandleByIndex(i) for i in range(module.nvmlDeviceGetCount()))
            names = tuple(_text(module.nvmlDeviceGetName(h)) for h in handles)
        except module.NVMLError:
            handles = ()
        if not handles:
            module.nvmlShutdown()
            return None
        return cls(module, handles, names)

    @property
    def method(self) -> str:
        """How GPU energy is obtained: the energy counter, or integrated power readings."""
        return METHOD if self.has_energy_counter else METHOD_POWER

    def _call(self, function: str, handle: Any) -> Any:
        try:
            return getattr(self._nvml, function)(handle)
        except self._nvml.NVMLError:
            return None

    def read(self) -> tuple[GpuReading, ...]:
        """A reading of every GPU; fields a GPU cannot report right now are None."""
        readings = []
        for index, (handle, name) in enumerate(zip(self._handles, self._names)):
            rates = self._call("nvmlDeviceGetUtilizationRates", handle)
            memory = self._call("nvmlDeviceGetMemoryInfo", handle)
            power_mw = self._call("nvmlDeviceGetPowerUsage", handle)
            energy = (
                self._call("nvmlDeviceGetTotalEnergyConsumption", handle) if self.has_energy_counter else None
            )
            readings.append(GpuReading(
                index=index,
                name=name,
                utilization_percent=None if rates is None else float(rates.gpu),
                vram_used_bytes=None if memory is None else int(memory.used),
                vram_total_bytes=None if memory is None else int(memory.total),
                power_w=None if power_mw is None else power_mw / 1000.0,
                energy_mj=None if energy is None else int(energy),
            ))
        return tuple(readings)

    def close(self) -> None:
        """Shut NVML down (readings are not possible afterwards)."""
        try:
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError:
            pass


def joules_between(before: tuple[GpuReading, ...], after: tuple[GpuReading, ...], seconds: float) -> float:
    """Energy of all GPUs between two readings: counter differences, else mean power times time."""
    total = 0.0
    for b, a in zip(before, after):
        if b.energy_mj is not None and a.energy_mj is not None:
            total += max(a.energy_mj - b.energy_mj, 0) / 1000.0
        elif b.power_w is not None and a.power_w is not None:
            total += (a.power_w + b.power_w) / 2.0 * seconds
    return total


def _text(name: str | bytes) -> str:
    # nvidia-ml-py returned bytes before 11.5 and str since.
    return name.decode() if isinstance(name, bytes) else name
