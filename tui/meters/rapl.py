"""CPU package energy from Linux RAPL counters (powercap sysfs).

Each package domain `intel-rapl:N` (AMD exposes the same interface on recent kernels) has a
monotonic `energy_uj` counter that wraps at `max_energy_range_uj`. Sub-domains
(`intel-rapl:N:M`, cores/uncore/dram) are parts of a package and are not added again, and the
`intel-rapl-mmio` duplicates of the package are skipped for the same reason.
The counters are often root-only or absent (VMs); then there is simply no RAPL source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")
METHOD = "measured: RAPL"
_PACKAGE = re.compile(r"intel-rapl:\d+")


@dataclass(frozen=True)
class RaplDomain:
    """One package domain: its folder, its name (`package-0`) and its counter's wrap range."""

    path: Path
    name: str
    max_range_uj: int

    def read_uj(self) -> int:
        """The current counter value in microjoules (raises OSError or ValueError)."""
        return int((self.path / "energy_uj").read_text())


def counter_delta(before: int, after: int, max_range: int) -> int:
    """The increase of a counter that wraps to zero at `max_range` (at most one wrap assumed)."""
    delta = after - before
    return delta + max_range if delta < 0 else delta


class RaplSource:
    """The readable RAPL package domains of this machine."""

    def __init__(self, domains: tuple[RaplDomain, ...]) -> None:
        self.domains = domains

    @classmethod
    def open(cls, root: Path = DEFAULT_POWERCAP_ROOT) -> RaplSource | None:
        """The package domains under `root` whose counters can be read, or None when there are none."""
        domains = []
        try:
            candidates = sorted(p for p in root.iterdir() if _PACKAGE.fullmatch(p.name))
        except OSError:
            return None
        for path in candidates:
            try:
                domain = RaplDomain(
                    path,
                    (path / "name").read_text().strip(),
                    int((path / "max_energy_range_uj").read_text()),
                )
                domain.read_uj()
            except (OSError, ValueError):
                continue
            domains.append(domain)
        return cls(tuple(domains)) if domains else None

    def read(self) -> tuple[int, ...] | None:
        """Every domain's counter (µJ), or None if any of them cannot be read right now."""
        try:
            return tuple(domain.read_uj() for domain in self.domains)
        except (OSError, ValueError):
            return None

    def joules_between(self, before: tuple[int, ...], after: tuple[int, ...]) -> float:
        """Energy used by all packages between two readings, counting one wrap per counter."""
        return sum(
            counter_delta(b, a, d.max_range_uj) for b, a, d in zip(before, after, self.domains)
        ) / 1e6
