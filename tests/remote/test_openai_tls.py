"""The OpenAI-compatible engine over https, against llama-cpp-python's own server with the
starter model and a certificate from a test authority (trustme): refused while the authority is
unknown, accepted once the system's store holds it (SSL_CERT_FILE, as a CA bundle would be
installed), and accepted unchecked only for the server that says `verify = false`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.remote.conftest import Collector
from tests.remote.llamaserver import ALIAS, KEY, LlamaServer
from tui.engine.base import ChatMessage, ChatRequest
from tui.engine.options import Options
from tui.engine.remote import remote_engine
from tui.models.remote import fetch_models
from tui.servers import Server

pytestmark = pytest.mark.model
GREEDY = Options(temperature=0.0, seed=1, num_predict=4)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A certificate authority nobody trusts until a test says so."""
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_bundle(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The authority's certificate as a PEM bundle."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def https_server(starter_path: Path, authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama-cpp-python's server on https://127.0.0.1, its certificate issued by `authority`."""
    import ssl

    folder = tmp_path_factory.mktemp("https-server")
    issued = authority.issue_cert("127.0.0.1")
    chain, key = folder / "chain.pem", folder / "key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    trust = ssl.create_default_context()
    authority.configure_trust(trust)
    server = LlamaServer(starter_path, folder / "server.log", tls=(chain, key), trust=trust)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def configured(https_server: LlamaServer, monkeypatch: pytest.MonkeyPatch, verify: bool = True) -> Server:
    monkeypatch.setenv("LCPP_KEY", KEY)
    return Server("lcpp", "openai", https_server.url, api_key_env="LCPP_KEY", verify=verify)


def ask(server: Server) -> Collector:
    sink = Collector()
    remote_engine(server, ALIAS).answer_here(ChatRequest([ChatMessage("user", "Name a colour.")], GREEDY), sink)
    return sink


def test_an_unknown_authority_is_refused_unless_verify_is_off(https_server: LlamaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = configured(https_server, monkeypatch)
    error = ask(checked).done.stats.error
    assert "CERTIFICATE_VERIFY_FAILED" in error, error
    with pytest.raises(RuntimeError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch_models(checked)

    unchecked = configured(https_server, monkeypatch, verify=False)
    done = ask(unchecked).done
    assert done.stats.error == "" and done.text.strip() and done.stats.server == "lcpp"
    assert [e.name for e in fetch_models(unchecked)] == [f"lcpp/{ALIAS}"]


def test_a_ca_bundle_in_the_systems_store_is_trusted(
    https_server: LlamaServer, ca_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))  # OpenSSL's default store, as a system's would be
    server = configured(https_server, monkeypatch)
    done = ask(server).done
    assert done.stats.error == "" and done.text.strip()
    assert 0 < done.stats.eval_count <= 4
    assert [e.name for e in fetch_models(server)] == [f"lcpp/{ALIAS}"]
