"""Reading API requests: the JSON body (with a size limit), typed fields, options, keep_alive.

Every problem is an ApiError with the HTTP status to answer; the routes turn it into Ollama's
or OpenAI's error shape. Field types are checked by hand: a handful of fields per endpoint,
where a schema library would be a new dependency for little gain.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from tui.engine.keepalive import KeepAliveError, parse_keep_alive
from tui.engine.options import OPTION_FIELDS, Options, ParameterError, check_option, option_type

log = logging.getLogger("whirr.server")

DEFAULT_BODY_LIMIT = 32 * 1024 * 1024
"""Largest request body accepted (bytes); a 10 MB prompt fits, JSON escaping included."""


class ApiError(Exception):
    """A request that cannot be served: the HTTP status and a one-line message."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param


def bad_request(message: str, param: str | None = None) -> ApiError:
    """A 400 with `message`."""
    return ApiError(400, message, param=param)


async def read_json(request: Any, limit: int) -> dict[str, Any]:
    """The request's JSON object body; 413 past `limit` bytes (checked while reading), 400 for
    an empty body, malformed JSON or a body that is not an object."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body too large: over {limit // (1024 * 1024)} MB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body too large: over {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise bad_request("missing request body")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise bad_request(f"invalid JSON: {error}") from None
    if not isinstance(data, dict):
        raise bad_request(f"the request body must be a JSON object, not {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


_KINDS: dict[type, str] = {str: "a string", bool: "a boolean", list: "an array", dict: "an object", int: "an integer", float: "a number"}


def get(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """Field `name` of the body, checked to be of `kind` (null or missing: `default`)."""
    value = body.get(name)
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = any(
        isinstance(value, k) and not (k in (int, float) and isinstance(value, bool)) and not (k is int and isinstance(value, float))
        for k in kinds
    )
    if not ok:
        wanted = " or ".join(_KINDS[k] for k in kinds)
        raise bad_request(f"invalid value for '{name}': expected {wanted}, got {_json_type(value)}", param=name)
    return value


def model_name(body: dict[str, Any]) -> str:
    """The `model` field (Ollama's older `name` too); 400 when missing."""
    name = get(body, "model", str) or get(body, "name", str)
    if not name:
        raise bad_request("model is required", param="model")
    return name


def parse_options(raw: Any, base: Options) -> Options:
    """Ollama's `options` object on top of `base`, typed as Ollama's FromMap does (numbers for
    numbers, booleans, an array of strings for stop); unknown names are ignored with a log
    line, as Ollama does. 400 for a wrong type or a value out of range."""
    if raw is None:
        return base
    if not isinstance(raw, dict):
        raise bad_request(f"invalid value for 'options': expected an object, got {_json_type(raw)}", param="options")
    changes: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in OPTION_FIELDS:
            log.warning("invalid option provided: %s", name)
            continue
        if value is None:
            continue
        changes[name] = typed_option(name, value)
    return base.updated(**changes)


def typed_option(name: str, value: Any) -> Any:
    """A JSON value for option `name`, typed as Ollama's FromMap does and checked against the
    option's range (check_option); 400 otherwise."""
    kind = option_type(name)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request(f'option "{name}" must be of an array of strings', param="options")
        return tuple(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise bad_request(f'option "{name}" must be of type boolean', param="options")
        return value
    if not number:
        raise bad_request(f'option "{name}" must be of type {"integer" if kind is int else "float32"}', param="options")
    try:
        return check_option(name, float(value) if kind is float or not math.isfinite(value) else int(value))
    except ParameterError as error:
        raise bad_request(f"invalid option: {error}", param="options") from None


def keep_alive(body: dict[str, Any]) -> float | None:
    """The request's keep_alive in seconds, read as Ollama reads it (tui.engine.keepalive);
    None when it is missing (the server's keep_alive applies). 400 with Ollama's text."""
    value = body.get("keep_alive")
    if value is None:
        return None
    try:
        return parse_keep_alive(value, request=True)
    except KeepAliveError as error:
        raise bad_request(str(error), param="keep_alive") from None
