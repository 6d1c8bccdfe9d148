"""Frames between whirr and a runner: a 4-byte big-endian length, then one JSON object.

JSON (the standard library's) is plenty: a token frame is about 60 bytes, and the pipe carries
well over 20,000 of them a second (`whirr bench --pipe`). Requests go down as {"op": ..., "id": n};
events come back as {"ev": ..., "id": n} for the request they answer.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from dataclasses import asdict, fields
from typing import Any, BinaryIO

from tui.engine.base import ChatMessage, ChatRequest, Stats
from tui.engine.options import Options

HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024
"""A frame longer than this means the stream is corrupt."""


class ProtocolError(Exception):
    """The other side sent something that is not a frame."""


def encode(message: dict[str, Any]) -> bytes:
    """One frame: the length, then the JSON body."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(body)) + body


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message from a buffered binary stream, or None at end of file."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes")
    body = stream.read(size)
    if len(body) < size:
        return None
    return json.loads(body)


class FrameWriter:
    """Writes frames to a file descriptor it owns, from any thread, whole (one lock)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        """Write one message; raises OSError when the other side has gone or it is closed."""
        data = memoryview(encode(message))
        with self._lock:
            if self._fd < 0:
                raise BrokenPipeError("the frame writer is closed")
            while data:
                data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        """Close the descriptor (after any frame being written); later sends raise OSError."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def options_to_dict(options: Options) -> dict[str, Any]:
    """Options as JSON-ready values (only what differs from the defaults)."""
    return {k: list(v) if k == "stop" else v for k, v in options.to_parameters().items()}


def options_from_dict(data: dict[str, Any]) -> Options:
    """Rebuild Options from `options_to_dict()`."""
    return Options().updated(**{k: tuple(v) if k == "stop" else v for k, v in data.items()})


def request_to_dict(request: ChatRequest) -> dict[str, Any]:
    """A ChatRequest as JSON-ready values (every field: a runner answers exactly what was asked)."""
    return {
        "messages": messages_to_list(request.messages),
        "options": options_to_dict(request.options),
        "template": request.template,
        "conversation_id": request.conversation_id,
        "ignore_eos": request.ignore_eos,
        "prompt": request.prompt,
        "context": list(request.context),
        "grammar": request.grammar,
        "return_context": request.return_context,
        "keep_alive": request.keep_alive,
    }


def request_from_dict(data: dict[str, Any]) -> ChatRequest:
    """Rebuild a ChatRequest from `request_to_dict()`."""
    return ChatRequest(
        messages=messages_from_list(data["messages"]),
        options=options_from_dict(data["options"]),
        template=data["template"],
        conversation_id=data["conversation_id"],
        ignore_eos=data["ignore_eos"],
        prompt=data["prompt"],
        context=tuple(data["context"]),
        grammar=data["grammar"],
        return_context=data["return_context"],
        keep_alive=data["keep_alive"],
    )


def messages_to_list(messages: Any) -> list[list[str]]:
    """Chat messages as [role, content] pairs."""
    return [[m.role, m.content] for m in messages]


def messages_from_list(data: list[list[str]]) -> list[ChatMessage]:
    """Rebuild chat messages from `messages_to_list()`."""
    return [ChatMessage(role, content) for role, content in data]  # type: ignore[arg-type]


_STATS_FIELDS = {f.name for f in fields(Stats)}


def stats_to_dict(stats: Stats) -> dict[str, Any]:
    """Statistics as JSON-ready values."""
    return asdict(stats)


def stats_from_dict(data: dict[str, Any]) -> Stats:
    """Rebuild Stats, ignoring fields this side does not know."""
    return Stats(**{k: v for k, v in data.items() if k in _STATS_FIELDS})
