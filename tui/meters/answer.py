"""What one answer cost, and totals over many answers; plain data that round-trips through JSON.

An answer's energy is counted twice: for the whole machine, and for the answer's share of it
(CPU and RAM energy times the share of the machine's busy CPU time that the answer's processes
used: its runner, and its part of the app's, CLI's or server's own process, which is shared
by the answers written at the same time; GPU energy is counted whole for an answer written
alone, as whirr is what drives the GPU, and divided among answers written at the same time).
Answers that overlap never count the same energy twice (tui.meters.energy). The headline figures
(J/token, Wh, CO2e, cost) use the answer's share: that is what the answer cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

JOULES_PER_KWH = 3.6e6


@dataclass(frozen=True)
class ComponentEnergy:
    """One component's energy ("cpu", "ram" or "gpu") during an answer."""

    name: str
    method: str
    """How the figure was obtained, e.g. "measured: RAPL" or "estimated: TDP model (...)"."""
    machine_j: float
    whirr_j: float
    idle_floor_w: float | None
    """The component's power just before the answer (median over the recent samples), if known."""


@dataclass(frozen=True)
class AnswerEnergy:
    """The cost of one answer: time, CPU, energy per component, and the factors for CO2e and cost."""

    tokens: int
    wall_s: float
    cpu_s: float
    """CPU time the answer used (all threads): its runner's, and its part of this process's."""
    cpu_share: float
    """The answer's share (0-1) of the machine's busy CPU time during the answer."""
    components: tuple[ComponentEnergy, ...]
    co2_g_per_kwh: float
    price_per_kwh: float
    currency: str
    peak_rss_bytes: int
    gpu_util_peak_percent: float | None = None
    vram_peak_bytes: int | None = None

    @property
    def machine_j(self) -> float:
        """Energy of the whole machine during the answer."""
        return sum(c.machine_j for c in self.components)

    @property
    def whirr_j(self) -> float:
        """whirr's share of it: the answer's energy."""
        return sum(c.whirr_j for c in self.components)

    @property
    def above_idle_j(self) -> float | None:
        """Machine energy above the idle floor measured just before the answer (None if no floor)."""
        total = 0.0
        for c in self.components:
            if c.idle_floor_w is None:
                return None
            total += max(c.machine_j - c.idle_floor_w * self.wall_s, 0.0)
        return total

    @property
    def j_per_token(self) -> float | None:
        """The answer's energy per generated token (None for an answer without tokens)."""
        return self.whirr_j / self.tokens if self.tokens else None

    @property
    def kwh(self) -> float:
        """The answer's energy in kWh."""
        return self.whirr_j / JOULES_PER_KWH

    @property
    def wh(self) -> float:
        """The answer's energy in Wh."""
        return self.kwh * 1000.0

    @property
    def co2_g(self) -> float:
        """Grams of CO2e: kWh times the carbon intensity."""
        return self.kwh * self.co2_g_per_kwh

    @property
    def cost(self) -> float:
        """Cost in `currency`: kWh times the price."""
        return self.kwh * self.price_per_kwh

    @property
    def method(self) -> str:
        """Every component's method on one line, e.g. "CPU measured: RAPL; RAM estimated: ..."."""
        return "; ".join(f"{c.name.upper()} {c.method}" for c in self.components)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the stored fields (derived figures are recomputed on load)."""
        return asdict(self)

    def stats_fields(self) -> dict[str, Any]:
        """What an answer's stored statistics gain: the headline figures as flat numbers (so a
        store can sum them per session) and the whole record under "energy"."""
        return {
            "energy_j": self.whirr_j,
            "machine_energy_j": self.machine_j,
            "co2_g": self.co2_g,
            "cost": self.cost,
            "energy": self.to_dict(),
        }

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> AnswerEnergy | None:
        """The energy record in an answer's stored statistics; None when there is none or it is
        not readable (an answer from before the meters, or a damaged record)."""
        record = stats.get("energy")
        if not isinstance(record, Mapping):
            return None
        try:
            return cls.from_dict(record)
        except ValueError:
            return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerEnergy:
        """Rebuild from `to_dict()`'s output; raises ValueError when fields are missing or unknown."""
        try:
            values = dict(data)
            values["components"] = tuple(ComponentEnergy(**c) for c in values["components"])
            return cls(**values)
        except (KeyError, TypeError) as error:
            raise ValueError(f"not an answer energy record: {error}") from error


def reported_energy(
    joules: float, method: str, server: str, tokens: int, wall_s: float,
    co2_g_per_kwh: float, price_per_kwh: float, currency: str,
) -> AnswerEnergy:
    """A remote answer's cost as its server reported it (`whirr serve` measures its own machine):
    one "remote" component whose method names the server and how it measured."""
    component = ComponentEnergy("remote", f"reported by {server}: {method}", joules, joules, None)
    return AnswerEnergy(tokens, wall_s, 0.0, 1.0, (component,), co2_g_per_kwh, price_per_kwh, currency, 0)


@dataclass(frozen=True)
class EnergyTotals:
    """Sums over answers (a session, or all time); costs are kept per currency."""

    answers: int = 0
    tokens: int = 0
    wall_s: float = 0.0
    machine_j: float = 0.0
    whirr_j: float = 0.0
    co2_g: float = 0.0
    costs: tuple[tuple[str, float], ...] = ()
    """(currency, amount) pairs, in the order the currencies first appeared."""

    @classmethod
    def of(cls, answers: Iterable[AnswerEnergy]) -> EnergyTotals:
        """The totals of `answers`."""
        totals = cls()
        for answer in answers:
            totals = totals.add(answer)
        return totals

    def add(self, answer: AnswerEnergy) -> EnergyTotals:
        """New totals including `answer`."""
        costs = dict(self.costs)
        costs[answer.currency] = costs.get(answer.currency, 0.0) + answer.cost
        return EnergyTotals(
            answers=self.answers + 1,
            tokens=self.tokens + answer.tokens,
            wall_s=self.wall_s + answer.wall_s,
            machine_j=self.machine_j + answer.machine_j,
            whirr_j=self.whirr_j + answer.whirr_j,
            co2_g=self.co2_g + answer.co2_g,
            costs=tuple(costs.items()),
        )

    @property
    def j_per_token(self) -> float | None:
        """whirr's energy per token over all the answers."""
        return self.whirr_j / self.tokens if self.tokens else None

    @property
    def wh(self) -> float:
        """whirr's energy in Wh."""
        return self.whirr_j / JOULES_PER_KWH * 1000.0
