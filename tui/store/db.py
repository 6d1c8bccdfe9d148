"""Sessions, messages and per-answer statistics in one SQLite file (stdlib sqlite3).

WAL journaling with synchronous=NORMAL makes each commit cheap and durable against a crash of
whirr itself (kill -9 loses nothing committed), so a streaming answer saved every second loses
at most its last second. A database from a newer whirr, or a file that is not a healthy SQLite
database, is refused with a DatabaseError before anything is written to it.

One connection is shared by the UI thread and worker threads; a lock serialises its use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tui.store.records import (
    MESSAGE_COLUMNS,
    SESSION_COLUMNS,
    DatabaseError,
    SearchHit,
    Session,
    StoredMessage,
    check_role,
    message_from_row,
    normalize_state,
    options_json,
    session_from_row,
    stats_dict,
)
from tui.store.schema import SCHEMA_VERSION, check_header, check_readable, migrate

__all__ = ["Database", "DatabaseError", "SearchHit", "Session", "StoredMessage"]

MEMORY = ":memory:"
_SETTINGS = ("title", "model", "persona", "system", "options")  # changing one bumps `updated`
_PLACEMENT = ("position", "open")


def _connect_read_only(path: Path, flags: str) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?{flags}"
    return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)


def fts_query(text: str) -> str:
    """An FTS5 query matching messages that contain every word of `text`, the last one as a
    prefix (search as you type). Each word is quoted, so no user text is FTS5 syntax."""
    words = text.split()
    if not words:
        return ""
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    return " ".join(quoted) + " *"


class Database:
    """The chat store. Open it with `Database.open(path)`; every method commits before returning."""

    def __init__(self, connection: sqlite3.Connection, name: str) -> None:
        """Wrap an open, migrated connection (use `Database.open`); `name` is its path."""
        self._connection = connection
        self._name = name
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path | str) -> Database:
        """Open (creating and migrating as needed) the database at `path`, or `":memory:"`.

        Answers left 'streaming' by a crash become 'interrupted'. Raises DatabaseError, leaving
        the file as it was, for a database from a newer whirr, a damaged one, or another file.
        """
        target = str(path)
        if target != MEMORY:
            path = Path(path)
            check_header(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            except (OSError, sqlite3.Error) as error:
                raise DatabaseError(f"cannot open the chat database {path}: {error}") from None
        else:
            connection = sqlite3.connect(MEMORY, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
            version = check_readable(connection, target)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            migrate(connection, version)
            connection.execute("UPDATE messages SET state = 'interrupted' WHERE state = 'streaming'")
        except DatabaseError:
            connection.close()
            raise
        except sqlite3.Error as error:
            connection.close()
            raise DatabaseError(f"cannot use the chat database {target}: {error}") from None
        connection.row_factory = sqlite3.Row
        return cls(connection, target)

    @classmethod
    def open_read_only(cls, path: Path) -> Database:
        """Open an existing database only to read it (`whirr sessions`, `whirr export`): nothing
        is written, so it works on a read-only or full disk. DatabaseError as for `open`."""
        check_header(path)
        try:
            connection = _connect_read_only(path, "mode=ro")
            try:
                connection.execute("PRAGMA user_version").fetchone()
            except sqlite3.OperationalError:
                # A WAL database in a folder whirr cannot write: SQLite cannot make its shared
                # memory file there, but an unchanging file can be read as it is.
                connection.close()
                connection = _connect_read_only(path, "immutable=1")
        except sqlite3.Error as error:
            raise DatabaseError(f"cannot open the chat database {path}: {error}") from None
        try:
            version = check_readable(connection, path)
        except DatabaseError:
            connection.close()
            raise
        if version < SCHEMA_VERSION:
            connection.close()
            raise DatabaseError(f"the chat database {path} needs an upgrade; open it once with a whirr that can write it")
        connection.row_factory = sqlite3.Row
        return cls(connection, str(path))

    def close(self) -> None:
        """Close the database (the WAL is checkpointed into the main file)."""
        with self._locked() as db:
            db.close()

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, for this thread alone; SQLite failures (disk full, locked by another
        program, damage found while reading) become DatabaseError."""
        with self._lock:
            try:
                yield self._connection
            except sqlite3.Error as error:
                raise DatabaseError(f"the chat database {self._name} failed: {error}") from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # SQLite ends it by itself after some errors (disk full)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _one(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self._locked() as db:
            return db.execute(sql, parameters).fetchone()

    # -- sessions ------------------------------------------------------------------------------

    def create_session(
        self, title: str, model: str, *, system: str = "", options: Any = None, persona: str | None = None
    ) -> Session:
        """A new open session, placed after every other one. `options` is a dict of Ollama
        parameters or an `Options`."""
        now = time.time()
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO sessions (title, model, persona, system, options, created, updated, position) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM sessions))",
                (title, model, persona, system, options_json(options), now, now),
            )
        return self.get_session(int(cursor.lastrowid or 0))

    def get_session(self, session_id: int) -> Session:
        """The session with this id; KeyError if there is none."""
        row = self._one(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
        if row is None:
            raise KeyError(f"no session with id {session_id}")
        return session_from_row(row)

    def update_session(self, session_id: int, **fields: Any) -> Session:
        """Change some of title, model, persona, system, options, position, open; returns the
        updated session. Changing a setting (not position or open) marks the session updated."""
        unknown = set(fields) - set(_SETTINGS) - set(_PLACEMENT)
        if unknown:
            raise TypeError(f"cannot update session field(s): {', '.join(sorted(unknown))}")
        values = {name: options_json(value) if name == "options" else value for name, value in fields.items()}
        if "open" in values:
            values["open"] = int(bool(values["open"]))
        if set(fields) & set(_SETTINGS):
            values["updated"] = time.time()
        if values:
            assignments = ", ".join(f"{name} = ?" for name in values)
            with self._transaction() as db:
                db.execute(f"UPDATE sessions SET {assignments} WHERE id = ?", (*values.values(), session_id))
        return self.get_session(session_id)

    def list_sessions(self, *, open_only: bool = False, archived: bool | None = False) -> list[Session]:
        """Sessions by position: not archived (the default), archived (True) or all (None);
        `open_only` keeps those that have a tab."""
        conditions = ["open = 1"] if open_only else []
        if archived is not None:
            conditions.append(f"archived = {int(archived)}")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with self._locked() as db:
            rows = db.execute(f"SELECT {SESSION_COLUMNS} FROM sessions {where} ORDER BY position, id")
            return [session_from_row(row) for row in rows]

    def archive_session(self, session_id: int) -> None:
        """Archive a session (it also loses its tab); it can be reopened with unarchive_session."""
        self._set_archived(session_id, True)

    def unarchive_session(self, session_id: int) -> None:
        """Bring an archived session back to the session list (opening a tab is up to the caller)."""
        self._set_archived(session_id, False)

    def _set_archived(self, session_id: int, archived: bool) -> None:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE sessions SET archived = ?, open = open AND NOT ? WHERE id = ?", (archived, archived, session_id)
            )
        if cursor.rowcount == 0:
            raise KeyError(f"no session with id {session_id}")

    def delete_session(self, session_id: int) -> None:
        """Delete a session and all its messages (nothing happens if it does not exist)."""
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- messages ------------------------------------------------------------------------------

    def add_message(
        self, session_id: int, role: str, content: str, *, state: str = "done", stats: Any = None
    ) -> StoredMessage:
        """Store a message at the end of a session; KeyError if the session does not exist."""
        state, record, created = normalize_state(state), stats_dict(stats), time.time()
        with self._transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO messages (session_id, role, content, state, created, stats) VALUES (?, ?, ?, ?, ?, ?)",
                    (session_id, check_role(role), content, state, created, json.dumps(record, ensure_ascii=False)),
                )
            except sqlite3.IntegrityError:
                raise KeyError(f"no session with id {session_id}") from None
            db.execute("UPDATE sessions SET updated = ? WHERE id = ?", (created, session_id))
        return StoredMessage(int(cursor.lastrowid or 0), session_id, role, content, state, created, record)

    def start_answer(self, session_id: int) -> int:
        """Store an empty assistant message in state 'streaming'; returns its id."""
        return self.add_message(session_id, "assistant", "", state="streaming").id

    def save_partial(self, message_id: int, content: str) -> None:
        """Save the text of a streaming answer so far (one UPDATE, committed; not yet searchable).
        Nothing happens if the message is gone (its session was deleted while it streamed)."""
        with self._locked() as db:
            db.execute("UPDATE messages SET content = ? WHERE id = ? AND state = 'streaming'", (content, message_id))

    def finish_answer(self, message_id: int, content: str, state: str, stats: Any) -> None:
        """Store an answer's final text, state (or the engine's finish reason) and statistics.

        The session's model and options are added to the statistics unless they name their own.
        Nothing happens if the message is gone.
        """
        final = normalize_state(state)
        record = stats_dict(stats)
        with self._transaction() as db:
            session = db.execute(
                "SELECT s.id, s.model, s.options FROM messages m JOIN sessions s ON s.id = m.session_id WHERE m.id = ?",
                (message_id,),
            ).fetchone()
            if session is None:
                return
            record.setdefault("model", session["model"])
            record.setdefault("options", json.loads(session["options"]))
            db.execute(
                "UPDATE messages SET content = ?, state = ?, stats = ? WHERE id = ?",
                (content, final, json.dumps(record, ensure_ascii=False), message_id),
            )
            db.execute("UPDATE sessions SET updated = ? WHERE id = ?", (time.time(), session["id"]))

    def delete_message(self, message_id: int) -> None:
        """Delete one message (nothing happens if it does not exist)."""
        with self._transaction() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def insert_rows(self, sessions: list[tuple], messages: list[tuple]) -> None:
        """Add rows as they were read from another whirr database (SESSION_COLUMNS and
        MESSAGE_COLUMNS, ids kept), in one transaction: how a salvage fills a new database."""
        session_marks = ", ".join("?" * len(SESSION_COLUMNS.split(", ")))
        message_marks = ", ".join("?" * len(MESSAGE_COLUMNS.split(", ")))
        with self._transaction() as db:
            db.executemany(f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({session_marks})", sessions)
            db.executemany(f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({message_marks})", messages)
            db.execute("UPDATE messages SET state = 'interrupted' WHERE state = 'streaming'")

    def messages(self, session_id: int, *, offset: int = 0, limit: int | None = None) -> list[StoredMessage]:
        """A session's messages, oldest first: `limit` of them (all when None) from `offset`."""
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError("offset and limit must not be negative")
        with self._locked() as db:
            rows = db.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? ORDER BY id LIMIT ? OFFSET ?",
                (session_id, -1 if limit is None else limit, offset),
            )
            return [message_from_row(row) for row in rows]

    def count_messages(self, session_id: int) -> int:
        """How many messages a session has."""
        row = self._one("SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,))
        return int(row[0]) if row else 0

    # -- search and totals ---------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Messages containing every word of `query` (the last word may be a prefix), best
        matches first, in all sessions including archived ones. Any text is a valid query."""
        match = fts_query(query)
        if not match:
            return []
        with self._locked() as db:
            rows = db.execute(
                "SELECT m.session_id, m.id, s.title, m.role, snippet(messages_fts, 0, '', '', '…', 16) "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN sessions s ON s.id = m.session_id "
                "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
                (match, limit),
            )
            return [SearchHit(*row) for row in rows]

    def session_totals(self, session_id: int | None = None) -> dict[str, int | float]:
        """Sums of the numeric top-level statistics of the answers of one session (all
        sessions when None), e.g. eval_count, total_duration, energy_j; plus `answers`, the
        number of answers."""
        scope = "" if session_id is None else "AND m.session_id = ?"
        parameters = () if session_id is None else (session_id,)
        with self._locked() as db:
            answers = db.execute(
                f"SELECT COUNT(*) FROM messages m WHERE m.role = 'assistant' {scope}", parameters
            ).fetchone()[0]
            rows = db.execute(
                "SELECT j.key, SUM(j.value) FROM messages m, json_each(m.stats) j "
                f"WHERE m.role = 'assistant' AND j.type IN ('integer', 'real') {scope} GROUP BY j.key ORDER BY j.key",
                parameters,
            ).fetchall()
        return {"answers": answers, **{key: total for key, total in rows}}
