"""[servers.NAME] tables: checked field by field, OLLAMA_HOST, written back without losing keys;
and listing every server's models within a second, with the cache of the last answers."""

from __future__ import annotations

import socket
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ollamaserver import StandIn, StandInServer
from tui.config import load_config, save_config
from tui.models.library import Library
from tui.models.remote import RemoteCatalog, fetch_models
from tui.paths import resolve_paths
from tui.servers import (
    Server,
    ServerError,
    load_servers,
    ollama_host_url,
    remove_server,
    save_server,
    server_from_table,
    split_remote,
)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "vllm", "url": "http://x"}, "[servers.gpu] kind must be \"ollama\" or \"openai\", got 'vllm'"),
        ({"kind": "ollama"}, "[servers.gpu] url must be a string"),
        ({"kind": "ollama", "url": "gpu-box:11434"}, "[servers.gpu] url must start with http:// or https://"),
        ({"kind": "openai", "url": "http://x/v1", "api_key_env": "my key"}, "[servers.gpu] api_key_env must be the name"),
        ({"kind": "openai", "url": "http://x/v1", "models": "llama"}, "[servers.gpu] models must be a list"),
        ({"kind": "openai", "url": "http://x/v1", "verify": "no"}, "[servers.gpu] verify must be true or false"),
        ({"kind": "openai", "url": "http://x/v1", "key": "sk-123"}, "[servers.gpu]: unknown field 'key'"),
    ],
)
def test_each_field_is_checked_and_named(table: dict, message: str) -> None:
    with pytest.raises(ServerError) as error:
        server_from_table("gpu", table)
    assert str(error.value).startswith(message)


def test_a_valid_table() -> None:
    server = server_from_table("GPU", {"kind": "openai", "url": "https://box/v1/", "api_key_env": "GPU_KEY",
                                       "models": ["a", "b"], "verify": False})
    assert server == Server("gpu", "openai", "https://box/v1", "GPU_KEY", ("a", "b"), False)
    assert server.shows("a") and not server.shows("c")


@pytest.mark.parametrize(
    ("value", "url"),
    [("gpu-box", "http://gpu-box:11434"), ("0.0.0.0", "http://127.0.0.1:11434"),
     ("https://ollama.example.com", "https://ollama.example.com:443"), ("10.0.0.2:8080", "http://10.0.0.2:8080")],
)
def test_ollama_host_is_read_as_ollama_reads_it(value: str, url: str) -> None:
    assert ollama_host_url(value) == url


def test_config_keeps_its_keys_when_servers_change(whirr_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('theme = "whirr-light"\n\n[options]\ntemperature = 0.2\n\n'
                                 '[servers.old]\nkind = "ollama"\nurl = "http://old:11434"\n')
    save_server(paths, Server("gpu", "openai", "http://gpu:8000/v1", "GPU_KEY"))
    with pytest.raises(ServerError, match="already exists"):
        save_server(paths, Server("gpu", "ollama", "http://elsewhere:11434"))
    save_server(paths, Server("box", "ollama", "http://box:11434", verify=False), replace="old")
    data = tomllib.loads(paths.config_file.read_text())
    assert data["theme"] == "whirr-light" and data["options"] == {"temperature": 0.2}
    assert data["servers"] == {
        "gpu": {"kind": "openai", "url": "http://gpu:8000/v1", "api_key_env": "GPU_KEY"},
        "box": {"kind": "ollama", "url": "http://box:11434", "verify": False},
    }
    assert [s.name for s in load_servers(paths)] == ["box", "gpu"]
    config, warnings = load_config(paths)
    assert warnings == [] and config.theme == "whirr-light"  # the config loader leaves [servers] alone
    config.theme = "whirr-dark"
    save_config(config, paths)  # the app saving a setting keeps the servers
    assert [s.name for s in load_servers(paths)] == ["box", "gpu"]
    assert remove_server(paths, "gpu") and not remove_server(paths, "gpu")
    assert [s.name for s in load_servers(paths)] == ["box"]


def test_a_bad_table_is_left_out_with_a_warning(whirr_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('[servers.bad]\nkind = "vllm"\nurl = "http://x"\n[servers.ok]\nkind = "openai"\nurl = "http://x/v1"\n')
    warnings: list[str] = []
    servers = load_servers(paths, warnings)
    assert [s.name for s in servers] == ["ok", "ollama"]
    assert servers[1] == Server("ollama", "ollama", "http://gpu-box:11434")
    assert warnings == ["[servers.bad] kind must be \"ollama\" or \"openai\", got 'vllm'; that server is left out"]


def test_remote_names_resolve_without_asking_the_server(whirr_home: Path) -> None:
    servers = [Server("gpu", "ollama", "http://127.0.0.1:9")]
    assert split_remote("gpu/llama3.1:70b", servers) == (servers[0], "llama3.1:70b")
    assert split_remote("hf.co/org/repo:q4", servers) is None and split_remote("gpu/", servers) is None
    entry = Library(resolve_paths(), servers=servers).resolve("gpu/llama3.1:70b")
    assert (entry.name, entry.server, entry.source, entry.usable) == ("gpu/llama3.1:70b", "gpu", "gpu", True)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_listing_asks_servers_at_once_and_waits_at_most_the_timeout(
    whirr_home: Path, stand_in: StandIn, silent_port: int
) -> None:
    cache = whirr_home / "cache" / "servers.json"
    good = Server("gpu", "ollama", stand_in.url, models=["tiny:latest"])
    silent = [Server(f"silent{i}", "openai", f"http://127.0.0.1:{silent_port}/v1") for i in range(3)]
    catalog = RemoteCatalog([good, *silent], cache)
    started = time.perf_counter()
    listings = catalog.list()  # 0.8 s for all of them; one after the other would take 2.4 s
    assert time.perf_counter() - started < 1.4
    assert [l.server.name for l in listings] == ["gpu", "silent0", "silent1", "silent2"]
    assert listings[0].reachable and [e.name for e in listings[0].entries] == ["gpu/tiny:latest"]
    entry = listings[0].entries[0]
    assert (entry.size, entry.details, entry.source, entry.server) == (1000, "llama 135M Q4_1", "gpu", "gpu")
    assert [e.name for e in fetch_models(good, every=True)] == ["gpu/thinker:latest", "gpu/tiny:latest"]
    assert all(not l.reachable and l.entries == () for l in listings[1:])
    assert "no answer from" in listings[1].error


def test_an_unreachable_server_shows_its_last_known_models(whirr_home: Path) -> None:
    cache = whirr_home / "cache" / "servers.json"
    with StandInServer() as state:
        server = Server("gpu", "ollama", state.url)
        assert RemoteCatalog([server], cache).list()[0].reachable
    listing = RemoteCatalog([server], cache).list()[0]  # the server is gone now
    assert not listing.reachable and listing.error.startswith(f"cannot connect to {server.url}")
    assert [(e.name, e.problem) for e in listing.entries] == [
        ("gpu/thinker:latest", "gpu is unreachable"), ("gpu/tiny:latest", "gpu is unreachable")]
    moved = Server("gpu", "ollama", server.url + "0")
    assert RemoteCatalog([moved], cache).list(timeout=0.3)[0].entries == ()  # another URL: not its models


def test_listing_a_server_that_refuses_the_key(keyed_stand_in: StandIn) -> None:
    with pytest.raises(RuntimeError, match=r"the server refused the API key \(GPU_KEY\)"):
        fetch_models(Server("gpu", "ollama", keyed_stand_in.url, api_key_env="GPU_KEY"))
