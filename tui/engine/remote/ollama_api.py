"""Ollama's API: chat (/api/chat, NDJSON), show, pull and delete.

Chat streams with httpx rather than the official `ollama` client: the client parses each NDJSON
line into a pydantic model that drops fields it does not know, so the energy a server reports
in its last line (`energy_joules`, `energy_method` from `whirr serve`) would be lost, and it lets a
line that is not JSON escape as a bare JSONDecodeError. httpx is what that client uses underneath.
`show`, `pull` and `delete` use the official client (`ollama.Client`), imported when needed.
Options go to the server under their own names: whirr's options are Ollama's (only those that
differ from Ollama's defaults are sent, so the model's own PARAMETERs apply otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tui.engine.base import ChatRequest
from tui.engine.remote.common import (
    CONNECT_TIMEOUT,
    Answer,
    RemoteEngine,
    RemoteError,
    RemoteModelNotFound,
    refused_key,
    server_energy,
    status_error,
)
from tui.servers import Server, looks_like_html

NANOSECONDS = 1e9


def http_settings(server: Server) -> dict[str, Any]:
    """httpx settings for `server`: its key, TLS checking (system certificates, or none when
    `verify = false`), and no read timeout (a first token may take minutes on a big model)."""
    return {"headers": server.headers, "verify": server.ssl_context(), "timeout": httpx.Timeout(CONNECT_TIMEOUT, read=None)}


class OllamaEngine(RemoteEngine):
    """A model on an Ollama server (or anything speaking its API, such as `whirr serve`)."""

    def check_model(self) -> None:
        """POST /api/show: 404 means the server does not have the model."""
        show_model(self.server, self.model)

    async def stream(self, request: ChatRequest, answer: Answer) -> None:
        body = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "stream": True,
            "options": {k: list(v) if k == "stop" else v for k, v in request.options.to_parameters().items()},
        }
        answer.stats.timing = "server"
        async with httpx.AsyncClient(base_url=self.server.url, **http_settings(self.server)) as client:
            async with client.stream("POST", "/api/chat", json=body) as response:
                if response.status_code >= 400:
                    text = (await response.aread()).decode("utf-8", "replace")
                    raise status_error(self.server, self.model, response.status_code, text)
                async for line in response.aiter_lines():
                    if line.strip() and self._line(line, answer):
                        return
        raise RemoteError(self.dropped(answer, "the stream ended before its last line"))

    def _line(self, line: str, answer: Answer) -> bool:
        """Take one NDJSON line; True when it was the last."""
        try:
            chunk = json.loads(line)
        except ValueError:
            raise RemoteError(self._not_api(line)) from None
        if not isinstance(chunk, dict):
            raise RemoteError(self._not_api(line))
        if chunk.get("error"):
            raise RemoteError(f"{self.server.name}: {chunk['error']}")
        message = chunk.get("message") if isinstance(chunk.get("message"), dict) else {}
        answer.think(str(message.get("thinking") or ""))
        answer.say(str(message.get("content") or ""))
        if not chunk.get("done"):
            return False
        stats = answer.stats
        stats.finish_reason = "length" if chunk.get("done_reason") == "length" else "stop"
        stats.prompt_eval_count = _int(chunk.get("prompt_eval_count"))
        stats.eval_count = _int(chunk.get("eval_count"))
        stats.load_duration = _int(chunk.get("load_duration")) / NANOSECONDS
        stats.prompt_eval_duration = _int(chunk.get("prompt_eval_duration")) / NANOSECONDS
        stats.eval_duration = _int(chunk.get("eval_duration")) / NANOSECONDS
        server_energy(stats, chunk)
        return True

    def _not_api(self, line: str) -> str:
        if looks_like_html(line):
            return f"{self.server.name} sent an HTML page, not an Ollama API answer: a proxy in the way?"
        return f"{self.server.name} sent something that is not Ollama's NDJSON: {line.strip()[:80]!r}"

    def describe(self, error: Exception, answer: Answer) -> str:
        """httpx's connection errors in one line; anything else with its kind."""
        if isinstance(error, httpx.ConnectError):
            return self.dropped(answer, str(error) or "connection refused")
        if isinstance(error, httpx.TransportError):
            return self.dropped(answer, str(error) or type(error).__name__)
        return super().describe(error, answer)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


# -- show, pull, delete: the official client -----------------------------------------------------


ASK_TIMEOUT = 10.0
"""Seconds to wait for the answer to a short question (show, delete); a pull streams its progress
and may be silent for long (verifying a big download), so it has no read limit."""


def _client(server: Server, read_timeout: float | None = ASK_TIMEOUT) -> Any:
    import ollama

    settings = http_settings(server)
    return ollama.Client(host=server.url, headers=settings["headers"], verify=settings["verify"],
                         timeout=httpx.Timeout(CONNECT_TIMEOUT, read=read_timeout))


def _calling(server: Server, model: str, call: Callable[[Any], Any]) -> Any:
    """Run one client call, turning its errors into RemoteModelNotFound / RemoteError."""
    import ollama

    try:
        return call(_client(server))
    except ollama.ResponseError as error:
        raise status_error(server, model, error.status_code, str(error.error)) from None
    except (ConnectionError, httpx.TransportError) as error:
        raise RemoteError(f"cannot reach {server.name} at {server.url} ({error})") from None
    except ValueError as error:  # a body that is not JSON (an HTML page from a proxy)
        raise RemoteError(f"{server.name} did not answer like an Ollama server ({error})") from None


def show_model(server: Server, model: str) -> dict[str, Any]:
    """POST /api/show: details, model_info, template, parameters, modelfile, capabilities (a plain dict)."""
    response = _calling(server, model, lambda client: client.show(model))
    return response.model_dump(exclude_none=True, by_alias=True, mode="json")


def delete_model(server: Server, model: str) -> None:
    """DELETE /api/delete: the server removes the model's files."""
    _calling(server, model, lambda client: client.delete(model))


def pull_model(server: Server, model: str) -> Iterator[dict[str, Any]]:
    """POST /api/pull, streaming the server's progress lines (status, digest, total, completed)."""
    import ollama

    try:
        for progress in _client(server, read_timeout=None).pull(model, stream=True):
            yield progress.model_dump(exclude_none=True)
    except ollama.ResponseError as error:
        if error.status_code in (401, 403):
            raise refused_key(server) from None
        raise RemoteError(f"{server.name} could not pull '{model}': {error.error}") from None
    except (ConnectionError, httpx.TransportError) as error:
        raise RemoteError(f"cannot reach {server.name} at {server.url} ({error})") from None


__all__ = ["OllamaEngine", "RemoteModelNotFound", "delete_model", "pull_model", "show_model"]
