"""Every figure shown to people, for the CLI and the UI alike: sizes, durations, ages, rates,
energy, CO2 and money, and everyday equivalents of an energy.

Energy figures keep three significant digits and pick the unit that keeps them readable
("850 mJ", "12.3 J", "4.56 kJ"; "0.475 mg CO2e"). Equivalents come from stated constants.
Where whirr mirrors Ollama's output (sizes, ages, `--verbose` durations, pull's time left),
it prints figures as Ollama does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

LED_BULB_W = 10.0
"""A common LED bulb (about an 800 lm / "60 W equivalent" bulb)."""
PHONE_CHARGE_WH = 15.0
"""One full smartphone charge: a ~4,000 mAh battery at 3.85 V plus charger losses."""


def _significant(value: float, digits: int = 3) -> str:
    """`value` with `digits` significant digits, in plain decimal notation."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    rounded = float(f"{value:.{digits - 1}e}")
    decimals = max(digits - 1 - math.floor(math.log10(abs(rounded))), 0)
    return f"{rounded:.{decimals}f}"


def _scaled(value: float, units: tuple[tuple[float, str], ...]) -> str:
    """`value` in the largest of `units` (factor, name; ascending) that keeps it >= 1."""
    factor, name = units[0]
    for unit_factor, unit_name in units:
        if abs(value) >= unit_factor:
            factor, name = unit_factor, unit_name
    # Rounding can reach the next unit up (999.7 J -> "1000 J"); prefer "1.00 kJ".
    text = _significant(value / factor)
    bigger = [u for u in units if u[0] > factor]
    if bigger and abs(float(text)) * factor >= bigger[0][0]:
        factor, name = bigger[0]
        text = _significant(value / factor)
    return f"{text} {name}"


def format_joules(joules: float) -> str:
    """Energy in mJ, J, kJ or MJ."""
    return _scaled(joules, ((1e-3, "mJ"), (1.0, "J"), (1e3, "kJ"), (1e6, "MJ")))


def format_wh(joules: float) -> str:
    """Energy given in joules, shown in mWh, Wh or kWh."""
    return _scaled(joules / 3600.0, ((1e-3, "mWh"), (1.0, "Wh"), (1e3, "kWh")))


def format_watts(watts: float) -> str:
    """Power in mW, W or kW."""
    return _scaled(watts, ((1e-3, "mW"), (1.0, "W"), (1e3, "kW")))


def format_co2(grams: float) -> str:
    """CO2-equivalent mass in µg, mg, g or kg."""
    return _scaled(grams, ((1e-6, "µg"), (1e-3, "mg"), (1.0, "g"), (1e3, "kg"))) + " CO2e"


def format_cost(amount: float, currency: str) -> str:
    """Money: cents from 1 up, else two significant digits, never in scientific notation."""
    text = f"{amount:.2f}" if abs(amount) >= 1 or amount == 0 else _significant(amount, 2)
    return f"{text} {currency}"


def format_duration(seconds: float) -> str:
    """A duration in ms, s, min or h."""
    if seconds < 1:
        return f"{_significant(seconds * 1000)} ms"
    if seconds < 60:
        return f"{_significant(seconds)} s"
    if seconds < 3600:
        return f"{_significant(seconds / 60)} min"
    return f"{_significant(seconds / 3600)} h"


def everyday_equivalents(joules: float) -> str:
    """One line putting an energy in everyday terms, from this module's stated constants."""
    bulb = format_duration(joules / LED_BULB_W)
    phone = _significant(100.0 * joules / (PHONE_CHARGE_WH * 3600.0))
    return (
        f"≈ {bulb} of a {LED_BULB_W:g} W LED bulb, "
        f"{phone}% of a phone charge ({PHONE_CHARGE_WH:g} Wh)"
    )


def format_rate(tokens_per_second: float) -> str:
    """A generation rate: 1,234.5 tok/s."""
    return f"{tokens_per_second:,.1f} tok/s"


def human_size(size: int) -> str:
    """Sizes as Ollama prints them (decimal units): 98 MB, 4.7 GB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"


def human_duration(seconds: float) -> str:
    """A time left as `ollama pull` prints it: 5s, 3m39s, 1h2m."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


_UNITS = (("year", 31_536_000), ("month", 2_592_000), ("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60))


def _relative(seconds: float, units: tuple[tuple[str, int], ...], suffix: str) -> str:
    """A span in the largest unit that fits, as Ollama words it: 'About an hour ago'."""
    for unit, size in units:
        count = int(seconds // size)
        if count == 1:
            return f"About {'an' if unit == 'hour' else 'a'} {unit} {suffix}"
        if count > 1:
            return f"{count} {unit}s {suffix}"
    return f"Less than a minute {suffix}"


def human_age(timestamp: float, now: float | None = None) -> str:
    """How long ago, as Ollama prints it: 'About a minute ago', '3 days ago'."""
    return _relative(max(0.0, (now if now is not None else time.time()) - timestamp), _UNITS, "ago")


def human_until(until: float | None, now: float | None = None) -> str:
    """When a model unloads, as `ollama ps` prints it: '4 minutes from now', 'Forever'."""
    if until is None:
        return "Forever"
    seconds = until - (now if now is not None else time.time())
    return "Stopping..." if seconds < 1 else _relative(seconds, _UNITS[3:], "from now")


def ollama_duration(seconds: float) -> str:
    """Durations as `ollama run --verbose` prints them: 1.234567s, 12.345ms, 120µs."""
    if seconds >= 1:
        return f"{seconds:.6f}s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.3f}ms"
    return f"{seconds * 1_000_000:.0f}µs"


def columns(rows: Sequence[Sequence[str]], gap: int = 4) -> list[str]:
    """Rows of cells as lines of left-aligned columns `gap` spaces apart (as `ollama ps` prints
    its tables); the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)] if rows else []
    return [(" " * gap).join([cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]) for row in rows]
