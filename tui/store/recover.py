"""Salvage from a damaged chat database: every session and message that can still be read.

SQLite stores a table's rows in id order across pages; a damaged page loses the rows on it and
can make a scan stop there. `readable_rows` scans in id order and, when a read fails, starts
again further and further past the last good id, so the rows after the damage are found too.
`repair` writes what was read into a new database and keeps the damaged file beside it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from tui.store.db import Database
from tui.store.records import MESSAGE_COLUMNS, SESSION_COLUMNS, DatabaseError

_LONGEST_JUMP = 1 << 40  # ids past this are not looked for


@dataclass(frozen=True)
class Salvage:
    """What a salvage read: row counts, and how many reads met damage."""

    sessions: int
    messages: int
    damaged_reads: int


def readable_rows(connection: sqlite3.Connection, table: str, columns: str) -> tuple[list[tuple], int]:
    """Every row of `table` (whose first column is its integer id, from 1) that can be read,
    in id order; and how many times a read met damage."""
    query = f"SELECT {columns} FROM {table} WHERE id > ? ORDER BY id"  # noqa: S608 (our own names)
    rows: list[tuple] = []
    last, failures = 0, 0
    while True:
        try:
            for row in connection.execute(query, (last,)):
                rows.append(tuple(row))
                last = row[0]
            return rows, failures
        except sqlite3.DatabaseError:
            failures += 1
        failed, jump = last, 1
        while not _readable_from(connection, query, failed + jump):
            jump *= 2
            if jump > _LONGEST_JUMP:
                return rows, failures
        last = _first_readable(connection, query, failed, failed + jump)


def _readable_from(connection: sqlite3.Connection, query: str, after: int) -> bool:
    """Whether a scan from past id `after` can start."""
    try:
        connection.execute(query, (after,)).fetchone()
    except sqlite3.DatabaseError:
        return False
    return True


def _first_readable(connection: sqlite3.Connection, query: str, failing: int, readable: int) -> int:
    """The smallest id in (failing, readable] a scan can start after (a binary search), so the
    readable rows just past the damage are not skipped."""
    while readable - failing > 1:
        middle = (failing + readable) // 2
        if _readable_from(connection, query, middle):
            readable = middle
        else:
            failing = middle
    return readable


def salvage(damaged: Path, into: Database) -> Salvage:
    """Copy what can be read of the database file `damaged` into `into` (a new, empty
    database), keeping ids; messages whose session was lost are dropped with it."""
    source = sqlite3.connect(f"{damaged.resolve().as_uri()}?mode=ro", uri=True)
    try:
        sessions, session_failures = readable_rows(source, "sessions", SESSION_COLUMNS)
        messages, message_failures = readable_rows(source, "messages", MESSAGE_COLUMNS)
    finally:
        source.close()
    kept = {row[0] for row in sessions}
    messages = [row for row in messages if row[1] in kept]
    into.insert_rows(sessions, messages)
    return Salvage(len(sessions), len(messages), session_failures + message_failures)


def repair(path: Path) -> tuple[Salvage, Path]:
    """Replace a damaged database with what can be read of it; the damaged file (with its
    journal files) is kept as `<name>.damaged-<time>`. Returns what was saved and where the
    old file went. DatabaseError when the new file cannot be written."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fresh = path.with_name(f"{path.name}.recovered-{stamp}")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    database = Database.open(fresh)
    try:
        result = salvage(path, database)
    finally:
        database.close()
    try:
        for suffix in ("-wal", "-shm"):
            journal = path.with_name(path.name + suffix)
            if journal.exists():
                journal.replace(aside.with_name(aside.name + suffix))
        path.replace(aside)
        fresh.replace(path)
    except OSError as error:
        raise DatabaseError(f"cannot replace {path}: {error.strerror}; the recovered chats are in {fresh}") from None
    return result, aside
