"""Live meters and the energy cost of every answer (no Textual here).

    probe = Probe.detect(config.energy.cpu_tdp_watts)   # psutil, plus RAPL / NVML when readable
    sampler = Sampler(probe, hz=4); sampler.start()      # sampler.latest, sampler.history()
    meter = EnergyMeter(sampler, config.energy)
    measurement = meter.start(); ...; answer = measurement.finish(tokens)

Every energy figure carries its method ("measured: RAPL", "measured: NVML",
"estimated: TDP model (...)"); the estimates are in `estimate.py`.
"""

from tui.meters.answer import AnswerEnergy, ComponentEnergy, EnergyTotals, reported_energy
from tui.meters.energy import EnergyMeter, LiveEnergy, Measurement
from tui.meters.nvml import GpuReading
from tui.meters.probe import Probe
from tui.meters.sample import ComponentPower, Sample
from tui.meters.sampler import Sampler

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
