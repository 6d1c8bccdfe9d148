"""A damaged chat database (a page overwritten): `whirr doctor` salvages every readable session
and message into a new file and keeps the old one; `sessions` and `export` show what can be read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.helpers import whirr
from tui.paths import resolve_paths
from tui.store.db import Database

SESSIONS, MESSAGES = 4, 150  # messages per session


def _build(path: Path) -> None:
    db = Database.open(path)
    for s in range(1, SESSIONS + 1):
        session = db.create_session(f"chat {s}", "smollm2:135m")
        for m in range(MESSAGES):
            db.add_message(session.id, "user" if m % 2 == 0 else "assistant", f"s{s} m{m} " + "lorem ipsum " * 25)
    db.close()


def _overwrite_a_messages_page(path: Path) -> int:
    """Overwrite one leaf page of the messages table, in the middle of it; returns its number."""
    connection = sqlite3.connect(path)
    size = connection.execute("PRAGMA page_size").fetchone()[0]
    leaves = [row[0] for row in connection.execute("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' ORDER BY pageno")]
    connection.close()
    page = leaves[len(leaves) // 2]
    with open(path, "r+b") as file:
        file.seek((page - 1) * size)
        file.write(b"\xba\xad\xf0\x0d" * (size // 4))
    return page


def test_doctor_salvages_a_damaged_database_and_keeps_the_old_file(whirr_home: Path) -> None:
    path = resolve_paths().database_file
    _build(path)
    _overwrite_a_messages_page(path)
    damaged = path.read_bytes()

    listing = whirr("sessions")
    assert listing.returncode == 0 and "is damaged" in listing.stderr and "whirr doctor" in listing.stderr
    assert all(f"chat {s}" in listing.stdout for s in range(1, SESSIONS + 1))
    exported = whirr("export", "chat 1")
    assert exported.returncode == 0 and "s1 m0 lorem" in exported.stdout

    repaired = whirr("doctor")
    assert repaired.returncode == 0, repaired.stderr
    assert f"recovered {SESSIONS} session(s)" in repaired.stdout
    kept = next(p for p in path.parent.glob("whirr.db.damaged-*") if not p.name.endswith(("-wal", "-shm")))
    assert kept.read_bytes() == damaged and f"kept as {kept}" in repaired.stdout

    db = Database.open(path)  # sound now: no DatabaseError
    counts = [db.count_messages(s.id) for s in db.list_sessions()]
    assert len(counts) == SESSIONS
    total = sum(counts)
    assert SESSIONS * MESSAGES - 40 < total < SESSIONS * MESSAGES  # one page of ~10 messages lost
    last = db.messages(db.list_sessions()[-1].id)[-1]
    assert last.content.startswith(f"s{SESSIONS} m{MESSAGES - 1} ")  # rows after the damage are kept
    assert db.search("lorem")  # the search index was rebuilt
    db.close()
    assert whirr("doctor").stdout.startswith("the chat database is sound")
    assert whirr("sessions").stderr == ""


def test_doctor_without_a_database(whirr_home: Path) -> None:
    result = whirr("doctor")
    assert result.returncode == 0 and result.stdout.startswith("no chat database yet")
