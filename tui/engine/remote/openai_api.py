"""OpenAI-compatible servers (vLLM, llama.cpp's llama-server, LM Studio, llama-cpp-python's
server...): /v1/chat/completions streamed as server-sent events, with the official `openai` client.

Options go under their OpenAI names where one exists (temperature, top_p, seed, max_tokens, stop,
presence and frequency penalty); top_k, min_p and repeat_penalty go as extra body fields, which
vLLM and llama-server read, when they differ from the defaults. Any other option that was set has
no field in this API: the answer's statistics list it as not sent.

Counts come from the server's `usage` (asked for with stream_options.include_usage) when it sends
one, else streamed pieces are counted; either way the durations are timed on this machine, and
the statistics say which (`timing`: "usage" or "counted").
"""

from __future__ import annotations

import json
from typing import Any

import openai

from tui.engine.base import ChatRequest
from tui.engine.options import Options
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

EXTRA_BODY = ("top_k", "min_p", "repeat_penalty")
"""Options sent as extra body fields (not in OpenAI's API; vLLM and llama-server take them)."""
SENT = frozenset({"temperature", "top_p", "seed", "num_predict", "stop", "presence_penalty", "frequency_penalty", *EXTRA_BODY})


def request_options(options: Options) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]:
    """(OpenAI arguments, extra body fields, names of the set options that are not sent)."""
    changed = options.to_parameters()
    arguments: dict[str, Any] = {
        "temperature": options.temperature,
        "top_p": options.top_p,
        "presence_penalty": options.presence_penalty,
        "frequency_penalty": options.frequency_penalty,
    }
    if options.seed >= 0:
        arguments["seed"] = options.seed
    if options.num_predict > 0:
        arguments["max_tokens"] = options.num_predict
    if options.stop:
        arguments["stop"] = list(options.stop)
    extra = {name: changed[name] for name in EXTRA_BODY if name in changed}
    return arguments, extra, tuple(sorted(name for name in changed if name not in SENT))


def make_client(server: Server) -> openai.AsyncOpenAI:
    """An async client for `server`: its key (a placeholder when none: the client wants one), no
    retries (a failure shows at once), TLS checked with the system's certificates unless the
    server says `verify = false`, no read timeout."""
    return openai.AsyncOpenAI(
        api_key=server.api_key or "no-key",
        base_url=server.url,
        max_retries=0,
        timeout=openai.Timeout(CONNECT_TIMEOUT, read=None),
        http_client=openai.DefaultAsyncHttpxClient(verify=server.ssl_context()),
    )


class OpenAIEngine(RemoteEngine):
    """A model on an OpenAI-compatible server."""

    def check_model(self) -> None:
        """GET /models: the model must be listed (many servers answer any name, so this is the
        only check that works everywhere); the server's `models` setting only filters listings."""
        from tui.models.remote import fetch_models

        try:
            models = fetch_models(self.server, timeout=CONNECT_TIMEOUT, every=True)
        except RuntimeError as error:
            raise RemoteError(str(error)) from None
        if not any(entry.name == self.name for entry in models):
            raise RemoteModelNotFound(self.server, self.model)

    async def stream(self, request: ChatRequest, answer: Answer) -> None:
        arguments, extra, not_sent = request_options(request.options)
        stats = answer.stats
        stats.options_not_sent, stats.timing = not_sent, "counted"
        finished = False
        async with make_client(self.server) as client:
            stream = await client.chat.completions.create(
                model=self.model,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],  # type: ignore[misc]
                stream=True,
                stream_options={"include_usage": True},
                extra_body=extra or None,
                **arguments,
            )
            async with stream:
                async for chunk in stream:
                    extras = chunk.model_extra or {}
                    server_energy(stats, extras)
                    usage = chunk.usage
                    if usage is not None:
                        stats.timing = "usage"
                        stats.prompt_eval_count = usage.prompt_tokens or 0
                        stats.eval_count = usage.completion_tokens or 0
                        server_energy(stats, usage.model_extra or {})
                    for choice in chunk.choices:
                        delta = choice.delta
                        reasoning = (delta.model_extra or {}) if delta is not None else {}
                        answer.think(str(reasoning.get("reasoning_content") or reasoning.get("reasoning") or ""))
                        answer.say(delta.content or "" if delta is not None else "")
                        if choice.finish_reason:
                            finished = True
                            stats.finish_reason = "length" if choice.finish_reason == "length" else "stop"
        if not finished:
            what = "the stream ended before the answer did" if answer.pieces else "the stream ended without an answer"
            raise RemoteError(self.dropped(answer, what) if answer.pieces else
                              f"{self.server.name}: {what} (is it an OpenAI-compatible server?)")

    def describe(self, error: Exception, answer: Answer) -> str:
        """The client's errors in one line: a refused key, a missing model, an HTML page..."""
        if isinstance(error, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return str(refused_key(self.server))
        if isinstance(error, openai.APIStatusError):
            return str(status_error(self.server, self.model, error.status_code, _body_text(error)))
        if isinstance(error, openai.APIConnectionError):
            cause = error.__cause__
            return self.dropped(answer, str(cause) if cause is not None and str(cause) else error.message)
        if isinstance(error, json.JSONDecodeError):
            if looks_like_html(error.doc):
                return f"{self.server.name} sent an HTML page, not an API answer: a proxy in the way?"
            return f"{self.server.name} sent something that is not JSON: {error.doc.strip()[:80]!r}"
        return super().describe(error, answer)


def _body_text(error: openai.APIStatusError) -> str:
    try:
        return error.response.text
    except Exception:  # the body of a streamed response may not have been read
        return error.message
