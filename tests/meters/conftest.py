"""Fixtures for the hardware CI lacks: a powercap sysfs tree and a pynvml-shaped module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.meters.fakes import FakeNvml, FakePowercap


@pytest.fixture
def powercap(tmp_path: Path) -> FakePowercap:
    """An empty fake powercap root."""
    return FakePowercap(tmp_path / "powercap")


@pytest.fixture
def fake_nvml() -> FakeNvml:
    """A pynvml stand-in with one idle H100-like GPU."""
    return FakeNvml()
