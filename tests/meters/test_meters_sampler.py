"""The background sampler: its rate, its bounded history, listeners, and a clean stop."""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from tui.meters import Sample, Sampler


def test_sampler_runs_at_its_rate_and_stops() -> None:
    times: list[float] = []
    sampler = Sampler(hz=20, history=8)
    sampler.add_listener(lambda sample: times.append(sample.t))
    sampler.start()
    assert sampler.running
    time.sleep(1.0)
    sampler.stop()
    assert not sampler.running
    assert sampler.thread is None
    count = len(times)
    assert 15 <= count <= 22, f"{count} samples in 1 s at 20 Hz"
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    assert gaps[len(gaps) // 2] == pytest.approx(0.05, abs=0.01), "median interval is the period"
    time.sleep(0.15)
    assert len(times) == count, "no samples after stop()"
    assert len(sampler.history()) == 8, "history keeps the newest samples only"
    assert sampler.history()[-1] == sampler.latest


def test_samples_hold_the_machine_and_this_process() -> None:
    got = threading.Event()
    with Sampler(hz=20) as sampler:
        sampler.add_listener(lambda sample: got.set() if sample.power else None)
        assert got.wait(2.0)
    sample = sampler.latest
    assert isinstance(sample, Sample)
    assert len(sample.cpu_percent_per_core) == psutil.cpu_count()
    assert sample.cpu_percent is not None and 0.0 <= sample.cpu_percent <= 100.0
    assert sample.process_cpu_percent is not None and sample.process_cpu_percent >= 0.0
    assert 0 < sample.rss_bytes <= sample.ram_total_bytes
    assert 0.0 < sample.ram_percent < 100.0
    assert {p.name for p in sample.power} >= {"cpu", "ram"}
    assert sample.power_w == pytest.approx(sum(p.watts for p in sample.power))


def test_a_failing_listener_does_not_stop_sampling() -> None:
    calls: list[Sample] = []

    def broken(sample: Sample) -> None:
        raise RuntimeError("listener bug")

    sampler = Sampler(hz=20)
    sampler.add_listener(broken)
    sampler.add_listener(calls.append)
    with sampler:
        time.sleep(0.3)
        assert sampler.running
    assert len(calls) >= 3
    sampler.remove_listener(calls.append)
    sampler.remove_listener(calls.append)  # a second removal is harmless


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Sampler(hz=0)
    with pytest.raises(ValueError):
        Sampler(history=0)
