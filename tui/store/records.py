"""The store's records (sessions, messages, search hits) and how their fields become columns.

Options and statistics are stored as JSON text. Callers may hand over the engine's own objects
(an `Options`, a `Stats`): they are turned into plain dicts here, so every reader of the database
gets the same JSON-shaped data back whatever wrote it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "user", "assistant")
STATES = ("done", "streaming", "stopped", "error", "interrupted")
# The engine's finish reasons (tui.engine.base.FinishReason) name how an answer ended; the
# reason itself stays in the answer's stats, the state says whether the text is complete.
FINISH_REASON_STATES = {"stop": "done", "length": "done", "cancelled": "stopped", "error": "error"}


class DatabaseError(Exception):
    """The database cannot be used (newer version, corrupt, not SQLite, unreadable).

    The message is meant for the user as is; the file has been left untouched.
    """


class DamagedDatabase(DatabaseError):
    """A database file with unreadable pages: `whirr doctor` salvages what can be read."""


@dataclass(frozen=True)
class Session:
    """A chat session: its settings, and where its tab is."""

    id: int
    title: str
    model: str
    persona: str | None
    system: str
    options: dict[str, Any]
    """Generation options by Ollama name, only those that differ from the defaults."""
    created: float
    updated: float
    """When a message or a setting last changed (seconds since the epoch)."""
    archived: bool
    open: bool
    """Whether the session has a tab (restored when whirr starts)."""
    position: int


@dataclass(frozen=True)
class StoredMessage:
    """One message of a session. `state` is done, streaming, stopped, error or interrupted."""

    id: int
    session_id: int
    role: str
    content: str
    state: str
    created: float
    stats: dict[str, Any]
    """For answers: model, options, token counts, durations, finish reason, energy figures..."""


@dataclass(frozen=True)
class SearchHit:
    """A message matching a search, with a short excerpt around the match."""

    session_id: int
    message_id: int
    session_title: str
    role: str
    snippet: str


SESSION_COLUMNS = "id, title, model, persona, system, options, created, updated, archived, open, position"
MESSAGE_COLUMNS = "id, session_id, role, content, state, created, stats"


def session_from_row(row: sqlite3.Row) -> Session:
    """A Session from a row selected with SESSION_COLUMNS."""
    return Session(
        id=row["id"], title=row["title"], model=row["model"], persona=row["persona"], system=row["system"],
        options=json.loads(row["options"]), created=row["created"], updated=row["updated"],
        archived=bool(row["archived"]), open=bool(row["open"]), position=row["position"],
    )


def message_from_row(row: sqlite3.Row) -> StoredMessage:
    """A StoredMessage from a row selected with MESSAGE_COLUMNS."""
    return StoredMessage(
        id=row["id"], session_id=row["session_id"], role=row["role"], content=row["content"],
        state=row["state"], created=row["created"], stats=json.loads(row["stats"]),
    )


def options_json(options: Any) -> str:
    """JSON text for session options: a dict of Ollama parameters, or an `Options` (its
    non-default values are kept, so later changes to the defaults reach old sessions)."""
    if options is None:
        return "{}"
    if hasattr(options, "to_parameters"):
        options = options.to_parameters()
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict or Options, not {type(options).__name__}")
    return json.dumps(options, ensure_ascii=False)


def stats_dict(stats: Any) -> dict[str, Any]:
    """Answer statistics as a plain dict: a dict as is, a dataclass (e.g. `Stats`) by its fields."""
    if stats is None:
        return {}
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        return dataclasses.asdict(stats)
    if not isinstance(stats, dict):
        raise TypeError(f"stats must be a dict or a dataclass, not {type(stats).__name__}")
    return dict(stats)


def check_role(role: str) -> str:
    """`role` if it is one the store keeps, else ValueError."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def normalize_state(state: str) -> str:
    """A message state from a state or an engine finish reason ("stop" -> "done"), else ValueError."""
    if state in STATES:
        return state
    if state in FINISH_REASON_STATES:
        return FINISH_REASON_STATES[state]
    raise ValueError(f"unknown message state {state!r}; expected one of {', '.join(STATES)}")
