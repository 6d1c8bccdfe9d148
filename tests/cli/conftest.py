"""Fixtures that run `whirr` as a user would (tests/helpers.py does the running)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import GREEDY, WHIRR, Terminal, whirr


@pytest.fixture
def run_whirr(whirr_home: Path):
    """`whirr(*args, input=...)` with WHIRR_HOME set for this test."""
    return whirr


@pytest.fixture
def greedy() -> list[str]:
    """Flags for deterministic answers."""
    return list(GREEDY)


@pytest.fixture
def whirr_command() -> list[str]:
    """The argv that starts whirr."""
    return list(WHIRR)


@pytest.fixture
def terminal(whirr_home: Path):
    sessions: list[Terminal] = []

    def start(*args: str) -> Terminal:
        session = Terminal(*args)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        if session.process.poll() is None:
            session.process.kill()
            session.close()
