"""whirr as a client of `whirr serve` on another "machine" (a subprocess with its own WHIRR_HOME):
both of its APIs, its key, its own energy figures shown with its method, and pulling through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import whirr
from tests.hubserver import FakeHub, standard_repos, start
from tests.remote.conftest import Collector
from tests.server.conftest import Served, home_environment, start_server
from tui.engine.base import ChatMessage, ChatRequest
from tui.engine.options import Options
from tui.engine.remote import remote_engine
from tui.models.library import starter_model_path
from tui.models.remote import fetch_models
from tui.paths import resolve_paths
from tui.servers import Server, save_server

pytestmark = pytest.mark.model
KEY = "serve-test-key"
GREEDY = Options(temperature=0.0, seed=1, num_predict=8)
STARTER = "smollm2:135m"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`whirr serve --api-key KEY` with its own home, its hub the stand-in."""
    starter = starter_model_path()
    assert starter is not None
    hub = FakeHub(standard_repos(starter))
    hub_server, thread = start(hub)
    root = tmp_path_factory.mktemp("serve")
    server = start_server(root, "--api-key", KEY, env={**home_environment(root), "HF_ENDPOINT": hub.url})
    yield server
    server.stop()
    hub_server.shutdown()
    hub_server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def box(served: Served, monkeypatch: pytest.MonkeyPatch) -> tuple[Server, Server]:
    """The two ways to reach it: Ollama's API ("box") and the OpenAI API ("boxai")."""
    monkeypatch.setenv("BOX_KEY", KEY)
    return (Server("box", "ollama", served.url, api_key_env="BOX_KEY"),
            Server("boxai", "openai", served.url + "/v1", api_key_env="BOX_KEY"))


def ask(server: Server, model: str = STARTER) -> Collector:
    sink = Collector()
    remote_engine(server, model).answer_here(ChatRequest([ChatMessage("user", "Name a colour.")], GREEDY), sink)
    return sink


def test_ollama_api_answers_with_the_servers_counts_and_energy(box: tuple[Server, Server]) -> None:
    ollama, _ = box
    assert f"box/{STARTER}" in [e.name for e in fetch_models(ollama)]
    done = ask(ollama).done
    stats = done.stats
    assert stats.error == "" and done.text.strip()
    assert stats.timing == "server" and 0 < stats.eval_count <= 8 and stats.prompt_eval_count > 0
    assert stats.server_energy_j is not None and stats.server_energy_j > 0
    assert "estimated" in stats.server_energy_method or "measured" in stats.server_energy_method


def test_openai_api_answers_with_usage_and_energy(box: tuple[Server, Server]) -> None:
    _, openai = box
    assert f"boxai/{STARTER}" in [e.name for e in fetch_models(openai)]
    done = ask(openai).done
    stats = done.stats
    assert stats.error == "" and done.text.strip()
    assert stats.timing == "usage" and 0 < stats.eval_count <= 8 and stats.prompt_eval_count > 0
    assert stats.server_energy_j is not None and stats.server_energy_j > 0


def test_its_key_is_required(box: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOX_KEY", "wrong")
    for server in box:
        assert ask(server).done.stats.error == "the server refused the API key (BOX_KEY)"


def test_the_cli_shows_the_servers_energy_and_pulls_through_it(whirr_home: Path, box: tuple[Server, Server]) -> None:
    paths = resolve_paths()
    for server in box:
        save_server(paths, server)
    result = whirr("run", f"box/{STARTER}", "--verbose", "--temperature", "0", "--seed", "1", "--num-predict", "8", "Name a colour.")
    assert result.returncode == 0, result.stderr
    energy = next(line for line in result.stderr.splitlines() if line.startswith("energy:"))
    assert " on box; " in energy and ("estimated" in energy or "measured" in energy)
    pulled = whirr("pull", "box/hf.co/whirr-test/SmolLM2-135M-Instruct-GGUF:Q4_1")
    assert pulled.returncode == 0, pulled.stderr
    assert "success" in pulled.stderr
    assert any(line.startswith("box/hf.co/whirr-test/smollm2-135m-instruct-gguf:q4_1 ") for line in whirr("list").stdout.splitlines())
