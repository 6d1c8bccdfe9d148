"""The database schema, its migrations (PRAGMA user_version), and the checks made before writing.

Each entry of MIGRATIONS upgrades the schema by one version and runs in its own transaction
together with the new user_version, so a crash mid-migration leaves the previous version intact.
Append new migrations; never edit a released one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui.store.records import DamagedDatabase, DatabaseError

SQLITE_HEADER = b"SQLite format 3\x00"

_V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    persona TEXT,
    system TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    open INTEGER NOT NULL DEFAULT 1,
    position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_position ON sessions (position, id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('done', 'streaming', 'stopped', 'error', 'interrupted')),
    created REAL NOT NULL,
    stats TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX messages_by_session ON messages (session_id, id);
-- Lets opening find answers a crash left streaming without reading every message.
CREATE INDEX messages_streaming ON messages (id) WHERE state = 'streaming';

-- Search indexes finished text only: saving a streaming answer every second stays one plain
-- UPDATE, and the answer is indexed once when it is finished (or found interrupted).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.state != 'streaming' BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.state != 'streaming' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, state ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content WHERE old.state != 'streaming';
    INSERT INTO messages_fts (rowid, content) SELECT new.id, new.content WHERE new.state != 'streaming';
END;
"""

MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


def check_header(path: Path) -> None:
    """Refuse a file that exists but is not an SQLite database (an empty file is a new one)."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as error:
        raise DatabaseError(f"cannot read the chat database {path}: {error.strerror}") from None
    if head and head != SQLITE_HEADER:
        raise DatabaseError(f"{path} is not an SQLite database, so whirr cannot keep chats in it")


def check_readable(connection: sqlite3.Connection, path: Path | str) -> int:
    """The schema version of an existing database, after checking that whirr can use it.

    Only reads: nothing is written before this returns. Raises DatabaseError for a database
    from a newer whirr, one that is not whirr's, or a damaged one.
    """
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"the chat database {path} was written by a newer whirr (schema version {version}; "
                f"this whirr knows up to version {SCHEMA_VERSION}); upgrade whirr to open it"
            )
        if version == 0 and tables:
            raise DatabaseError(f"{path} is an SQLite database of another program, not whirr's")
        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as error:
        raise DamagedDatabase(f"the chat database {path} is damaged ({error})") from None
    if problems != ["ok"]:
        raise DamagedDatabase(f"the chat database {path} is damaged ({'; '.join(problems[:3])})")
    return version


def migrate(connection: sqlite3.Connection, version: int) -> None:
    """Bring the schema from `version` to SCHEMA_VERSION, one transaction per step."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        connection.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[target - 1]}\nPRAGMA user_version = {target};\nCOMMIT;")
