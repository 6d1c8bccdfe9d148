"""Helpers shared by many test files: what the `stores` fixture makes whirr list, and whirr run
as a user runs it (a subprocess, or a subprocess on a pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

STORE_SOURCES = {
    "smollm2:135m": "built-in",
    "tinypirate:latest": "ollama",
    "someone/tiny:q4": "ollama",
    "hf.co/org/repo:q4_1": "ollama",
    "lmstudio-community/smollm2-135m-instruct-gguf:q4_1": "lmstudio",
    "hf.co/huggingfacetb/smollm2-135m-instruct-gguf:q4_1": "hf-cache",
}
"""What the `stores` fixture makes whirr list: each model's name and source."""


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
