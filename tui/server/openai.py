"""The OpenAI API over whirr's library: /v1/chat/completions, /v1/completions (a raw prompt,
no chat template), /v1/models, /v1/models/{id}, /v1/embeddings. Streams are server-sent events
ending with `data: [DONE]`; errors are {"error": {message, type, param, code}}."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tui.engine.base import ChatMessage, ChatRequest, EngineError, Stats, TokenEvent
from tui.engine.embedding import shortened
from tui.engine.grammar import grammar_for_format
from tui.engine.options import Options
from tui.server.inputs import ApiError, bad_request, get, read_json, typed_option
from tui.server.replies import answer_stream, energy_fields, note, note_served, whole_answer
from tui.server.service import Job, Served, Service

FINGERPRINT = "fp_whirr"
SSE = "text/event-stream"


def error_body(error: ApiError) -> dict[str, Any]:
    """OpenAI's error object for an ApiError."""
    kind = "invalid_request_error" if error.status < 500 else "api_error"
    if error.status == 401:
        kind = "authentication_error"
    return {"error": {"message": error.message, "type": kind, "param": error.param, "code": error.code}}


def usage(served: Served) -> dict[str, Any]:
    """OpenAI's usage object, with the answer's energy."""
    stats = served.done.stats
    prompt = stats.prompt_eval_count + stats.prompt_cached_count
    return {
        "prompt_tokens": prompt,
        "completion_tokens": stats.eval_count,
        "total_tokens": prompt + stats.eval_count,
        **energy_fields(served.energy),
    }


def finish_reason(stats: Stats) -> str:
    """OpenAI's finish_reason: stop or length."""
    return "length" if stats.finish_reason == "length" else "stop"


def sse(data: dict[str, Any] | str) -> bytes:
    """One server-sent event."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"data: {text}\n\n".encode("utf-8")


def content_text(content: Any, index: int) -> str:
    """A message's content: a string, or text parts (other parts are refused)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise bad_request(f"invalid message {index}: only text content parts are supported", param="messages")
            texts.append(part["text"])
        return "".join(texts)
    raise bad_request(f"invalid message {index}: content must be a string or an array of parts", param="messages")


def sampling_options(body: dict[str, Any], base: Options) -> Options:
    """OpenAI's sampling fields as Ollama options over `base`, each checked as an option is."""
    changes: dict[str, Any] = {}
    for field, option in (("temperature", "temperature"), ("top_p", "top_p"), ("frequency_penalty", "frequency_penalty"),
                          ("presence_penalty", "presence_penalty"), ("seed", "seed"), ("max_tokens", "num_predict"),
                          ("max_completion_tokens", "num_predict")):
        value = get(body, field, (int, float))
        if value is not None:
            changes[option] = typed_option(option, value)
    if changes.get("num_predict", 1) < 1:
        raise bad_request("max_tokens must be at least 1", param="max_tokens")
    stop = body.get("stop")
    if isinstance(stop, str):
        changes["stop"] = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        changes["stop"] = tuple(stop)
    elif stop is not None:
        raise bad_request("stop must be a string or an array of strings", param="stop")
    if get(body, "n", int, 1) != 1:
        raise bad_request("only n=1 is supported", param="n")
    return base.updated(**changes)


def response_grammar(body: dict[str, Any]) -> str | None:
    """The grammar for response_format: json_object, or json_schema's schema."""
    fmt = get(body, "response_format", dict)
    if fmt is None or fmt.get("type") in (None, "text"):
        return None
    try:
        if fmt.get("type") == "json_object":
            return grammar_for_format("json")
        if fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema")
            return grammar_for_format(schema if isinstance(schema, dict) else "json")
    except EngineError as error:
        raise bad_request(str(error), param="response_format") from None
    raise bad_request(f"unknown response_format type {json.dumps(fmt.get('type'))}", param="response_format")


class OpenAIRoutes:
    """The /v1/* endpoints, bound to one Service."""

    def __init__(self, service: Service, body_limit: int) -> None:
        self.service = service
        self.body_limit = body_limit

    def routes(self) -> list[Route]:
        """Starlette routes for the OpenAI API."""
        return [
            Route("/v1/chat/completions", self.chat_completions, methods=["POST"]),
            Route("/v1/completions", self.completions, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/models/{model:path}", self.model, methods=["GET"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
        ]

    async def _start(self, request: Request) -> tuple[dict[str, Any], str, Any, Options]:
        body = await read_json(request, self.body_limit)
        name = get(body, "model", str, "")
        if not name:
            raise bad_request("you must provide a model parameter", param="model")
        note(request, model=name)
        target = self.service.resolve(name)
        return body, name, target, sampling_options(body, self.service.options_for(target))

    async def chat_completions(self, request: Request) -> Response:
        """Chat completions, streamed as SSE or whole."""
        body, name, target, options = await self._start(request)
        raw = get(body, "messages", list, [])
        if not raw:
            raise bad_request("'messages' must contain at least one message", param="messages")
        messages = []
        for index, item in enumerate(raw):
            if not isinstance(item, dict) or item.get("role") not in ("system", "developer", "user", "assistant", "tool"):
                raise bad_request(f"invalid message {index}: role must be system, user, assistant or tool", param="messages")
            role = "system" if item["role"] == "developer" else item["role"]
            messages.append(ChatMessage(role, content_text(item.get("content"), index)))
        system = None if any(m.role == "system" for m in messages) else (target.system or self.service.config.system or None)
        chat_request = ChatRequest(target.conversation(system, messages), options, template=target.template, grammar=response_grammar(body))
        job = self.service.answer(target, chat_request)
        ident = f"chatcmpl-{secrets.token_hex(12)}"
        created = int(time.time())

        def chunk(delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
            return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": name, "system_fingerprint": FINGERPRINT,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}]}

        def whole(served: Served, text: str) -> dict[str, Any]:
            return {"id": ident, "object": "chat.completion", "created": created, "model": name, "system_fingerprint": FINGERPRINT,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                                 "finish_reason": finish_reason(served.done.stats)}],
                    "usage": usage(served)}

        first_piece = [True]

        def piece(text: str) -> dict[str, Any]:
            delta = {"role": "assistant", "content": text} if first_piece[0] else {"content": text}
            first_piece[0] = False
            return chunk(delta, None)

        def end(served: Served) -> list[dict[str, Any]]:
            return [chunk({}, finish_reason(served.done.stats))]

        def usage_chunk(served: Served) -> dict[str, Any]:
            return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": name,
                    "system_fingerprint": FINGERPRINT, "choices": [], "usage": usage(served)}

        return await self._reply(request, job, body, piece, end, usage_chunk, whole)

    async def completions(self, request: Request) -> Response:
        """Text completions of a raw prompt (no chat template), streamed as SSE or whole."""
        body, name, target, options = await self._start(request)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise bad_request("prompt must be a string (one prompt per request)", param="prompt")
        if get(body, "suffix", str) or get(body, "echo", bool):
            raise bad_request("suffix and echo are not supported", param="suffix")
        job = self.service.answer(target, ChatRequest([], options, prompt=prompt, grammar=response_grammar(body)))
        ident = f"cmpl-{secrets.token_hex(12)}"
        created = int(time.time())

        def choice(text: str, reason: str | None) -> dict[str, Any]:
            return {"id": ident, "object": "text_completion", "created": created, "model": name, "system_fingerprint": FINGERPRINT,
                    "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": reason}]}

        def whole(served: Served, text: str) -> dict[str, Any]:
            return {**choice(text, finish_reason(served.done.stats)), "usage": usage(served)}

        def usage_chunk(served: Served) -> dict[str, Any]:
            return {**choice("", None), "choices": [], "usage": usage(served)}

        return await self._reply(
            request, job, body, lambda text: choice(text, None), lambda s: [choice("", finish_reason(s.done.stats))], usage_chunk, whole
        )

    async def _reply(
        self,
        request: Request,
        job: Job,
        body: dict[str, Any],
        piece: Callable[[str], dict[str, Any]],
        end: Callable[[Served], list[dict[str, Any]]],
        usage_chunk: Callable[[Served], dict[str, Any]],
        whole: Callable[[Served, str], dict[str, Any]],
    ) -> Response:
        """SSE chunks then [DONE] (and a usage chunk with stream_options.include_usage), or one
        JSON object; an error before any text is an HTTP error, after it an error event."""
        if not get(body, "stream", bool, False):
            text, served = await whole_answer(request, job)
            return JSONResponse(whole(served, text))
        include_usage = bool((get(body, "stream_options", dict, {}) or {}).get("include_usage"))
        rest = await answer_stream(request, job)

        async def events() -> AsyncIterator[bytes]:
            async for event in rest:
                if isinstance(event, TokenEvent):
                    yield sse(piece(event.text))
                    continue
                note_served(request, event)
                stats = event.done.stats
                if stats.finish_reason == "cancelled":
                    return
                if stats.finish_reason == "error":
                    yield sse(error_body(ApiError(500, stats.error)))
                    return
                for item in end(event):
                    yield sse(item)
                if include_usage:
                    yield sse(usage_chunk(event))
                yield sse("[DONE]")

        return StreamingResponse(events(), media_type=SSE, headers={"Cache-Control": "no-cache"})

    async def models(self, request: Request) -> Response:
        """Every usable model and persona."""
        return JSONResponse({"object": "list", "data": await asyncio.to_thread(self._models)})

    def _models(self) -> list[dict[str, Any]]:
        service = self.service
        data = [{"id": e.name, "object": "model", "created": int(e.modified), "owned_by": e.source}
                for e in service.library.list() if e.usable]
        data += [{"id": p.name, "object": "model", "created": int(p.created), "owned_by": "persona"} for p in service.personas.list()]
        return sorted(data, key=lambda m: m["id"])

    async def model(self, request: Request) -> Response:
        """One model by id; 404 (OpenAI's shape) when there is none."""
        wanted = request.path_params["model"]
        for item in await asyncio.to_thread(self._models):
            if item["id"] == wanted or item["id"] == f"{wanted}:latest":
                return JSONResponse(item)
        raise ApiError(404, f"The model '{wanted}' does not exist", code="model_not_found", param="model")

    async def embeddings(self, request: Request) -> Response:
        """Embeddings of a string or a list of strings, as floats or base64."""
        body = await read_json(request, self.body_limit)
        name = get(body, "model", str, "")
        if not name:
            raise bad_request("you must provide a model parameter", param="model")
        note(request, model=name)
        raw = body.get("input")
        if isinstance(raw, str):
            texts = [raw]
        elif isinstance(raw, list) and raw and all(isinstance(t, str) for t in raw):
            texts = list(raw)
        else:
            raise bad_request("input must be a string or a non-empty array of strings (token arrays are not supported)", param="input")
        encoding = get(body, "encoding_format", str, "float")
        if encoding not in ("float", "base64"):
            raise bad_request("encoding_format must be 'float' or 'base64'", param="encoding_format")
        dimensions = get(body, "dimensions", int)
        target = self.service.resolve(name)
        result = await self.service.embed(target, texts, self.service.options_for(target), truncate=True, normalize=True)
        note(request, prompt_tokens=result.prompt_tokens)
        data = []
        for index, vector in enumerate(result.vectors):
            if dimensions is not None:
                if not 0 < dimensions <= len(vector):
                    raise bad_request(f"dimensions must be between 1 and {len(vector)}", param="dimensions")
                vector = shortened(vector, dimensions)
            shown: Any = vector
            if encoding == "base64":
                shown = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
            data.append({"object": "embedding", "embedding": shown, "index": index})
        return JSONResponse({"object": "list", "data": data, "model": name,
                             "usage": {"prompt_tokens": result.prompt_tokens, "total_tokens": result.prompt_tokens}})
