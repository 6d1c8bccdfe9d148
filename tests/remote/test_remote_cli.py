"""`whirr list`, `run`, `show`, `pull`, `rm` and personas with remote models, as a user runs them
(a subprocess), against the Ollama stand-in."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import WHIRR, whirr
from tests.ollamaserver import ANSWER, StandIn


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def configured(whirr_home: Path, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    """config.toml with `gpu` (the stand-in) and `down` (nothing listens there)."""
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    config = whirr_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[servers.gpu]\nkind = "ollama"\nurl = "{stand_in.url}"\napi_key_env = "GPU_KEY"\n\n'
        f'[servers.down]\nkind = "openai"\nurl = "http://127.0.0.1:{closed}/v1"\n'
    )
    return stand_in


def test_list_shows_remote_models_and_one_line_for_an_unreachable_server(configured: StandIn) -> None:
    result = whirr("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tiny = next(line for line in lines if line.startswith("gpu/tiny:latest"))
    assert tiny.split()[4] == "gpu"  # SOURCE is the server (after "1.0 KB")
    assert any(line.startswith("smollm2:135m") for line in lines)  # local models are listed too
    down = [line for line in lines if "down" in line]
    assert len(down) == 1 and "unreachable: cannot connect to http://127.0.0.1:" in down[0]


def test_list_waits_about_a_second_for_silent_servers(whirr_home: Path, silent_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    config = whirr_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("".join(f'[servers.slow{i}]\nkind = "ollama"\nurl = "http://127.0.0.1:{silent_port}"\n' for i in range(4)))
    started = time.perf_counter()
    result = whirr("list")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0
    assert result.stdout.count("unreachable: no answer from") == 4
    config.unlink()
    baseline_started = time.perf_counter()
    whirr("list")
    baseline = time.perf_counter() - baseline_started
    # All four are asked at once and the listing waits 0.8 s in total (one after the other: 3.2 s).
    assert elapsed - baseline < 2.2, (elapsed, baseline)


def test_run_answers_with_the_servers_statistics(configured: StandIn) -> None:
    result = whirr("run", "gpu/tiny", "--verbose", "--temperature", "0", "Say", "hello.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    assert "eval count:           5 token(s)" in result.stderr
    assert "server:               gpu (counts and durations from the server)" in result.stderr
    assert "energy:               remote: not measured" in result.stderr
    chat = [r for r in configured.requests if r["path"] == "/api/chat"][-1]
    assert chat["options"]["temperature"] == 0.0 and chat["messages"][-1] == {"role": "user", "content": "Say hello."}


def test_ctrl_c_while_the_server_is_silent_stops_at_once(configured: StandIn) -> None:
    process = subprocess.Popen([*WHIRR, "run", "gpu/slow", "Hello?"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert configured.slow_started.wait(30)  # the request reached the server, which says nothing
    stopped_at = time.perf_counter()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert time.perf_counter() - stopped_at < 2.0
    assert process.returncode == 130 and "Traceback" not in stderr
    configured.release.set()
    assert configured.disconnected.wait(10)  # the connection was closed, not left hanging


def test_run_a_missing_remote_model_says_not_found(configured: StandIn) -> None:
    result = whirr("run", "gpu/llama9", "hi")
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: model 'gpu/llama9' not found on gpu ({configured.url})"


def test_show_asks_the_server(configured: StandIn) -> None:
    result = whirr("show", "gpu/tiny")
    assert result.returncode == 0, result.stderr
    for expected in ("architecture        llama", "context length      8192", "Capabilities", "completion", "temperature 0.7"):
        assert expected in result.stdout
    assert whirr("show", "gpu/tiny", "--template").stdout.strip() == "{{ .Prompt }}"


def test_pull_shows_the_servers_progress(configured: StandIn) -> None:
    result = whirr("pull", "gpu/tiny")
    assert result.returncode == 0, result.stderr
    assert "pulling manifest" in result.stderr and "pulling 0123456789ab 100% ▕████████████████████▏" in result.stderr
    assert result.stderr.splitlines()[-1] == "success"
    failed = whirr("pull", "gpu/missing")
    assert failed.returncode == 1 and "gpu could not pull 'missing'" in failed.stderr


def test_rm_asks_before_deleting_on_the_server(configured: StandIn) -> None:
    kept = whirr("rm", "gpu/tiny", input="n\n")
    assert kept.returncode == 0 and "Delete tiny on gpu" in kept.stderr and "kept 'gpu/tiny'" in kept.stdout
    assert configured.deleted == []
    deleted = whirr("rm", "gpu/tiny", input="y\n")
    assert deleted.returncode == 0 and "deleted 'gpu/tiny' on gpu" in deleted.stdout
    assert configured.deleted == ["tiny"]


def test_a_persona_over_a_remote_model_is_applied_here(configured: StandIn, tmp_path: Path) -> None:
    modelfile = tmp_path / "Modelfile"
    modelfile.write_text('FROM gpu/tiny\nSYSTEM "You are a pirate."\nPARAMETER temperature 0.1\nMESSAGE user Ahoy?\nMESSAGE assistant Arr.\n')
    created = whirr("create", "pirate", "-f", str(modelfile))
    assert created.returncode == 0, created.stderr
    result = whirr("run", "pirate", "Hello")
    assert result.returncode == 0, result.stderr
    chat = [r for r in configured.requests if r["path"] == "/api/chat"][-1]
    assert chat["model"] == "tiny" and chat["options"]["temperature"] == pytest.approx(0.1)
    assert chat["messages"] == [
        {"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Ahoy?"},
        {"role": "assistant", "content": "Arr."}, {"role": "user", "content": "Hello"},
    ]
    modelfile.write_text('FROM gpu/tiny\nTEMPLATE "{{ .Prompt }}"\n')
    refused = whirr("create", "templated", "-f", str(modelfile))
    assert refused.returncode == 1
    assert "TEMPLATE cannot be used with the remote model 'gpu/tiny'" in refused.stderr
    assert "templated" not in whirr("list").stdout
