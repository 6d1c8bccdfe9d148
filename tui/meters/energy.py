"""Per-answer energy accounting on top of the sampler.

    meter = EnergyMeter(sampler, config.energy)
    measurement = meter.start(lambda: engine.pid)  # just before the answer's request; its runner
    ...                                # measurement.live() while it streams (any thread)
    answer = measurement.finish(tokens)  # after the last token -> AnswerEnergy

start() and finish() read every counter at that instant, so even an answer shorter than one
sampling period is measured; the sampler's samples in between split the answer into short
intervals (the TDP model's cubic needs short intervals, and a RAPL counter may wrap only once
per interval) and feed live(). Call finish() for every measurement, also for a cancelled answer.
"""

from __future__ import annotations

import os
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tui.meters.answer import AnswerEnergy, ComponentEnergy
from tui.meters.sample import Energy, Sample
from tui.meters.sampler import Sampler

SHARED_COMPONENTS = ("cpu", "ram")
"""Components split by each answer's share of the machine's CPU time; the others (the GPU) are
divided equally among the answers being written (all of it to an answer written alone)."""


class EnergyFactors(Protocol):
    """What turns energy into CO2 and money (config.toml's [energy] table is one)."""

    @property
    def co2_g_per_kwh(self) -> float:
        """Grid carbon intensity."""
        ...

    @property
    def price_per_kwh(self) -> float:
        """What a kWh costs."""
        ...

    @property
    def currency(self) -> str:
        """The price's currency."""
        ...


@dataclass(frozen=True)
class NoFactors:
    """Factors for a meter given none: CO2 and cost come out as 0."""

    co2_g_per_kwh: float = 0.0
    price_per_kwh: float = 0.0
    currency: str = ""


@dataclass(frozen=True)
class LiveEnergy:
    """The energy of the answer being generated, as of the latest sample."""

    elapsed_s: float
    machine_j: float
    whirr_j: float
    """The answer's share of the machine's energy so far."""
    power_w: float | None
    """Machine power over the latest sampling interval."""


def idle_floor(samples: Iterable[Sample], before: float, window_s: float) -> dict[str, float] | None:
    """Median power per component over the samples in [before - window_s, before], or None if none."""
    recent = [s for s in samples if before - window_s <= s.t <= before and s.power]
    if not recent:
        return None
    names = {p.name for s in recent for p in s.power}
    return {
        name: statistics.median(p.watts for s in recent for p in s.power if p.name == name)
        for name in names
    }


def cpu_claims(before: Sample, after: Sample, claims: Sequence[Collection[int]]) -> list[float]:
    """The CPU seconds each answer used between two readings, `claims` naming the processes each
    answer uses: each process's CPU time in the interval is divided equally among the answers
    that use it (a process not read at `after` counts nothing; one not yet read at `before`
    started in between and counts all its time)."""
    users = Counter(pid for pids in claims for pid in set(pids))
    used = {}
    for pid in users:
        now = after.cpu_s_by_pid.get(pid)
        used[pid] = 0.0 if now is None else max(now - before.cpu_s_by_pid.get(pid, 0.0), 0.0)
    return [sum(used[pid] / users[pid] for pid in set(pids)) for pids in claims]


def cpu_shares(claimed: Sequence[float], busy_s: float) -> list[float]:
    """Each answer's share (0-1) of the machine's busy CPU time: its CPU seconds over the busy
    seconds. /proc/stat and the processes' times tick separately, so the claims may add up to a
    little more than the busy time: then they are scaled down to add up to 1."""
    whole = max(busy_s, sum(claimed))
    return [c / whole if whole > 0 else 0.0 for c in claimed]


class Measurement:
    """One answer being measured; made by EnergyMeter.start(), which also advances it."""

    def __init__(self, start: Sample, floor: dict[str, float] | None, pids: Callable[[], Iterable[int]],
                 finish: Callable[[Measurement, int], AnswerEnergy]) -> None:
        self._start = start
        self._floor = floor
        self._pids = pids
        self._seen: set[int] = set()
        self._finish = finish
        self.lock = threading.Lock()
        self._last = start
        self._joules: dict[str, float] = {}
        self._whirr: dict[str, float] = {}
        self._methods: dict[str, list[str]] = {}
        self._cpu_s = 0.0
        self._busy_s = 0.0
        self._power_w: float | None = None
        self._peak_rss = start.rss_bytes
        self._gpu_util: float | None = None
        self._vram: int | None = None
        self.finished = False
        self._observe(start)

    def claims(self) -> set[int]:
        """The processes this answer uses: this process, and its runner from when there is one
        (also after it ended: its last interval still counts)."""
        self._seen.update(self._pids())
        return self._seen

    def _observe(self, sample: Sample) -> None:
        self._peak_rss = max(self._peak_rss, sample.rss_bytes)
        for gpu in sample.gpus:
            if gpu.utilization_percent is not None:
                self._gpu_util = max(self._gpu_util or 0.0, gpu.utilization_percent)
        vram = [g.vram_used_bytes for g in sample.gpus if g.vram_used_bytes is not None]
        if vram:
            self._vram = max(self._vram or 0, sum(vram))

    def add(self, sample: Sample, energies: Iterable[Energy], cpu_s: float, busy_s: float, share: float,
            answers: int) -> None:
        """One interval up to `sample`: the machine's energy per component, the CPU seconds this
        answer used, the machine's busy seconds, this answer's share of them, and how many
        answers were being written (they divide the components that are not split by CPU time)."""
        with self.lock:
            for energy in energies:
                self._joules[energy.name] = self._joules.get(energy.name, 0.0) + energy.joules
                part = energy.joules * share if energy.name in SHARED_COMPONENTS else energy.joules / answers
                self._whirr[energy.name] = self._whirr.get(energy.name, 0.0) + part
                methods = self._methods.setdefault(energy.name, [])
                if energy.method not in methods:
                    methods.append(energy.method)
            self._cpu_s += cpu_s
            self._busy_s += busy_s
            self._observe(sample)
            self._power_w = sample.power_w if sample.power else self._power_w
            self._last = sample

    def live(self) -> LiveEnergy:
        """Energy so far (up to the latest reading); cheap, callable from any thread."""
        with self.lock:
            return LiveEnergy(
                elapsed_s=self._last.t - self._start.t,
                machine_j=sum(self._joules.values()),
                whirr_j=sum(self._whirr.values()),
                power_w=self._power_w,
            )

    def finish(self, tokens: int) -> AnswerEnergy:
        """End the measurement now: the answer's figures for `tokens` generated tokens."""
        return self._finish(self, tokens)

    def energy(self, tokens: int, factors: EnergyFactors) -> AnswerEnergy:
        """The answer's figures as measured so far."""
        with self.lock:
            if self._busy_s > 0:
                share = min(max(self._cpu_s / self._busy_s, 0.0), 1.0)
            else:
                share = 1.0 if self._cpu_s > 0 else 0.0
            components = tuple(
                ComponentEnergy(
                    name=name,
                    method=" + ".join(self._methods[name]),
                    machine_j=joules,
                    whirr_j=self._whirr[name],
                    idle_floor_w=None if self._floor is None else self._floor.get(name),
                )
                for name, joules in self._joules.items()
            )
            return AnswerEnergy(
                tokens=tokens,
                wall_s=self._last.t - self._start.t,
                cpu_s=self._cpu_s,
                cpu_share=share,
                components=components,
                co2_g_per_kwh=factors.co2_g_per_kwh,
                price_per_kwh=factors.price_per_kwh,
                currency=factors.currency,
                peak_rss_bytes=self._peak_rss,
                gpu_util_peak_percent=self._gpu_util,
                vram_peak_bytes=self._vram,
            )


class EnergyMeter:
    """Makes Measurements of answers from a Sampler's probe, with the user's CO2 and price factors.

    Every reading it takes (the sampler's, and one at each start() and finish()) ends an interval
    of every answer being measured, so answers written at the same time are split over the same
    intervals: in each, a process's CPU time goes to the answers that use it (`cpu_claims`),
    and the shares of the CPU and RAM energy never add up to more than the machine's busy time
    (`cpu_shares`); the GPU's energy is divided equally. Overlapping answers therefore never
    count the same joule twice. One meter per process (the app's, the CLI's, the server's).

    `settings.cpu_tdp_watts` is not read here: pass it to Probe.detect(), which owns the models.
    """

    def __init__(
        self, sampler: Sampler, settings: EnergyFactors | None = None, floor_window_s: float = 2.0
    ) -> None:
        self.sampler = sampler
        self.settings: EnergyFactors = settings if settings is not None else NoFactors()
        self.floor_window_s = floor_window_s
        self._lock = threading.Lock()
        self._active: list[Measurement] = []
        self._last: Sample | None = None

    def start(self, runner: Callable[[], int | None] | None = None) -> Measurement:
        """Begin measuring an answer now; the idle floor comes from the samples just before.
        `runner()` says which process writes the answer (a runner's pid; None while it has not
        started, and for answers written in this process or on another machine): its CPU time
        is the answer's, with a part of this process's."""
        own = os.getpid()

        def pids() -> Iterable[int]:
            pid = runner() if runner is not None else None
            return (own,) if pid is None else (own, pid)

        with self._lock:
            sample = self.sampler.probe.read()
            self._advance(sample)
            floor = idle_floor(self.sampler.history(), sample.t, self.floor_window_s)
            measurement = Measurement(sample, floor, pids, self._finish)
            if not self._active:
                self.sampler.add_listener(self._on_sample)
            self._active.append(measurement)
        return measurement

    def _finish(self, measurement: Measurement, tokens: int) -> AnswerEnergy:
        with self._lock:
            if measurement.finished:
                raise RuntimeError("this measurement is already finished")
            self._advance(self.sampler.probe.read())
            measurement.finished = True
            self._active.remove(measurement)
            if not self._active:
                self.sampler.remove_listener(self._on_sample)
        return measurement.energy(tokens, self.settings)

    def _on_sample(self, sample: Sample) -> None:
        with self._lock:
            self._advance(sample)

    def _advance(self, sample: Sample) -> None:
        """Close the interval since the last reading for every answer being measured (the lock
        is held; a sample older than the last reading is skipped: its interval joins the next)."""
        before = self._last
        if before is not None and sample.t <= before.t:
            return
        self._last = sample
        if before is None or not self._active:
            return
        energies = self.sampler.probe.energy_between(before, sample)
        busy_s = max(sample.cpu_busy_s - before.cpu_busy_s, 0.0)
        claimed = cpu_claims(before, sample, [m.claims() for m in self._active])
        shares = cpu_shares(claimed, busy_s)
        for measurement, cpu_s, share in zip(self._active, claimed, shares):
            measurement.add(sample, energies, cpu_s, busy_s, share, len(self._active))
