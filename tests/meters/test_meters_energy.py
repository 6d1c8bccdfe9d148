"""Per-answer accounting around a real short answer from the starter model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tui.config import EnergySettings
from tui.meters import AnswerEnergy, ComponentPower, EnergyMeter, EnergyTotals, LiveEnergy, Probe, Sample, Sampler
from tui.meters.energy import idle_floor

SETTINGS = EnergySettings(co2_g_per_kwh=100.0, price_per_kwh=0.5, currency="USD", cpu_tdp_watts=65.0)


@pytest.fixture(scope="module")
def llm(starter_path: Path) -> Any:
    import llama_cpp

    from tui.engine.llama_runtime import machine_safe_defaults

    with machine_safe_defaults():
        return llama_cpp.Llama(str(starter_path), n_ctx=512, seed=1234, verbose=False)


@pytest.fixture
def sampler(tmp_path: Path) -> Iterator[Sampler]:
    """A running sampler on this machine's psutil figures, RAPL forced absent, TDP from config."""
    probe = Probe.detect(cpu_tdp_watts=SETTINGS.cpu_tdp_watts, powercap_root=tmp_path / "no-rapl")
    with Sampler(probe, hz=10) as running:
        ready = threading.Event()
        running.add_listener(lambda sample: ready.set() if sample.power else None)
        assert ready.wait(2.0), "the sampler should have an interval sample for the idle floor"
        yield running
    probe.close()


def _answer(llm: Any, meter: EnergyMeter) -> tuple[AnswerEnergy, list[LiveEnergy]]:
    """16 greedy tokens from the starter model, measured, with the live figure after each token."""
    prompt = llm.tokenize(b"The capital of France is")
    measurement = meter.start()
    lives = []
    for tokens, _token in enumerate(llm.generate(prompt, temp=0.0), start=1):
        lives.append(measurement.live())
        if tokens == 16:
            break
    return measurement.finish(tokens), lives


@pytest.mark.model
def test_energy_of_a_real_answer(llm: Any, sampler: Sampler) -> None:
    meter = EnergyMeter(sampler, SETTINGS)
    answer, lives = _answer(llm, meter)

    assert answer.tokens == 16
    assert answer.wall_s > 0 and answer.cpu_s > 0
    assert 0 < answer.cpu_share <= 1
    assert [c.name for c in answer.components] == ["cpu", "ram"]
    cpu, ram = answer.components
    assert cpu.method == "estimated: TDP model (TDP 65 W from config)"
    assert ram.method == sampler.probe.ram.method
    # The model's bounds: between 10% and 100% of the TDP, and the RAM estimate's constant power.
    assert 6.5 * answer.wall_s <= cpu.machine_j <= 65.0 * answer.wall_s + 1e-9
    assert ram.machine_j == pytest.approx(sampler.probe.ram.watts * answer.wall_s)
    for component in answer.components:  # each interval's energy times the answer's share in it
        assert 0 < component.whirr_j <= component.machine_j + 1e-9
        assert component.idle_floor_w is not None and component.idle_floor_w > 0
    assert 0 < answer.whirr_j <= answer.machine_j
    assert answer.above_idle_j is not None and 0 <= answer.above_idle_j <= answer.machine_j

    assert answer.j_per_token == pytest.approx(answer.whirr_j / 16)
    assert answer.wh == pytest.approx(answer.whirr_j / 3600)
    assert answer.co2_g == pytest.approx(answer.whirr_j / 3.6e6 * 100.0)
    assert answer.cost == pytest.approx(answer.whirr_j / 3.6e6 * 0.5)
    assert answer.currency == "USD"
    assert answer.method == f"CPU {cpu.method}; RAM {ram.method}"
    assert answer.peak_rss_bytes > 50 * 1024**2, "the loaded model is in whirr's memory"
    assert answer.gpu_util_peak_percent is None and answer.vram_peak_bytes is None

    machine_so_far = [live.machine_j for live in lives]
    assert machine_so_far == sorted(machine_so_far), "the live figure only grows"
    assert machine_so_far[-1] <= answer.machine_j
    assert all(live.elapsed_s <= answer.wall_s for live in lives)

    stored = json.loads(json.dumps(answer.to_dict()))
    assert AnswerEnergy.from_dict(stored) == answer


@pytest.mark.model
def test_totals_over_answers(llm: Any, sampler: Sampler) -> None:
    first, _ = _answer(llm, EnergyMeter(sampler, SETTINGS))
    second, _ = _answer(llm, EnergyMeter(sampler, EnergySettings(currency="EUR")))
    totals = EnergyTotals.of([first, second])
    assert (totals.answers, totals.tokens) == (2, 32)
    assert totals.whirr_j == pytest.approx(first.whirr_j + second.whirr_j)
    assert totals.machine_j == pytest.approx(first.machine_j + second.machine_j)
    assert totals.co2_g == pytest.approx(first.co2_g + second.co2_g)
    assert totals.costs == (("USD", first.cost), ("EUR", second.cost))
    assert totals.j_per_token == pytest.approx(totals.whirr_j / 32)
    assert EnergyTotals().add(first) == EnergyTotals.of([first])


def test_finish_twice_is_an_error(sampler: Sampler) -> None:
    measurement = EnergyMeter(sampler).start()
    measurement.finish(0)
    with pytest.raises(RuntimeError):
        measurement.finish(0)


def test_from_dict_refuses_other_records() -> None:
    with pytest.raises(ValueError):
        AnswerEnergy.from_dict({"tokens": 3})


def _sample(t: float, cpu_w: float, ram_w: float = 20.0) -> Sample:
    return Sample(t=t, cpu_busy_s=0.0, cpu_total_s=0.0, process_cpu_s=0.0, rss_bytes=1, ram_used_bytes=1,
                  ram_total_bytes=2, rapl_uj=None, gpus=(),
                  power=(ComponentPower("cpu", cpu_w, "m"), ComponentPower("ram", ram_w, "m")))


def test_idle_floor_is_the_median_of_the_recent_samples() -> None:
    samples = [_sample(1.0, 99.0), _sample(8.5, 3.0), _sample(9.0, 50.0), _sample(9.5, 2.0), _sample(11.0, 99.0)]
    assert idle_floor(samples, before=10.0, window_s=2.0) == {"cpu": 3.0, "ram": 20.0}
    assert idle_floor(samples, before=5.0, window_s=2.0) is None
