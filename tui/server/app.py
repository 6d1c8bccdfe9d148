"""The ASGI app of `whirr serve` (Starlette): Ollama's and OpenAI's routes over one Service,
with CORS (loopback origins, plus the ones given), an optional API key, an access-log line
per request in whirr.log (never the prompt), and errors in each API's own shape."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui.server.inputs import DEFAULT_BODY_LIMIT, ApiError
from tui.server.ollama import OllamaRoutes
from tui.server.openai import OpenAIRoutes, error_body
from tui.server.replies import LOG_NOTES
from tui.server.service import Service

access_log = logging.getLogger("whirr.server.access")
log = logging.getLogger("whirr.server")

LOOPBACK_ORIGINS = ("http://localhost", "https://localhost", "http://127.0.0.1", "https://127.0.0.1", "http://[::1]", "https://[::1]")


def origin_pattern(extra: Sequence[str]) -> str:
    """One regex for the allowed origins: loopback hosts on any port, and `extra` origins where
    `*` matches anything (OLLAMA_ORIGINS' convention, e.g. `chrome-extension://*`)."""
    loopback = "|".join(re.escape(o) + r"(?::\d+)?" for o in LOOPBACK_ORIGINS)
    others = [fnmatch.translate(o.strip()).removesuffix(r"\Z").removeprefix("(?s:").removesuffix(")") for o in extra if o.strip()]
    return "^(?:" + "|".join([loopback, *others]) + ")$"


def error_response(path: str, error: ApiError) -> JSONResponse:
    """An error in the shape of the API the path belongs to."""
    body = error_body(error) if path.startswith("/v1/") else {"error": error.message}
    return JSONResponse(body, status_code=error.status)


class AccessLog:
    """One line per request in whirr.log: method, path, model, status, tokens, duration, energy.
    Routes add the model and figures to the scope (tui.server.replies.note); the prompt never
    appears. Counts requests in the service's totals."""

    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        self.service.totals.requests += 1

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            notes = scope.get(LOG_NOTES, {})
            fields = [f"{scope['method']} {scope['path']}"]
            if "model" in notes:
                fields.append(f"model={json.dumps(notes['model'])}")
            fields.append(f"status={status or 'none'}")
            for key in ("prompt_tokens", "eval_tokens", "finish"):
                if key in notes:
                    fields.append(f"{key}={notes[key]}")
            fields.append(f"duration={time.perf_counter() - started:.3f}s")
            if "energy_j" in notes:
                fields.append(f"energy={notes['energy_j']:.3f}J")
            access_log.info("%s", " ".join(fields))


class ApiKey:
    """Requires `Authorization: Bearer KEY` on every request but `/` and CORS preflights."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] != "/" and scope["method"] != "OPTIONS":
            headers = dict(scope["headers"])
            given = headers.get(b"authorization", b"")
            scheme, _, token = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.key):
                error = ApiError(401, "unauthorized: send the server's API key as 'Authorization: Bearer KEY'")
                await error_response(scope["path"], error)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(
    service: Service,
    api_key: str | None = None,
    origins: Sequence[str] = (),
    body_limit: int = DEFAULT_BODY_LIMIT,
) -> Starlette:
    """The server app: Ollama's and OpenAI's routes over `service`."""
    routes = [*OllamaRoutes(service, body_limit).routes(), *OpenAIRoutes(service, body_limit).routes()]

    async def api_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error_response(request.url.path, error)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            message = "404 page not found"
        elif error.status_code == 405:
            message = "405 method not allowed"
        else:
            message = str(error.detail)
        return error_response(request.url.path, ApiError(error.status_code, message))

    async def crash(request: Request, error: Exception) -> Response:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=error)
        return error_response(request.url.path, ApiError(500, f"internal error: {type(error).__name__}: {error}"))

    middleware = [
        Middleware(AccessLog, service=service),
        Middleware(CORSMiddleware, allow_origin_regex=origin_pattern(origins), allow_methods=["*"], allow_headers=["*"]),
    ]
    if api_key:
        middleware.append(Middleware(ApiKey, key=api_key))
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(service.library.list)  # the first listing reads every header: not on a request
        yield
        service.close()

    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: crash},
        lifespan=lifespan,
    )
