"""The background sampler: its rate, its bounded history, listeners, and a clean stop."""

from __future__ import annotations

import threading

import psutil
import pytest

from tui.meters import Sample, Sampler


class SteppedClock:
    """The sampler's clock and its waits, stepped by the test: each wait returns at once and
    moves the time on by what it asked, `steps` times; then waits block until the sampler stops.
    `stall_at` (a step) adds `stall` seconds to that step, as a suspended machine would."""

    def __init__(self, steps: int, stall_at: int = -1, stall: float = 0.0) -> None:
        self.now = 100.0
        self.waits: list[float] = []
        self.steps, self.stall_at, self.stall = steps, stall_at, stall
        self.done = threading.Event()

    def clock(self) -> float:
        return self.now

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        if len(self.waits) >= self.steps:
            self.done.set()
            return stop.wait(10)
        self.waits.append(seconds)
        self.now += seconds + (self.stall if len(self.waits) == self.stall_at else 0.0)
        return stop.is_set()


def stepped(clock: SteppedClock, **kwargs: object) -> Sampler:
    return Sampler(hz=20, clock=clock.clock, wait=clock.wait, **kwargs)  # type: ignore[arg-type]


def test_sampler_runs_at_its_rate_and_stops() -> None:
    clock = SteppedClock(steps=19)
    times: list[float] = []
    sampler = stepped(clock, history=8)
    sampler.add_listener(lambda sample: times.append(sample.t))
    sampler.start()
    assert sampler.running
    assert clock.done.wait(10), "the sampler took its steps"
    sampler.stop()
    assert not sampler.running
    assert sampler.thread is None
    count = len(times)
    assert count == 20, "one sample at start, then one per period"
    assert clock.waits == [pytest.approx(0.05)] * 19, "it waits one period between samples"
    assert len(times) == count, "no samples after stop()"
    assert len(sampler.history()) == 8, "history keeps the newest samples only"
    assert sampler.history()[-1] == sampler.latest


def test_after_a_stall_the_schedule_restarts_instead_of_bursting() -> None:
    clock = SteppedClock(steps=6, stall_at=3, stall=1.0)
    sampler = stepped(clock)
    with sampler:
        assert clock.done.wait(10)
    assert clock.waits[:3] == [pytest.approx(0.05)] * 3
    assert clock.waits[3:] == [pytest.approx(0.05)] * 3, "a full period after the stall, not 20 samples at once"


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

    clock = SteppedClock(steps=3)
    sampler = stepped(clock)
    sampler.add_listener(broken)
    sampler.add_listener(calls.append)
    with sampler:
        assert clock.done.wait(10)
        assert sampler.running
    assert len(calls) == 4
    sampler.remove_listener(calls.append)
    sampler.remove_listener(calls.append)  # a second removal is harmless


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Sampler(hz=0)
    with pytest.raises(ValueError):
        Sampler(history=0)
