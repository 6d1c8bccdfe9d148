"""A session as a Markdown document or as JSON (the session record and its messages)."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from tui.format import format_co2, format_joules
from tui.store.db import Database
from tui.store.records import Session, StoredMessage

JSON_FORMAT = "whirr.session"
JSON_VERSION = 1
_ROLE_HEADINGS = {"system": "System", "user": "User", "assistant": "Assistant"}
_STATE_NOTES = {"stopped": "stopped", "interrupted": "interrupted (whirr closed while answering)", "streaming": "still streaming"}


def to_markdown(db: Database, session_id: int) -> str:
    """The session as Markdown: title, model and settings, system prompt, then every message
    under a role heading, each answer followed by a line of its statistics."""
    session = db.get_session(session_id)
    lines = [f"# {session.title}", "", *_settings_lines(session), ""]
    if session.system:
        lines += ["## System prompt", "", session.system, ""]
    lines += ["## Conversation", ""]
    for message in db.messages(session_id):
        lines += [f"### {_ROLE_HEADINGS[message.role]}", "", message.content or "*(no text)*", ""]
        if message.role == "assistant":
            lines += [f"*{stats_line(message, session.model)}*", ""]
    return "\n".join(lines)


def to_json(db: Database, session_id: int) -> str:
    """The session and its messages as JSON (times in seconds since the epoch)."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "session": dataclasses.asdict(db.get_session(session_id)),
        "messages": [dataclasses.asdict(message) for message in db.messages(session_id)],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _settings_lines(session: Session) -> list[str]:
    lines = [f"- Model: {session.model}"]
    if session.persona:
        lines.append(f"- Persona: {session.persona}")
    if session.options:
        options = ", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in session.options.items())
        lines.append(f"- Options: {options}")
    lines.append(f"- Created: {_when(session.created)} · updated: {_when(session.updated)}")
    return lines


def stats_line(message: StoredMessage, session_model: str) -> str:
    """One line summing up an answer: model (when not the session's), tokens, speed, time,
    energy, and how it ended when it did not simply finish."""
    stats: dict[str, Any] = message.stats
    parts: list[str] = []
    if stats.get("model") and stats["model"] != session_model:
        parts.append(str(stats["model"]))
    if stats.get("eval_count"):
        parts.append(f"{stats['eval_count']:,} token{'' if stats['eval_count'] == 1 else 's'}")
        if stats.get("eval_duration"):
            parts.append(f"{stats['eval_count'] / stats['eval_duration']:.1f} tok/s")
    if stats.get("total_duration"):
        parts.append(f"{stats['total_duration']:.2f} s")
    if stats.get("energy_j"):
        parts.append(f"{format_joules(stats['energy_j'])}, {format_co2(stats.get('co2_g', 0.0))}")
    if message.state == "error":
        parts.append(f"error: {stats['error']}" if stats.get("error") else "error")
    elif message.state in _STATE_NOTES:
        parts.append(_STATE_NOTES[message.state])
    elif stats.get("finish_reason") == "length":
        parts.append("cut at the token limit")
    return " · ".join(parts) or message.state


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))
