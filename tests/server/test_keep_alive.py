"""keep_alive in `whirr serve`, as Ollama's server has it: a model stays loaded 5 minutes after its
last request unless `--keepalive` / WHIRR_KEEP_ALIVE / config say otherwise, a request's keep_alive
wins for its model, and /api/ps and `whirr ps` show the real deadline (real starter model)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import ollama
import psutil
import pytest

from tests.server.conftest import GREEDY, Served, home_environment, start_server
from tui.engine.runner.registry import LoadedModel, loaded_models

pytestmark = pytest.mark.model
MODEL = "smollm2:135m"
SHORT = {**GREEDY, "num_predict": 4}


def runners(served: Served) -> list[LoadedModel]:
    """The runners `whirr ps` sees for this server's WHIRR_HOME."""
    return loaded_models(served.home / "cache" / "runners")


def whirr_ps(served: Served) -> list[str]:
    """`whirr ps`'s table, run as a user would with the server's environment."""
    result = subprocess.run([sys.executable, "-m", "tui", "ps"], env=served.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def seconds_left(client: ollama.Client) -> float:
    """Seconds until /api/ps's only model expires."""
    (model,) = client.ps().models
    return (model.expires_at - datetime.now(timezone.utc)).total_seconds()


def gone(pid: int) -> bool:
    """True once the process has exited."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def default_server(tmp_path: Path) -> Served:
    served = start_server(tmp_path)
    yield served
    served.stop()


def test_a_served_model_stays_five_minutes_and_a_request_keep_alive_wins(default_server: Served) -> None:
    client = ollama.Client(host=default_server.url)
    client.generate(model=MODEL, prompt="Hi", options=SHORT)
    assert 295 < seconds_left(client) <= 300
    (runner,) = runners(default_server)
    assert runner.until is not None and 295 < runner.until - time.time() <= 300
    table = whirr_ps(default_server)
    assert len(table) == 2 and table[1].startswith(MODEL) and table[1].endswith("4 minutes from now"), table

    client.generate(model=MODEL, prompt="Hi", options=SHORT, keep_alive="1s")  # this model: gone a second after
    deadline = time.monotonic() + 30
    while not gone(runner.pid):
        assert time.monotonic() < deadline, "keep_alive 1s did not end the runner"
        time.sleep(0.1)
    assert client.ps().models == []
    assert len(whirr_ps(default_server)) == 1  # the header alone
    answer = client.generate(model=MODEL, prompt="Hi", options=SHORT)  # a fresh runner, the server's 5 minutes again
    assert answer.response and 295 < seconds_left(client) <= 300


def test_keepalive_sets_the_servers_default_and_negative_keeps_forever(tmp_path: Path) -> None:
    env = {**home_environment(tmp_path), "WHIRR_KEEP_ALIVE": "1h"}
    served = start_server(tmp_path, "--keepalive", "10m", env=env)  # the flag wins over the environment
    try:
        client = ollama.Client(host=served.url)
        assert client.generate(model=MODEL, options=SHORT).done_reason == "load"  # an empty prompt loads the model
        assert 595 < seconds_left(client) <= 600
        assert whirr_ps(served)[1].endswith("9 minutes from now")

        client.chat(model=MODEL, messages=[], options=SHORT, keep_alive=-1)
        (model,) = httpx.get(served.url + "/api/ps").json()["models"]
        assert model["expires_at"] == "9999-12-31T23:59:59Z"
        assert whirr_ps(served)[1].endswith("Forever")
        (runner,) = runners(served)
        assert runner.until is None

        assert client.chat(model=MODEL, messages=[], keep_alive=0).done_reason == "unload"
        assert gone(runner.pid) and client.ps().models == [] and runners(served) == []
    finally:
        served.stop()
