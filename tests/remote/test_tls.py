"""https servers: checked against the system's certificates (here: SSL_CERT_FILE naming a test
authority), and `verify = false` only for the server that says so."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ollamaserver import ANSWER, StandIn, StandInServer
from tests.remote.conftest import Collector
from tui.engine.base import ChatMessage, ChatRequest
from tui.engine.remote import remote_engine
from tui.models.remote import fetch_models
from tui.servers import Server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for 127.0.0.1 and its key, in one PEM file (made with openssl)."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    both = folder / "both.pem"
    both.write_text(cert.read_text() + key.read_text())
    return both


@pytest.fixture
def https_stand_in(certificate: Path) -> Iterator[StandIn]:
    with StandInServer(certificate=str(certificate)) as state:
        yield state


def ask(server: Server) -> Collector:
    sink = Collector()
    remote_engine(server, "tiny").answer_here(ChatRequest([ChatMessage("user", "Hi")]), sink)
    return sink


def test_an_unknown_certificate_is_refused_unless_verify_is_off(https_stand_in: StandIn) -> None:
    checked = Server("gpu", "ollama", https_stand_in.url)
    error = ask(checked).done.stats.error
    assert error.startswith("cannot reach gpu at https://127.0.0.1:") and "CERTIFICATE_VERIFY_FAILED" in error
    with pytest.raises(RuntimeError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch_models(checked)
    unchecked = Server("gpu", "ollama", https_stand_in.url, verify=False)
    assert ask(unchecked).done.text == ANSWER
    assert [e.name for e in fetch_models(unchecked)] == ["gpu/thinker:latest", "gpu/tiny:latest"]


def test_the_systems_certificates_are_used(https_stand_in: StandIn, certificate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # OpenSSL's default store, as a system's would be
    server = Server("gpu", "ollama", https_stand_in.url)
    assert ask(server).done.text == ANSWER
    assert [e.name for e in fetch_models(server)][-1] == "gpu/tiny:latest"
