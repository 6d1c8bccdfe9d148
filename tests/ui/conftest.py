"""Fixtures for the chat app's tests: an isolated WHIRR_HOME and apps with synthetic engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.helpers import AppFactory
from tui.app import WhirrApp
from tui.engine.synthetic import Reply, SyntheticEngine, SyntheticEngines, echo_reply
from tui.meters import Probe, Sampler


@pytest.fixture
def make_app(whirr_home: Path) -> AppFactory:
    """Build a WhirrApp whose models are synthetic engines (instant, deterministic answers).

    Its sampler reads this machine but is never started: the panel shows only what a test
    records into it (`app.sampler.record(sample)`), so screenshots stay the same."""

    def make(reply: str | Reply = echo_reply, rate: float = 5000.0) -> WhirrApp:
        engines = SyntheticEngines(lambda name: SyntheticEngine(reply, tokens_per_second=rate, name=name))
        app = WhirrApp(engines=engines, sampler=Sampler(Probe.detect()))
        app.animation_level = "none"  # Pilot waits for animations to end; tests need not
        return app

    return make
