"""Live meters and the energy cost of every answer (no Textual here).

    probe = Probe.detect(config.energy.cpu_tdp_watts)   # psutil, plus RAPL / NVML when readable
    sampler = Sampler(probe, hz=4); sampler.start()      # sampler.latest, sampler.history()
    meter = EnergyMeter(sampler, config.energy)
    measurement = meter.start(lambda: engine.pid); ...; answer = measurement.finish(tokens)

Every energy figure carries its method ("measured: RAPL", "measured: NVML",
"estimated: TDP model (...)"); the estimates are in `estimate.py`.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.meters.answer import AnswerEnergy, ComponentEnergy, EnergyTotals, reported_energy
    from tui.meters.energy import EnergyMeter, LiveEnergy, Measurement
    from tui.meters.nvml import GpuReading
    from tui.meters.probe import Probe
    from tui.meters.sample import ComponentPower, Sample
    from tui.meters.sampler import Sampler

_HOMES = {
    "AnswerEnergy": "answer", "ComponentEnergy": "answer", "EnergyTotals": "answer", "reported_energy": "answer",
    "EnergyMeter": "energy", "LiveEnergy": "energy", "Measurement": "energy", "GpuReading": "nvml",
    "Probe": "probe", "ComponentPower": "sample", "Sample": "sample", "Sampler": "sampler",
}


def __getattr__(name: str) -> Any:
    """Each name is imported from its module on first use: the app's first frame needs the
    answers' records but not the sampler, the probes or psutil (they start after it)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tui.meters' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tui.meters.{home}"), name)


__all__ = [
    "AnswerEnergy",
    "ComponentEnergy",
    "ComponentPower",
    "EnergyMeter",
    "EnergyTotals",
    "GpuReading",
    "LiveEnergy",
    "Measurement",
    "Probe",
    "Sample",
    "Sampler",
    "reported_energy",
]
