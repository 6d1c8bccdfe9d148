"""What both APIs share when they answer: timestamps, the energy fields, the access-log notes,
and streaming an answer while watching for the client to go away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from tui.engine.base import StatusEvent, TokenEvent
from tui.meters.answer import AnswerEnergy
from tui.server.inputs import ApiError
from tui.server.service import Job, Served

LOG_NOTES = "whirr.log_notes"
"""Where a route leaves what the access log should say about its request (in the ASGI scope)."""


def note(request: Any, **fields: Any) -> None:
    """Add fields (model, prompt_tokens, eval_tokens, energy_j) to the request's access-log line."""
    request.scope.setdefault(LOG_NOTES, {}).update(fields)


def note_served(request: Any, served: Served) -> None:
    """The access-log fields of an answer."""
    stats = served.done.stats
    fields: dict[str, Any] = {"prompt_tokens": stats.prompt_eval_count, "eval_tokens": stats.eval_count}
    if served.energy is not None:
        fields["energy_j"] = served.energy.whirr_j
    if stats.finish_reason in ("cancelled", "error"):
        fields["finish"] = stats.finish_reason
    note(request, **fields)


def rfc3339(seconds: float | None = None) -> str:
    """A UTC time as Go's RFC3339Nano writes it (Ollama's created_at): nanoseconds, trailing
    zeros dropped."""
    nanos = time.time_ns() if seconds is None else int(seconds * 1e9)
    whole, fraction = divmod(nanos, 1_000_000_000)
    stamp = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def energy_fields(energy: AnswerEnergy | None) -> dict[str, Any]:
    """The answer's energy as extra response fields (clients that don't know them ignore them):
    joules (whirr's share of the machine's energy), joules per generated token, CO2e grams,
    and how each component was obtained (measured by RAPL/NVML, or estimated)."""
    if energy is None:
        return {}
    return {
        "energy_joules": round(energy.whirr_j, 6),
        "energy_joules_per_token": round(energy.j_per_token, 6) if energy.j_per_token is not None else None,
        "energy_co2_grams": round(energy.co2_g, 9),
        "energy_method": energy.method,
    }


@contextlib.asynccontextmanager
async def cancel_on_disconnect(request: Any, job: Job) -> AsyncIterator[None]:
    """Cancel `job` the moment the client disconnects (also while the prompt is evaluated)."""

    async def watch() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                job.cancel()
                return

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()


async def first_output(events: AsyncIterator[Any]) -> TokenEvent | Served:
    """The answer's first text or its end, skipping status events."""
    async for event in events:
        if not isinstance(event, StatusEvent):
            return event
    raise RuntimeError("an answer ended without a Served")


async def answer_stream(request: Any, job: Job) -> AsyncIterator[TokenEvent | Served]:
    """Wait for the answer's first text (or its end), watching for a disconnect; returns an
    iterator of the answer from there, which cancels the job if abandoned. An answer that ended
    before any text is noted in the access log, and one that failed raises ApiError(500)."""
    events = job.events()
    async with cancel_on_disconnect(request, job):
        first = await first_output(events)
    if isinstance(first, Served):
        note_served(request, first)  # ended before any text: cancelled, or an error
        if first.done.stats.finish_reason == "error":
            raise ApiError(500, first.done.stats.error)  # in the shape of the caller's API

    async def rest() -> AsyncIterator[TokenEvent | Served]:
        try:
            async with cancel_on_disconnect(request, job):
                yield first
                if isinstance(first, Served):
                    return
                async for event in events:
                    if not isinstance(event, StatusEvent):
                        yield event
        finally:
            job.cancel()  # a client gone mid-stream: stop generating now (no-op once done)

    return rest()


async def whole_answer(request: Any, job: Job) -> tuple[str, Served]:
    """The whole answer text and its end, noted in the access log; cancelled if the client
    disconnects meanwhile. An answer that failed raises ApiError(500), in the shape of the
    caller's API, as answer_stream does before any text."""
    parts: list[str] = []
    try:
        async with cancel_on_disconnect(request, job):
            async for event in job.events():
                if isinstance(event, TokenEvent):
                    parts.append(event.text)
                elif isinstance(event, Served):
                    break
            else:
                raise RuntimeError("an answer ended without a Served")
    finally:
        job.cancel()
    note_served(request, event)
    if event.done.stats.finish_reason == "error":
        raise ApiError(500, event.done.stats.error)
    return "".join(parts), event
