"""llama-cpp-python's own OpenAI-compatible server (`python -m llama_cpp.server`) with the
starter model, on a free port of 127.0.0.1: a real server for the OpenAI engine's tests.

It runs under whirr's `machine_safe_defaults()`, as whirr's own engine does: on CPUs that
advertise AMX, ggml's AMX kernels fault under some hypervisors (tui/engine/llama_runtime.py)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ALIAS = "smollm2"
_RUN_SERVER = (
    "import runpy; from tui.engine.llama_runtime import machine_safe_defaults\n"
    "with machine_safe_defaults(): runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)"
)
KEY = "lcpp-test-key"


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """Starts the server (requiring `KEY`) and waits until it lists its model.

    With `tls` (a certificate chain file and its key file) it serves https, and `trust` is
    what the readiness check trusts (the test's authority)."""

    def __init__(self, model: Path, log: Path, tls: tuple[Path, Path] | None = None,
                 trust: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/v1"
        self._trust = trust
        self._log = open(log, "wb")
        https = ["--ssl_certfile", str(tls[0]), "--ssl_keyfile", str(tls[1])] if tls else []
        self.process = subprocess.Popen(
            [sys.executable, "-c", _RUN_SERVER, "--model", str(model), "--model_alias", ALIAS,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "1024", "--api_key", KEY, *https],
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Poll GET /v1/models until it answers; AssertionError if the server dies or never does."""
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(self.url + "/models", headers={"Authorization": f"Bearer {KEY}"})
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"llama_cpp.server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(request, timeout=2, context=self._trust) as response:
                    if json.load(response)["data"]:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("llama_cpp.server did not start in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
