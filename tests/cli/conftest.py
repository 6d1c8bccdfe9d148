"""Run `whirr` as a user would: a subprocess, or a subprocess on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

WHIRR = [sys.executable, "-m", "tui"]
GREEDY = ["--temperature", "0", "--seed", "1", "--num-ctx", "1024"]


def whirr(*args: str, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run whirr to completion with the current environment (WHIRR_HOME from the fixture)."""
    return subprocess.run([*WHIRR, *args], input=input, capture_output=True, text=True, timeout=timeout)


class Terminal:
    """whirr on a pseudo-terminal: type lines, wait for text on the screen."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([*WHIRR, *args], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.output = ""

    def expect(self, text: str, timeout: float = 60) -> str:
        """Read until `text` appears after what was consumed; return everything up to it."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} did not appear; screen so far:\n{self.output}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.output += os.read(self.master, 4096).decode("utf-8", errors="replace")
                except OSError:
                    break
        head, _, tail = self.output.partition(text)
        self.output = tail
        return head

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=30)
        finally:
            os.close(self.master)


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
