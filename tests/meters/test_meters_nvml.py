"""NVML through a stand-in for the pynvml functions whirr calls (CI has no GPU)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.meters.fakes import FakeGpu, FakeNvml
from tui.meters import EnergyMeter, Probe, Sampler
from tui.meters.nvml import METHOD, METHOD_POWER, NvmlSource


def test_readings_of_every_gpu(fake_nvml: FakeNvml) -> None:
    fake_nvml.gpus.append(FakeGpu(name=b"Tesla P100", utilization=40, vram_used=3 << 30,
                                  vram_total=16 << 30, power_mw=120_500, energy_mj=7))
    source = NvmlSource.open(fake_nvml)
    assert source is not None
    first, second = source.read()
    assert (first.index, first.name, first.utilization_percent) == (0, "NVIDIA H100 80GB HBM3", 0.0)
    assert (first.vram_used_bytes, first.vram_total_bytes) == (1 << 30, 80 << 30)
    assert (first.power_w, first.energy_mj) == (75.0, 1_000_000)
    assert second.name == "Tesla P100"  # old pynvml returns bytes
    assert (second.utilization_percent, second.power_w, second.energy_mj) == (40.0, 120.5, 7)
    assert source.method == METHOD
    source.close()
    assert not fake_nvml.initialised


def test_no_source_without_nvml(fake_nvml: FakeNvml) -> None:
    fake_nvml.init_error = True
    assert NvmlSource.open(fake_nvml) is None
    no_gpus = FakeNvml(gpus=[])
    assert NvmlSource.open(no_gpus) is None
    assert not no_gpus.initialised, "NVML is shut down again when there is nothing to read"


@pytest.mark.skipif(importlib.util.find_spec("pynvml") is not None, reason="pynvml is installed here")
def test_no_source_without_pynvml() -> None:
    assert NvmlSource.open() is None


def test_answer_gpu_energy_from_the_energy_counter(fake_nvml: FakeNvml, tmp_path: Path) -> None:
    probe = Probe.detect(powercap_root=tmp_path / "no-rapl", nvml_module=fake_nvml)
    meter = EnergyMeter(Sampler(probe))
    measurement = meter.start()
    gpu = fake_nvml.gpus[0]
    gpu.energy_mj = 1_000_000 + 3_520  # 3.52 J after the default counter: 16 tokens at 0.22 J/token
    gpu.utilization, gpu.vram_used = 97, 2 << 30
    answer = measurement.finish(tokens=16)
    component = next(c for c in answer.components if c.name == "gpu")
    assert component.method == "measured: NVML"
    assert component.machine_j == pytest.approx(3.52)
    assert component.whirr_j == component.machine_j, "the GPU's energy is counted whole for whirr"
    assert answer.gpu_util_peak_percent == 97.0
    assert answer.vram_peak_bytes == 2 << 30
    assert "GPU measured: NVML" in answer.method


def test_gpus_without_energy_counter_integrate_power(fake_nvml: FakeNvml, tmp_path: Path) -> None:
    fake_nvml.gpus[0].energy_mj = None
    probe = Probe.detect(powercap_root=tmp_path / "no-rapl", nvml_module=fake_nvml)
    assert probe.nvml is not None and probe.nvml.method == METHOD_POWER
    before = probe.read()
    fake_nvml.gpus[0].power_mw = 125_000
    after = probe.read(before)
    seconds = after.t - before.t
    gpu = next(e for e in probe.energy_between(before, after) if e.name == "gpu")
    assert gpu.joules == pytest.approx((75.0 + 125.0) / 2 * seconds)
    assert gpu.method == "measured: NVML power samples"
    assert next(p for p in after.power if p.name == "gpu").watts == pytest.approx(100.0)


def test_a_failing_query_is_a_missing_field(fake_nvml: FakeNvml) -> None:
    source = NvmlSource.open(fake_nvml)
    assert source is not None
    fake_nvml.initialised = False  # every query now raises NVMLError
    (reading,) = source.read()
    assert (reading.utilization_percent, reading.vram_used_bytes, reading.power_w, reading.energy_mj) == (
        None, None, None, None)
