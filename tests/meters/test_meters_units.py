"""Energy, power, CO2e and money for humans; everyday equivalents."""

from __future__ import annotations

import pytest

from tui.format import everyday_equivalents, format_co2, format_cost, format_duration, format_joules, format_watts, format_wh


@pytest.mark.parametrize(
    ("joules", "text"),
    [(0.0, "0 mJ"), (0.85, "850 mJ"), (0.9996, "1.00 J"), (12.345, "12.3 J"), (999.7, "1.00 kJ"),
     (4567.0, "4.57 kJ"), (3.6e6, "3.60 MJ")],
)
def test_format_joules(joules: float, text: str) -> None:
    assert format_joules(joules) == text


def test_format_wh_watts_duration() -> None:
    assert format_wh(3.6) == "1.00 mWh"
    assert format_wh(3600.0) == "1.00 Wh"
    assert format_wh(3.6e6) == "1.00 kWh"
    assert format_watts(155.4) == "155 W"
    assert format_watts(0.5) == "500 mW"
    assert format_duration(0.04) == "40.0 ms"
    assert format_duration(90) == "1.50 min"
    assert format_duration(7200) == "2.00 h"


@pytest.mark.parametrize(
    ("grams", "text"),
    [(0.000475, "475 µg CO2e"), (0.0123, "12.3 mg CO2e"), (1.3, "1.30 g CO2e"), (2100, "2.10 kg CO2e")],
)
def test_format_co2(grams: float, text: str) -> None:
    assert format_co2(grams) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0.0, "0.00 EUR"), (3e-7, "0.00000030 EUR"), (0.0123, "0.012 EUR"), (1.5, "1.50 EUR")],
)
def test_format_cost(amount: float, text: str) -> None:
    assert format_cost(amount, "EUR") == text


def test_everyday_equivalents_use_the_stated_constants() -> None:
    # 36 J: 3.6 s of a 10 W bulb; 36 J / (15 Wh * 3600 J/Wh) = 0.0667 %.
    assert everyday_equivalents(36.0) == "≈ 3.60 s of a 10 W LED bulb, 0.0667% of a phone charge (15 Wh)"
    assert "1.00 min of a 10 W LED bulb" in everyday_equivalents(600.0)
