"""A real `whirr serve` on 127.0.0.1 (a subprocess, as users run it) with its own WHIRR_HOME,
other tools' folders pointing into tmp, and HF_ENDPOINT at the stand-in hub."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.hubserver import FakeHub, standard_repos, start
from tui.models.library import starter_model_path


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def home_environment(root: Path) -> dict[str, str]:
    """Environment variables that keep whirr (and the stores it reads) under `root`."""
    return {
        **os.environ,
        "WHIRR_HOME": str(root / "whirr-home"),
        "OLLAMA_MODELS": str(root / "ollama-models"),
        "LMSTUDIO_MODELS": str(root / "lmstudio-models"),
        "HF_HOME": str(root / "hf-home"),
        "HF_HUB_CACHE": str(root / "hf-home" / "hub"),
        "WHIRR_HOST": "",
        "WHIRR_API_KEY": "",
        "WHIRR_ORIGINS": "",
        "WHIRR_KEEP_ALIVE": "",
    }


@dataclass
class Served:
    """A running `whirr serve`: its URL, process, environment and console output file."""

    url: str
    process: subprocess.Popen
    env: dict[str, str]
    console: Path

    @property
    def home(self) -> Path:
        """Its WHIRR_HOME."""
        return Path(self.env["WHIRR_HOME"])

    @property
    def log(self) -> str:
        """whirr.log so far."""
        path = self.home / "cache" / "whirr.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 10) -> str:
        """whirr.log once it holds `text` (a line is written just after its response is sent)."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in whirr.log:\n{log[-3000:]}")
            time.sleep(0.05)
        return log

    def stop(self) -> None:
        """Stop it (Ctrl+C) and wait."""
        if self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(root: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None) -> Served:
    """Start `whirr serve` and wait (with a deadline) until `/` answers."""
    port = port or free_port()
    environment = env or home_environment(root)
    console = root / f"console-{port}.txt"
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--port", str(port), *args],
        env=environment,
        stdout=console.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise AssertionError(f"whirr serve exited with {process.returncode}: {console.read_text()}")
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"whirr serve did not answer in 60 s: {console.read_text()}") from None
            time.sleep(0.1)
    return Served(url, process, environment, console)


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    """The stand-in Hugging Face hub (module-wide)."""
    starter = starter_model_path()
    assert starter is not None
    fake = FakeHub(standard_repos(starter))
    server, thread = start(fake)
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, hub: FakeHub) -> Iterator[Served]:
    """One `whirr serve` for a test module, its hub the stand-in."""
    root = tmp_path_factory.mktemp("serve")
    env = {**home_environment(root), "HF_ENDPOINT": hub.url}
    served = start_server(root, env=env)
    yield served
    served.stop()


GREEDY = {"temperature": 0, "seed": 1, "num_predict": 8, "num_ctx": 1024}
"""Options for short, deterministic answers."""
