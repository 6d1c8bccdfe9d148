"""Fixtures for remote engines: the Ollama stand-in and a sink that collects an answer's events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.ollamaserver import StandIn, StandInServer
from tui.engine.base import ChatEvent, DoneEvent, EventSink, StatusEvent, TokenEvent
from tui.servers import Server

if TYPE_CHECKING:
    from tests.remote.llamaserver import LlamaServer


class Collector(EventSink):
    """Keeps every event of one answer (thread-safe enough: list.append)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[ChatEvent] = []

    def put(self, event: ChatEvent) -> None:
        self.events.append(event)

    @property
    def done(self) -> DoneEvent:
        """The answer's DoneEvent (it must be the last event)."""
        last = self.events[-1]
        assert isinstance(last, DoneEvent)
        return last

    @property
    def tokens(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, TokenEvent)]

    @property
    def statuses(self) -> list[StatusEvent]:
        return [e for e in self.events if isinstance(e, StatusEvent)]


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """The Ollama stand-in on a free port."""
    with StandInServer() as state:
        yield state


@pytest.fixture
def keyed_stand_in() -> Iterator[StandIn]:
    """The stand-in requiring the key "s3cret"."""
    with StandInServer(key="s3cret") as state:
        yield state


@pytest.fixture
def ollama_server(stand_in: StandIn) -> Server:
    """A configured server named "gpu" pointing at the stand-in."""
    return Server("gpu", "ollama", stand_in.url, api_key_env="GPU_KEY")


@pytest.fixture(scope="module")
def llama_server(starter_path, tmp_path_factory) -> Iterator["LlamaServer"]:
    """llama-cpp-python's OpenAI-compatible server with the starter model (one per test module)."""
    from tests.remote.llamaserver import LlamaServer

    server = LlamaServer(starter_path, tmp_path_factory.mktemp("llama-server") / "server.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def lcpp(llama_server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """The configured server "lcpp" for it, its key in LCPP_KEY."""
    from tests.remote.llamaserver import KEY

    monkeypatch.setenv("LCPP_KEY", KEY)
    return Server("lcpp", "openai", llama_server.url, api_key_env="LCPP_KEY")
