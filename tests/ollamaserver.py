"""A stand-in for an Ollama server on 127.0.0.1: the real endpoints whirr calls (/api/tags,
/api/show, /api/chat streamed as chunked NDJSON, /api/pull, /api/delete) and the faults a real
network has. Each model name is a behaviour:

    tiny       a normal answer ("Hello from the stand-in server."), Ollama's final statistics
    thinker    `thinking` pieces, then the answer
    energetic  a normal answer whose last line reports energy (as `whirr serve` does)
    drop       three pieces, then the connection is cut (no last line, no chunked terminator)
    slow       nothing until `release` is set (or 30 s), then a normal answer
    garbage    HTTP 200 with lines that are not JSON
    html       HTTP 502 with a proxy's HTML page
    boom       HTTP 500 with Ollama's JSON error
    anything else: HTTP 404 "model not found"

With `key` set, a request without `Authorization: Bearer KEY` gets HTTP 401.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = "Hello from the stand-in server."
MODELS = ("tiny", "thinker", "energetic", "drop", "slow", "garbage", "html", "boom")
LISTED = ("tiny:latest", "thinker:latest")
HTML_PAGE = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass
class StandIn:
    """The running server: its URL, what it was asked, and switches for the tests."""

    url: str = ""
    key: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    deleted: list[str] = field(default_factory=list)
    slow_started: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)


def _words(text: str) -> list[str]:
    pieces = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(pieces)]


def make_handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        # -- plumbing ----------------------------------------------------------------------

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            return json.loads(raw or b"{}")

        def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _start_stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _chunk(self, line: Any) -> None:
            data = (line if isinstance(line, str) else json.dumps(line)).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _end_stream(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _authorized(self) -> bool:
            if state.key is None or self.headers.get("Authorization") == f"Bearer {state.key}":
                return True
            self._send(401, {"error": "unauthorized"})
            return False

        @staticmethod
        def _model(name: str) -> str:
            return name.split(":")[0]

        # -- endpoints ---------------------------------------------------------------------

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path == "/api/tags":
                models = [
                    {"name": name, "model": name, "size": 1000 * (i + 1), "digest": f"sha256:{i:064x}",
                     "modified_at": "2025-01-15T10:00:00Z",
                     "details": {"family": "llama", "parameter_size": "135M", "quantization_level": "Q4_1"}}
                    for i, name in enumerate(LISTED)
                ]
                self._send(200, {"models": models})
            else:
                self._send(404, {"error": "not found"})

        def do_DELETE(self) -> None:
            if not self._authorized():
                return
            body = self._body()
            name = body.get("model") or body.get("name") or ""
            if self._model(name) in MODELS:
                state.deleted.append(name)
                self._send(200, b"", "text/plain")
            else:
                self._send(404, {"error": f"model '{name}' not found"})

        def do_POST(self) -> None:
            body = self._body()
            if not self._authorized():
                return
            state.requests.append({"path": self.path, **body})
            if self.path == "/api/show":
                self._show(body.get("model") or body.get("name") or "")
            elif self.path == "/api/chat":
                self._chat(body)
            elif self.path == "/api/pull":
                self._pull(body.get("model") or body.get("name") or "")
            else:
                self._send(404, {"error": "not found"})

        def _show(self, name: str) -> None:
            if self._model(name) not in MODELS:
                self._send(404, {"error": f"model '{name}' not found"})
                return
            self._send(200, {
                "modelfile": "FROM tiny\n",
                "parameters": "temperature 0.7\nstop \"<|im_end|>\"",
                "template": "{{ .Prompt }}",
                "details": {"family": "llama", "parameter_size": "135M", "quantization_level": "Q4_1", "format": "gguf"},
                "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
                "capabilities": ["completion"],
            })

        def _pull(self, name: str) -> None:
            if name.startswith("missing"):
                self._send(500, {"error": "pull model manifest: file does not exist"})
                return
            self._start_stream()
            self._chunk({"status": "pulling manifest"})
            for done in (0, 500, 1000):
                self._chunk({"status": "pulling 0123456789ab", "digest": "sha256:0123456789ab", "total": 1000, "completed": done})
            self._chunk({"status": "verifying sha256 digest"})
            self._chunk({"status": "success"})
            self._end_stream()

        def _chat(self, body: dict[str, Any]) -> None:
            model = self._model(body.get("model", ""))
            if model not in MODELS:
                self._send(404, {"error": f"model '{body.get('model')}' not found, try pulling it first"})
                return
            if model == "html":
                self._send(502, HTML_PAGE.encode(), "text/html")
                return
            if model == "boom":
                self._send(500, {"error": "llama runner process has terminated: exit status 2"})
                return
            self._start_stream()
            if model == "garbage":
                self._chunk("this is not json")
                self._end_stream()
                return
            if model == "slow":
                state.slow_started.set()
                state.release.wait(30)
            if model == "thinker":
                for piece in _words("Let me think."):
                    self._chunk({"model": body["model"], "message": {"role": "assistant", "content": "", "thinking": piece}, "done": False})
            pieces = _words(ANSWER)
            if model == "drop":
                for piece in pieces[:3]:
                    self._chunk({"model": body["model"], "message": {"role": "assistant", "content": piece}, "done": False})
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # cut: no last line, no chunked terminator
                state.disconnected.set()
                return
            try:
                for piece in pieces:
                    self._chunk({"model": body["model"], "message": {"role": "assistant", "content": piece}, "done": False})
                final = {
                    "model": body["model"], "message": {"role": "assistant", "content": ""}, "done": True,
                    "done_reason": "stop", "total_duration": 250_000_000, "load_duration": 10_000_000,
                    "prompt_eval_count": 21, "prompt_eval_duration": 40_000_000,
                    "eval_count": len(pieces), "eval_duration": 200_000_000,
                }
                if model == "energetic":
                    final |= {"energy_joules": 12.5, "energy_method": "measured: NVML"}
                self._chunk(final)
                self._end_stream()
            except OSError:
                state.disconnected.set()

    return Handler


class StandInServer:
    """Starts and stops the stand-in on a free port; over https with `certificate` (a PEM file
    holding the certificate and its key)."""

    def __init__(self, key: str | None = None, certificate: str | None = None) -> None:
        self.state = StandIn(key=key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self._server.daemon_threads = True
        scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.state.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self.state.release.set()
        self._server.shutdown()
        self._server.server_close()


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    """Wait until `condition()` is true; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
