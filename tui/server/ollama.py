"""Ollama's API over whirr's library: shapes as Ollama 0.24's api/types.go, durations in integer
nanoseconds, errors as {"error": "..."} with Ollama's status codes, NDJSON streams."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tui.engine.base import ChatMessage, ChatRequest, EngineError, Stats, TokenEvent
from tui.engine.embedding import shortened
from tui.engine.grammar import grammar_for_format
from tui.models.personas import RunTarget
from tui.models.library import ModelEntry
from tui.server.inputs import ApiError, bad_request, get, keep_alive, model_name, parse_options, read_json
from tui.server.replies import answer_stream, energy_fields, note, note_served, rfc3339, whole_answer
from tui.server.service import Served, Service

OLLAMA_VERSION = "0.24.0"
"""The Ollama release whose API shapes whirr follows (what /api/version says)."""
NDJSON = "application/x-ndjson"
ROLES = ("system", "user", "assistant", "tool")


def nanoseconds(seconds: float) -> int:
    """A duration as Go's time.Duration in JSON: integer nanoseconds."""
    return int(round(seconds * 1e9))


def metrics(stats: Stats) -> dict[str, int]:
    """Ollama's Metrics fields of a final chunk."""
    return {
        "total_duration": nanoseconds(stats.total_duration),
        "load_duration": nanoseconds(stats.load_duration),
        "prompt_eval_count": stats.prompt_eval_count,
        "prompt_eval_duration": nanoseconds(stats.prompt_eval_duration),
        "eval_count": stats.eval_count,
        "eval_duration": nanoseconds(stats.eval_duration),
    }


def json_line(data: dict[str, Any]) -> bytes:
    """One NDJSON line."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class OllamaRoutes:
    """The /api/* endpoints and `/`, bound to one Service."""

    def __init__(self, service: Service, body_limit: int) -> None:
        self.service = service
        self.body_limit = body_limit

    def routes(self) -> list[Route]:
        """Starlette routes for Ollama's API."""
        post = ["POST"]
        return [
            Route("/", self.root, methods=["GET", "HEAD"]),
            Route("/api/version", self.version, methods=["GET", "HEAD"]),
            Route("/api/tags", self.tags, methods=["GET", "HEAD"]),
            Route("/api/ps", self.ps, methods=["GET"]),
            Route("/api/chat", self.chat, methods=post),
            Route("/api/generate", self.generate, methods=post),
            Route("/api/show", self.show, methods=post),
            Route("/api/embed", self.embed, methods=post),
            Route("/api/embeddings", self.embeddings, methods=post),
            Route("/api/pull", self.pull, methods=post),
            Route("/api/create", self.create, methods=post),
            Route("/api/copy", self.copy, methods=post),
            Route("/api/delete", self.delete, methods=["DELETE"]),
        ]

    async def _body(self, request: Request) -> dict[str, Any]:
        return await read_json(request, self.body_limit)

    # -- small endpoints -----------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        """Ollama's health check answer, which clients look for."""
        return PlainTextResponse("Ollama is running")

    async def version(self, request: Request) -> Response:
        """The Ollama API version whirr follows."""
        return JSONResponse({"version": OLLAMA_VERSION})

    async def tags(self, request: Request) -> Response:
        """Every usable model and persona, as Ollama lists its models."""
        models = await asyncio.to_thread(self._tags)
        return JSONResponse({"models": models})

    def _tags(self) -> list[dict[str, Any]]:
        service = self.service
        entries = [e for e in service.library.list() if e.usable]
        by_name = {e.name: e for e in entries}
        models = [model_summary(e.name, e, rfc3339(e.modified)) for e in entries]
        for persona in service.personas.list():
            base = by_name.get(persona.base.lower()) or by_name.get(f"{persona.base.lower()}:latest")
            if base is None:
                try:
                    base = service.resolve(persona.name).entry
                except ApiError:
                    continue  # a persona whose FROM is gone is not runnable
            summary = model_summary(persona.name, base, rfc3339(persona.created), parent=persona.base)
            summary["digest"] = hashlib.sha256(persona.name.encode() + repr(persona.modelfile.commands).encode()).hexdigest()
            models.append(summary)
        models.sort(key=lambda m: m["name"])
        return models

    async def ps(self, request: Request) -> Response:
        """The models loaded now."""
        from tui.models.fit import estimate_memory

        models = []
        for resident in self.service.residents():
            entry = resident.target.entry
            summary = model_summary(resident.target.name, entry, "")
            del summary["modified_at"]
            summary["size"] = estimate_memory(entry.info, entry.size, resident.num_ctx).total
            summary["expires_at"] = rfc3339(resident.expires_at) if resident.expires_at is not None else "9999-12-31T23:59:59Z"
            summary["size_vram"] = 0
            summary["context_length"] = resident.num_ctx
            models.append(summary)
        return JSONResponse({"models": models})

    async def show(self, request: Request) -> Response:
        """A model's details, model_info, parameters, template, Modelfile and capabilities."""
        from tui.models.personas import modelfile_for

        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        target = self.service.resolve(name)
        entry = target.entry
        info = entry.info
        reply: dict[str, Any] = {
            "modelfile": modelfile_for(target),
            "parameters": parameters_text(target.parameters),
            "template": target.template or (info.chat_template if info else "") or "",
            "details": details(entry, parent=target.persona.base if target.persona else ""),
            "model_info": model_info(entry, self.service.pooling_of(entry)),
            "capabilities": capabilities(entry),
            "modified_at": rfc3339(target.persona.created if target.persona else entry.modified),
        }
        if target.system:
            reply["system"] = target.system
        licenses = [*target.licenses] or ([info.license] if info and info.license else [])
        if licenses:
            reply["license"] = "\n".join(licenses)
        if target.messages:
            reply["messages"] = [{"role": m.role, "content": m.content} for m in target.messages]
        return JSONResponse(reply)

    # -- answers -------------------------------------------------------------------------------

    async def chat(self, request: Request) -> Response:
        """/api/chat: stream NDJSON by default, or one JSON with stream false."""
        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        raw_messages = get(body, "messages", list, [])
        streaming = get(body, "stream", bool, True)
        seconds = keep_alive(body)
        target = self.service.resolve(name)
        options = parse_options(body.get("options"), self.service.options_for(target))
        empty = {"model": name, "created_at": "", "message": {"role": "assistant", "content": ""}, "done": True}
        if not raw_messages:
            return await self._load_or_unload(target, options, seconds, empty)
        messages = parse_messages(raw_messages)
        grammar = format_grammar(body.get("format"))
        system = None if any(m.role == "system" for m in messages) else (target.system or self.service.config.system or None)
        chat_request = ChatRequest(
            target.conversation(system, messages), options, template=target.template, grammar=grammar, keep_alive=seconds
        )
        job = self.service.answer(target, chat_request)

        def piece(text: str) -> dict[str, Any]:
            return {"model": name, "created_at": rfc3339(), "message": {"role": "assistant", "content": text}, "done": False}

        def last(served: Served, text: str) -> dict[str, Any]:
            stats = served.done.stats
            return {
                "model": name,
                "created_at": rfc3339(),
                "message": {"role": "assistant", "content": text},
                "done_reason": stats.finish_reason,
                "done": True,
                **metrics(stats),
                **energy_fields(served.energy),
            }

        return await self._reply(request, job, streaming, piece, last)

    async def generate(self, request: Request) -> Response:
        """/api/generate: a prompt with the model's template (or raw), system, template, context."""
        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        prompt = get(body, "prompt", str, "")
        streaming = get(body, "stream", bool, True)
        raw = get(body, "raw", bool, False)
        system = get(body, "system", str, "")
        template = get(body, "template", str, "")
        context = get(body, "context", list, [])
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in context):
            raise bad_request("invalid value for 'context': expected an array of integers", param="context")
        if get(body, "images", list):
            raise bad_request(f"{json.dumps(name)} does not support images")
        if get(body, "suffix", str):
            raise bad_request(f"registry.ollama.ai/library/{name} does not support insert")
        seconds = keep_alive(body)
        target = self.service.resolve(name)
        options = parse_options(body.get("options"), self.service.options_for(target))
        empty = {"model": name, "created_at": "", "response": "", "done": True}
        if not prompt:
            return await self._load_or_unload(target, options, seconds, empty)
        if raw and (template or system or context):
            raise bad_request("raw mode does not support template, system, or context")
        grammar = format_grammar(body.get("format"))
        if raw:
            chat_request = ChatRequest([], options, prompt=prompt, grammar=grammar, keep_alive=seconds)
        else:
            messages = target.conversation(system or target.system or self.service.config.system or None, [], prompt)
            chat_request = ChatRequest(
                messages, options, template=template or target.template, context=tuple(context), grammar=grammar,
                return_context=True, keep_alive=seconds,
            )
        job = self.service.answer(target, chat_request)

        def piece(text: str) -> dict[str, Any]:
            return {"model": name, "created_at": rfc3339(), "response": text, "done": False}

        def last(served: Served, text: str) -> dict[str, Any]:
            stats = served.done.stats
            reply: dict[str, Any] = {"model": name, "created_at": rfc3339(), "response": text, "done": True, "done_reason": stats.finish_reason}
            if served.done.context:
                reply["context"] = list(served.done.context)
            return {**reply, **metrics(stats), **energy_fields(served.energy)}

        return await self._reply(request, job, streaming, piece, last)

    async def _load_or_unload(self, target: RunTarget, options: Any, seconds: float | None, reply: dict[str, Any]) -> Response:
        """Ollama's empty request: keep_alive 0 unloads the model, anything else loads it."""
        if seconds == 0:
            await self.service.unload(target)
            reason = "unload"
        else:
            await self.service.load(target, options, seconds)
            reason = "load"
        return JSONResponse({**reply, "created_at": rfc3339(), "done_reason": reason})

    async def _reply(
        self,
        request: Request,
        job: Any,
        streaming: bool,
        piece: Callable[[str], dict[str, Any]],
        last: Callable[[Served, str], dict[str, Any]],
    ) -> Response:
        """The answer as NDJSON lines or one JSON object; an error before any text is an HTTP
        error (ApiError, which the app renders as Ollama's {"error"}), an error after it an
        {"error"} line (as Ollama does)."""
        if not streaming:
            text, served = await whole_answer(request, job)
            return JSONResponse(last(served, text))
        rest = await answer_stream(request, job)

        async def lines() -> AsyncIterator[bytes]:
            async for event in rest:
                if isinstance(event, TokenEvent):
                    yield json_line(piece(event.text))
                else:
                    note_served(request, event)
                    stats = event.done.stats
                    if stats.finish_reason == "error":
                        yield json_line({"error": stats.error})
                    elif stats.finish_reason != "cancelled":
                        yield json_line(last(event, ""))

        return StreamingResponse(lines(), media_type=NDJSON)

    # -- embeddings ----------------------------------------------------------------------------

    async def embed(self, request: Request) -> Response:
        """/api/embed: normalized vectors for a string or a list of strings."""
        import time

        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        started = time.perf_counter()
        raw_input = body.get("input")
        if isinstance(raw_input, str):
            texts = [raw_input] if raw_input else []
        elif isinstance(raw_input, list) and all(isinstance(t, str) for t in raw_input):
            texts = list(raw_input)
        elif raw_input is None:
            texts = []
        else:
            raise bad_request("invalid input type", param="input")
        truncate = get(body, "truncate", bool, True)
        dimensions = get(body, "dimensions", int)
        target = self.service.resolve(name)
        options = parse_options(body.get("options"), self.service.options_for(target))
        if not texts:
            return JSONResponse({"model": name, "embeddings": []})
        result = await self.service.embed(target, texts, options, truncate, normalize=True)
        note(request, prompt_tokens=result.prompt_tokens)
        if dimensions is not None and not 0 < dimensions <= len(result.vectors[0]):
            raise bad_request(f"dimensions must be between 1 and {len(result.vectors[0])}", param="dimensions")
        return JSONResponse(
            {
                "model": name,
                "embeddings": [shortened(v, dimensions) for v in result.vectors],
                "total_duration": nanoseconds(time.perf_counter() - started),
                "prompt_eval_count": result.prompt_tokens,
            }
        )

    async def embeddings(self, request: Request) -> Response:
        """/api/embeddings (Ollama's older endpoint): one vector for `prompt`, not normalized."""
        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        prompt = get(body, "prompt", str, "")
        target = self.service.resolve(name)
        options = parse_options(body.get("options"), self.service.options_for(target))
        if not prompt:
            return JSONResponse({"embedding": []})
        result = await self.service.embed(target, [prompt], options, truncate=True, normalize=False)
        note(request, prompt_tokens=result.prompt_tokens)
        return JSONResponse({"embedding": result.vectors[0]})

    # -- the library ---------------------------------------------------------------------------

    async def pull(self, request: Request) -> Response:
        """/api/pull from Hugging Face (hf.co/ORG/REPO[:QUANT]) with Ollama's progress lines."""
        from tui.server.library_ops import pull_progress

        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        streaming = get(body, "stream", bool, True)
        progress = pull_progress(self.service, name)
        return await self._progress(request, progress, streaming)

    async def create(self, request: Request) -> Response:
        """/api/create: a persona from a Modelfile's fields (from, system, template, parameters,
        messages, license)."""
        from tui.server.library_ops import create_persona_from

        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        streaming = get(body, "stream", bool, True)
        base = await asyncio.to_thread(create_persona_from, self.service, name, body)

        async def progress() -> AsyncIterator[dict[str, Any]]:
            yield {"status": f"using {base}"}
            yield {"status": "writing manifest"}
            yield {"status": "success"}

        return await self._progress(request, progress(), streaming)

    async def _progress(self, request: Request, progress: AsyncIterator[dict[str, Any]], streaming: bool) -> Response:
        """Progress lines as NDJSON, or only the last one with stream false; an error before the
        first line is an HTTP error, later an {"error"} line."""
        if not streaming:
            final: dict[str, Any] = {}
            async for line in progress:
                final = line
            return JSONResponse(final)
        try:
            first = await anext(progress)
        except StopAsyncIteration:
            return JSONResponse({})

        async def lines() -> AsyncIterator[bytes]:
            yield json_line(first)
            try:
                async for line in progress:
                    yield json_line(line)
            except ApiError as error:
                yield json_line({"error": error.message})

        return StreamingResponse(lines(), media_type=NDJSON)

    async def copy(self, request: Request) -> Response:
        """/api/copy: a persona copied, or another name for a model."""
        from tui.server.library_ops import copy_model

        body = await self._body(request)
        source = get(body, "source", str, "")
        destination = get(body, "destination", str, "")
        if not source:
            raise bad_request('source "" is invalid')
        if not destination:
            raise bad_request('destination "" is invalid')
        note(request, model=source)
        await asyncio.to_thread(copy_model, self.service, source, destination)
        return Response(status_code=200)

    async def delete(self, request: Request) -> Response:
        """/api/delete: a persona, or a model (whirr's own files deleted, imports forgotten)."""
        from tui.server.library_ops import delete_model

        body = await self._body(request)
        name = model_name(body)
        note(request, model=name)
        await delete_model(self.service, name)
        return Response(status_code=200)


# -- shapes ------------------------------------------------------------------------------------


def parse_messages(raw: list[Any]) -> list[ChatMessage]:
    """Ollama's messages: objects with a role and a string content; images are refused."""
    messages = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise bad_request(f"invalid message {index}: expected an object", param="messages")
        role = item.get("role")
        content = item.get("content", "")
        if role not in ROLES:
            raise bad_request(f"invalid message {index}: role must be one of {', '.join(ROLES)}", param="messages")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise bad_request(f"invalid message {index}: content must be a string", param="messages")
        if item.get("images"):
            raise bad_request("this model does not support images", param="messages")
        messages.append(ChatMessage(role, content))
    return messages


def format_grammar(value: Any) -> str | None:
    """The grammar for Ollama's `format`; 400 for a format that is neither "json" nor a schema."""
    try:
        return grammar_for_format(value)
    except EngineError as error:
        raise bad_request(str(error), param="format") from None


def details(entry: ModelEntry, parent: str = "") -> dict[str, Any]:
    """Ollama's ModelDetails of a model."""
    info = entry.info
    family = info.architecture if info else ""
    return {
        "parent_model": parent,
        "format": "gguf",
        "family": family,
        "families": [family] if family else None,
        "parameter_size": info.parameters_human if info else "",
        "quantization_level": info.quantization if info else "",
    }


def digest(entry: ModelEntry) -> str:
    """A 64-digit digest whose first 12 digits are whirr's model ID (what `whirr list` shows)."""
    return entry.id + hashlib.sha256(f"{entry.id}|{entry.name}".encode()).hexdigest()[: 64 - len(entry.id)]


def model_summary(name: str, entry: ModelEntry, modified_at: str, parent: str = "") -> dict[str, Any]:
    """One model of /api/tags."""
    return {
        "name": name,
        "model": name,
        "modified_at": modified_at,
        "size": entry.size,
        "digest": digest(entry),
        "details": details(entry, parent),
    }


def parameters_text(parameters: dict[str, Any]) -> str:
    """Parameters as Ollama's /api/show writes them: a padded name and the value per line."""
    lines = []
    for key, value in parameters.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            shown = json.dumps(item, ensure_ascii=False) if isinstance(item, str) else json.dumps(item)
            lines.append(f"{key:<30} {shown}")
    return "\n".join(lines)


def model_info(entry: ModelEntry, pooling: str) -> dict[str, Any]:
    """The GGUF header's keys whirr reads, as Ollama's model_info, and how embeddings are pooled."""
    info = entry.info
    if info is None:
        return {}
    arch = info.architecture
    values: dict[str, Any] = {
        "general.architecture": arch,
        "general.name": info.name,
        "general.parameter_count": info.parameter_count,
        "general.size_label": info.size_label,
        "general.license": info.license,
        f"{arch}.context_length": info.context_length,
        f"{arch}.embedding_length": info.embedding_length,
        f"{arch}.block_count": info.block_count,
        f"{arch}.attention.head_count": info.head_count,
        f"{arch}.attention.head_count_kv": info.head_count_kv,
        f"{arch}.attention.key_length": info.key_length,
        f"{arch}.attention.value_length": info.value_length,
        f"{arch}.rope.freq_base": info.rope_freq_base,
        "tokenizer.ggml.model": info.tokenizer,
        "whirr.embedding.pooling": pooling,
    }
    return {k: v for k, v in values.items() if v not in ("", 0, 0.0, None)}


def capabilities(entry: ModelEntry) -> list[str]:
    """What a model can do, in Ollama's words: embedding models embed, others complete."""
    from tui.engine.embedding import OWN_POOLING_ARCHITECTURES

    architecture = entry.info.architecture if entry.info is not None else ""
    return ["embedding"] if architecture in OWN_POOLING_ARCHITECTURES else ["completion"]
