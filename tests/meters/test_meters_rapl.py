"""RAPL package counters from a fake powercap tree, including counter wraps."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.meters.fakes import FakePowercap
from tui.meters import EnergyMeter, Probe, Sampler
from tui.meters.rapl import METHOD, RaplSource, counter_delta

RANGE = 262_143_328_850  # a real max_energy_range_uj


def test_counter_delta_with_and_without_wrap() -> None:
    assert counter_delta(100, 350, 1000) == 250
    assert counter_delta(900, 150, 1000) == 250
    assert counter_delta(500, 500, 1000) == 0


def test_only_readable_package_domains_are_used(powercap: FakePowercap) -> None:
    powercap.add("intel-rapl:0", "package-0", 5_000_000, RANGE)
    powercap.add("intel-rapl:0:0", "core", 4_000_000, RANGE)  # part of package 0
    powercap.add("intel-rapl:1", "package-1", 7_000_000, RANGE)
    powercap.add("intel-rapl-mmio:0", "package-0", 5_000_000, RANGE)  # same package again
    powercap.add("intel-rapl:2", "package-2", "permission denied?", RANGE)
    source = RaplSource.open(powercap.root)
    assert source is not None
    assert [d.name for d in source.domains] == ["package-0", "package-1"]
    assert source.read() == (5_000_000, 7_000_000)


def test_absent_or_unreadable_rapl_is_no_source(powercap: FakePowercap, tmp_path: Path) -> None:
    assert RaplSource.open(tmp_path / "no-such-folder") is None
    assert RaplSource.open(powercap.root) is None
    powercap.add("intel-rapl:0", "package-0", "", RANGE)
    assert RaplSource.open(powercap.root) is None
    probe = Probe.detect(powercap_root=powercap.root)
    assert probe.rapl is None
    assert probe.cpu_method.startswith("estimated: TDP model")


def test_joules_between_counts_a_wrap_per_package(powercap: FakePowercap) -> None:
    powercap.add("intel-rapl:0", "package-0", RANGE - 1_000_000, RANGE)
    powercap.add("intel-rapl:1", "package-1", 10_000_000, RANGE)
    source = RaplSource.open(powercap.root)
    assert source is not None
    before = source.read()
    powercap.set("intel-rapl:0", 2_500_000)  # wrapped: 1 J before the wrap, 2.5 J after
    powercap.set("intel-rapl:1", 14_000_000)
    after = source.read()
    assert before is not None and after is not None
    assert source.joules_between(before, after) == pytest.approx(3.5 + 4.0)


def test_a_read_failure_after_open_is_none(powercap: FakePowercap) -> None:
    path = powercap.add("intel-rapl:0", "package-0", 1, RANGE)
    source = RaplSource.open(powercap.root)
    assert source is not None
    (path / "energy_uj").unlink()
    assert source.read() is None


def test_answer_cpu_energy_is_measured_across_a_wrap(powercap: FakePowercap) -> None:
    powercap.add("intel-rapl:0", "package-0", RANGE - 3_000_000, RANGE)
    probe = Probe.detect(powercap_root=powercap.root)
    assert probe.cpu_method == METHOD
    meter = EnergyMeter(Sampler(probe))  # not started: start() and finish() read the counters
    measurement = meter.start()
    powercap.set("intel-rapl:0", 9_000_000)
    answer = measurement.finish(tokens=4)
    cpu = next(c for c in answer.components if c.name == "cpu")
    assert cpu.method == "measured: RAPL"
    assert cpu.machine_j == pytest.approx(12.0)
    assert answer.method.startswith("CPU measured: RAPL; RAM estimated: ")


def test_samples_in_between_catch_several_wraps(powercap: FakePowercap) -> None:
    """A long answer may wrap a counter more than once: the samples between split it up."""
    small_range = 1_000_000_000
    powercap.add("intel-rapl:0", "package-0", 900_000_000, small_range)
    sampler = Sampler(Probe.detect(powercap_root=powercap.root), hz=50)
    meter = EnergyMeter(sampler)
    with sampler:
        measurement = meter.start()
        for value in (300_000_000, 700_000_000, 100_000_000, 500_000_000):  # +400 J each, 2 wraps
            powercap.set("intel-rapl:0", value)
            written = time.monotonic()
            while (latest := sampler.latest) is None or latest.t <= written:
                time.sleep(0.002)
        answer = measurement.finish(tokens=1)
    cpu = next(c for c in answer.components if c.name == "cpu")
    assert cpu.machine_j == pytest.approx(1600.0)  # start/finish alone would see 600 J
    assert cpu.method == "measured: RAPL"
