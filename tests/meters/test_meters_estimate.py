"""The estimate models: CodeCarbon's cpu_load formula, the TDP's source, RAM per DIMM."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.meters.estimate import cpu_power_watts, cpu_tdp, dimm_count, ram_power

GIB = 1024**3


@pytest.mark.parametrize(
    ("load", "watts"),
    [(0, 6.5), (50, 65 * (0.1 + 0.9 * 0.125)), (100, 65.0), (-5, 6.5), (130, 65.0)],
)
def test_cpu_load_model(load: float, watts: float) -> None:
    assert cpu_power_watts(65.0, load) == pytest.approx(watts)


@given(st.floats(0, 100), st.floats(0, 100))
def test_cpu_power_grows_with_load(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert 6.5 - 1e-9 <= cpu_power_watts(65.0, low) <= cpu_power_watts(65.0, high) <= 65.0 + 1e-9


def test_tdp_source_is_named() -> None:
    default = cpu_tdp(0.0, threads=8)
    assert (default.watts, default.method) == (32.0, "estimated: TDP model (4 W/thread default)")
    configured = cpu_tdp(65.0, threads=8)
    assert (configured.watts, configured.method) == (65.0, "estimated: TDP model (TDP 65 W from config)")


@pytest.mark.parametrize(
    ("gib", "dimms"), [(1, 1), (4, 2), (16, 2), (24, 4), (64, 4), (96, 8), (256, 8), (1024, 8), (2048, 16), (8192, 32)]
)
def test_dimm_count(gib: int, dimms: int) -> None:
    assert dimm_count(gib * GIB) == dimms


def test_ram_power_per_dimm_with_a_floor() -> None:
    assert ram_power(1 * GIB, "x86_64").watts == 10.0  # one DIMM, raised to the 10 W floor
    desktop = ram_power(32 * GIB, "x86_64")
    assert (desktop.watts, desktop.method) == (20.0, "estimated: 5 W/DIMM (4 DIMMs)")
    assert ram_power(8 * GIB, "aarch64").watts == 3.0
    assert ram_power(64 * GIB, "arm64").watts == 6.0
