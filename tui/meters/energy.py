"""Per-answer energy accounting on top of the sampler.

    meter = EnergyMeter(sampler, config.energy)
    measurement = meter.start()        # just before the answer's request
    ...                                # measurement.live() while it streams (any thread)
    answer = measurement.finish(tokens)  # after the last token -> AnswerEnergy

start() and finish() read every counter at that instant, so even an answer shorter than one
sampling period is measured; the sampler's samples in between split the answer into short
intervals (the TDP model's cubic needs short intervals, and a RAPL counter may wrap only once
per interval) and feed live(). Call finish() for every measurement, also for a cancelled answer.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from tui.meters.answer import AnswerEnergy, ComponentEnergy
from tui.meters.sample import Sample
from tui.meters.sampler import Sampler

SHARED_COMPONENTS = ("cpu", "ram")
"""Components split by whirr's share of CPU time; others (the GPU) are counted whole."""


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


def _cpu_share(start: Sample, end: Sample) -> float:
    busy = end.cpu_busy_s - start.cpu_busy_s
    used = end.process_cpu_s - start.process_cpu_s
    if busy <= 0:
        return 1.0 if used > 0 else 0.0
    # /proc/stat and the process's times tick separately, so the ratio can overshoot a little.
    return min(max(used / busy, 0.0), 1.0)


class Measurement:
    """One answer being measured; made by EnergyMeter.start()."""

    def __init__(self, meter: EnergyMeter, start: Sample, floor: dict[str, float] | None) -> None:
        self._meter = meter
        self._start = start
        self._floor = floor
        self._lock = threading.Lock()
        self._last = start
        self._joules: dict[str, float] = {}
        self._methods: dict[str, list[str]] = {}
        self._power_w: float | None = None
        self._peak_rss = start.rss_bytes
        self._gpu_util: float | None = None
        self._vram: int | None = None
        self._finished = False
        self._observe(start)
        meter.sampler.add_listener(self._on_sample)

    def _observe(self, sample: Sample) -> None:
        self._peak_rss = max(self._peak_rss, sample.rss_bytes)
        for gpu in sample.gpus:
            if gpu.utilization_percent is not None:
                self._gpu_util = max(self._gpu_util or 0.0, gpu.utilization_percent)
        vram = [g.vram_used_bytes for g in sample.gpus if g.vram_used_bytes is not None]
        if vram:
            self._vram = max(self._vram or 0, sum(vram))

    def _advance(self, sample: Sample) -> None:
        # Called with the lock held.
        for energy in self._meter.sampler.probe.energy_between(self._last, sample):
            self._joules[energy.name] = self._joules.get(energy.name, 0.0) + energy.joules
            methods = self._methods.setdefault(energy.name, [])
            if energy.method not in methods:
                methods.append(energy.method)
        self._observe(sample)
        self._power_w = sample.power_w if sample.power else self._power_w
        self._last = sample

    def _on_sample(self, sample: Sample) -> None:
        with self._lock:
            if not self._finished and sample.t > self._last.t:
                self._advance(sample)

    def _whirr_j(self, share: float) -> float:
        return sum(j * share if n in SHARED_COMPONENTS else j for n, j in self._joules.items())

    def live(self) -> LiveEnergy:
        """Energy so far (up to the latest sample); cheap, callable from any thread."""
        with self._lock:
            share = _cpu_share(self._start, self._last)
            return LiveEnergy(
                elapsed_s=self._last.t - self._start.t,
                machine_j=sum(self._joules.values()),
                whirr_j=self._whirr_j(share),
                power_w=self._power_w,
            )

    def finish(self, tokens: int) -> AnswerEnergy:
        """End the measurement now: the answer's figures for `tokens` generated tokens."""
        self._meter.sampler.remove_listener(self._on_sample)
        with self._lock:
            if self._finished:
                raise RuntimeError("this measurement is already finished")
            self._finished = True
            self._advance(self._meter.sampler.probe.read())
            share = _cpu_share(self._start, self._last)
            components = tuple(
                ComponentEnergy(
                    name=name,
                    method=" + ".join(self._methods[name]),
                    machine_j=joules,
                    whirr_j=joules * share if name in SHARED_COMPONENTS else joules,
                    idle_floor_w=None if self._floor is None else self._floor.get(name),
                )
                for name, joules in self._joules.items()
            )
        settings = self._meter.settings
        return AnswerEnergy(
            tokens=tokens,
            wall_s=self._last.t - self._start.t,
            cpu_s=self._last.process_cpu_s - self._start.process_cpu_s,
            cpu_share=share,
            components=components,
            co2_g_per_kwh=settings.co2_g_per_kwh,
            price_per_kwh=settings.price_per_kwh,
            currency=settings.currency,
            peak_rss_bytes=self._peak_rss,
            gpu_util_peak_percent=self._gpu_util,
            vram_peak_bytes=self._vram,
        )


class EnergyMeter:
    """Makes Measurements of answers from a Sampler's probe, with the user's CO2 and price factors.

    `settings.cpu_tdp_watts` is not read here: pass it to Probe.detect(), which owns the models.
    """

    def __init__(
        self, sampler: Sampler, settings: EnergyFactors | None = None, floor_window_s: float = 2.0
    ) -> None:
        self.sampler = sampler
        self.settings: EnergyFactors = settings if settings is not None else NoFactors()
        self.floor_window_s = floor_window_s

    def start(self) -> Measurement:
        """Begin measuring an answer now; the idle floor comes from the samples just before."""
        start = self.sampler.probe.read()
        floor = idle_floor(self.sampler.history(), start.t, self.floor_window_s)
        return Measurement(self, start, floor)
