"""The Ollama engine against the stand-in server: answers, statistics, thinking, energy, faults."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.ollamaserver import ANSWER, StandIn, wait_for
from tests.remote.conftest import Collector
from tui.engine.base import ChatMessage, ChatRequest
from tui.engine.options import Options
from tui.engine.remote import remote_engine
from tui.engine.remote.common import RemoteError, RemoteModelNotFound
from tui.servers import Server

HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", "Say hello.")]


def ask(server: Server, model: str, options: Options | None = None, **request: object) -> Collector:
    sink = Collector()
    engine = remote_engine(server, model)
    engine.answer_here(ChatRequest(HELLO, options or Options(), **request), sink)  # type: ignore[arg-type]
    return sink


def test_answer_streams_with_the_servers_statistics(ollama_server: Server, stand_in: StandIn) -> None:
    sink = ask(ollama_server, "tiny", Options(temperature=0.0, seed=7, num_ctx=2048, stop=("END",)))
    done = sink.done
    assert done.text == ANSWER and "".join(sink.tokens) == ANSWER
    assert sink.statuses[0].state == "waiting" and sink.statuses[0].detail == "gpu"
    stats = done.stats
    assert (stats.finish_reason, stats.error, stats.server, stats.timing) == ("stop", "", "gpu", "server")
    assert (stats.prompt_eval_count, stats.eval_count) == (21, len(ANSWER.split()))
    assert stats.eval_duration == pytest.approx(0.2) and stats.prompt_eval_duration == pytest.approx(0.04)
    assert stats.load_duration == pytest.approx(0.01)
    assert stats.server_energy_j is None and stats.options_not_sent == ()
    sent = stand_in.requests[-1]
    # Ollama's own option names, 1:1; only what differs from Ollama's defaults.
    assert sent["options"] == {"temperature": 0.0, "seed": 7, "num_ctx": 2048, "stop": ["END"]}
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]


def test_thinking_becomes_the_collapsed_think_block(ollama_server: Server) -> None:
    done = ask(ollama_server, "thinker").done
    assert done.text == f"<think>Let me think.</think>\n\n{ANSWER}"


def test_energy_the_server_reports_is_kept_with_its_method(ollama_server: Server) -> None:
    stats = ask(ollama_server, "energetic").done.stats
    assert stats.server_energy_j == 12.5 and stats.server_energy_method == "measured: NVML"


def test_dropped_mid_stream_keeps_the_partial_answer_with_one_line(ollama_server: Server) -> None:
    done = ask(ollama_server, "drop").done
    assert done.text == "Hello from the"
    assert done.stats.finish_reason == "error"
    assert "dropped mid-answer" in done.stats.error and "\n" not in done.stats.error


def test_a_refused_key_names_its_variable(keyed_stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_KEY", "wrong")
    server = Server("gpu", "ollama", keyed_stand_in.url, api_key_env="GPU_KEY")
    assert ask(server, "tiny").done.stats.error == "the server refused the API key (GPU_KEY)"
    with pytest.raises(RemoteError, match=r"refused the API key \(GPU_KEY\)"):
        remote_engine(server, "tiny").load(Options())
    monkeypatch.setenv("GPU_KEY", "s3cret")
    assert ask(server, "tiny").done.text == ANSWER


def test_a_missing_model_is_not_found(ollama_server: Server) -> None:
    done = ask(ollama_server, "llama9")
    assert "model 'gpu/llama9' not found on gpu" in done.done.stats.error
    engine = remote_engine(ollama_server, "llama9")
    with pytest.raises(RemoteModelNotFound):
        engine.load(Options())
    assert not engine.loaded
    found = remote_engine(ollama_server, "tiny")
    found.load(Options())
    assert found.loaded


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("boom", "gpu answered HTTP 500: llama runner process has terminated"),
        ("html", "gpu sent an HTML page (HTTP 502), not an API answer"),
        ("garbage", "gpu sent something that is not Ollama's NDJSON: 'this is not json'"),
    ],
)
def test_server_errors_read_as_one_clear_line(ollama_server: Server, model: str, expected: str) -> None:
    stats = ask(ollama_server, model).done.stats
    assert stats.finish_reason == "error" and expected in stats.error and "\n" not in stats.error


def test_unreachable_server_fails_at_once() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.perf_counter()
    stats = ask(Server("gpu", "ollama", f"http://127.0.0.1:{port}"), "tiny").done.stats
    assert time.perf_counter() - started < 3
    assert stats.error.startswith("cannot reach gpu at http://127.0.0.1:")


def test_cancel_while_waiting_for_the_first_token_closes_the_stream(ollama_server: Server, stand_in: StandIn) -> None:
    sink = Collector()
    engine = remote_engine(ollama_server, "slow")
    thread = threading.Thread(target=engine.answer_here, args=(ChatRequest(HELLO), sink))
    thread.start()
    assert stand_in.slow_started.wait(10)
    assert [s.state for s in sink.statuses] == ["waiting"]
    cancelled_at = time.perf_counter()
    sink.cancel()
    thread.join(10)
    assert time.perf_counter() - cancelled_at < 1.0
    assert sink.done.stats.finish_reason == "cancelled" and sink.done.text == ""
    stand_in.release.set()
    wait_for(stand_in.disconnected.is_set)  # the server saw the connection closed


def test_a_template_is_refused_for_a_remote_model(ollama_server: Server, stand_in: StandIn) -> None:
    stats = ask(ollama_server, "tiny", template="{{ .Prompt }}").done.stats
    assert stats.finish_reason == "error" and stats.error.startswith("TEMPLATE cannot be used with a remote model")
    assert not [r for r in stand_in.requests if r["path"] == "/api/chat"]
