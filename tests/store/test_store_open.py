"""Opening the chat store: creation, migrations, refusing files it must not touch, crash recovery."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.store import Database, DatabaseError
from tui.store.schema import SCHEMA_VERSION


def make_database(path: Path, messages: int = 0) -> None:
    db = Database.open(path)
    session = db.create_session("chat", "m")
    for i in range(messages):
        db.add_message(session.id, "user", f"message {i} " + "words " * 50)
    db.close()


def test_a_new_database_is_created_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "whirr.db"
    Database.open(path).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert {"sessions", "messages", "messages_fts", "messages_by_session"} <= tables
    Database.open(path).close()  # opening again migrates nothing and keeps working


def test_an_empty_file_becomes_a_database(tmp_path: Path) -> None:
    path = tmp_path / "whirr.db"
    path.touch()
    db = Database.open(path)
    assert db.create_session("x", "m").id == 1
    db.close()


def test_a_database_from_a_newer_whirr_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "whirr.db"
    make_database(path, messages=3)
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = path.read_bytes()
    with pytest.raises(DatabaseError) as caught:
        Database.open(path)
    message = str(caught.value)
    assert f"schema version {SCHEMA_VERSION + 5}" in message and f"up to version {SCHEMA_VERSION}" in message
    assert "newer whirr" in message
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "damage",
    ["text", "garbage-pages", "truncated", "bad-header"],
)
def test_a_file_that_is_not_a_healthy_database_is_refused_and_left_untouched(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "whirr.db"
    if damage == "text":
        path.write_text("these are my notes, not a database\n")
    else:
        make_database(path, messages=200)
        data = bytearray(path.read_bytes())
        page = 4096
        if damage == "garbage-pages":
            data[2 * page : 6 * page] = bytes(range(256)) * (4 * page // 256)
        elif damage == "truncated":
            del data[len(data) // 2 :]
        else:
            data[16:24] = b"\xff" * 8  # page size and format bytes
        path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="not an SQLite database|damaged"):
        Database.open(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whirr.db"]


def test_another_programs_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE contacts (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="another program"):
        Database.open(path)
    assert path.read_bytes() == before


def test_an_answer_left_streaming_becomes_interrupted_and_searchable(tmp_path: Path) -> None:
    path = tmp_path / "whirr.db"
    db = Database.open(path)
    session = db.create_session("chat", "m")
    answer = db.start_answer(session.id)
    db.save_partial(answer, "half of an answer about volcanoes")
    # no finish_answer and no close: as if whirr died here
    reopened = Database.open(path)
    stored = reopened.messages(session.id)[-1]
    assert (stored.id, stored.state, stored.content) == (answer, "interrupted", "half of an answer about volcanoes")
    assert [hit.message_id for hit in reopened.search("volcanoes")] == [answer]
    reopened.close()
    db.close()


WRITER = """
import sys, time
from pathlib import Path
from tui.store import Database

db = Database.open(Path(sys.argv[1]))
session = db.create_session("streaming", "m")
db.add_message(session.id, "user", "tell me a long story")
answer = db.start_answer(session.id)
text = ""
for step in range(1, 10_000):
    text += f"word{step} "
    db.save_partial(answer, text)
    print(step, flush=True)
    time.sleep(0.2)
"""


def expected_text(steps: int) -> str:
    return "".join(f"word{step} " for step in range(1, steps + 1))


def test_kill_9_while_streaming_loses_at_most_the_last_save(tmp_path: Path) -> None:
    path = tmp_path / "whirr.db"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    assert child.stdout is not None
    saved = 0
    while saved < 6:
        line = child.stdout.readline()
        assert line, "the writer stopped before it was killed"
        saved = int(line)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert (tmp_path / "whirr.db-wal").exists()  # the crash left the log for recovery to replay

    db = Database.open(path)
    session = db.list_sessions()[0]
    user, answer = db.messages(session.id)
    assert user.content == "tell me a long story"
    assert answer.state == "interrupted"
    # save `saved` was committed before it was printed; at most one more (0.2 s later) got in
    assert answer.content in (expected_text(saved), expected_text(saved + 1))
    db.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@pytest.fixture(scope="module")
def big_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("big") / "whirr.db"
    db = Database.open(path)
    session = db.create_session("long chat", "m")
    db.create_session("another chat", "m")
    for i in range(2_500):
        db.add_message(session.id, "user", f"question {i}: " + "how does this work? " * 5)
        answer = db.start_answer(session.id)
        db.finish_answer(answer, f"answer {i}: " + "it works like this. " * 20, "stop", {"eval_count": 80})
    db.close()
    return path, session.id


def test_paging_and_crash_recovery_use_indexes(big_session: tuple[Path, int]) -> None:
    path, session_id = big_session
    with sqlite3.connect(path) as raw:
        for sql, parameters, index in (
            ("SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,), "messages_by_session"),
            ("SELECT * FROM messages WHERE session_id = ? ORDER BY id LIMIT 50 OFFSET 4950", (session_id,), "messages_by_session"),
            ("UPDATE messages SET state = 'interrupted' WHERE state = 'streaming'", (), "messages_streaming"),
        ):
            plan = " ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", parameters))
            assert index in plan and "TEMP B-TREE" not in plan, plan


def test_opening_and_loading_the_last_page_of_a_5000_message_session_is_fast(big_session: tuple[Path, int]) -> None:
    path, session_id = big_session
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        db = Database.open(path)
        count = db.count_messages(session_id)
        last = db.messages(session_id, offset=count - 50, limit=50)
        timings.append(time.perf_counter() - start)
        db.close()
    assert count == 5_000 and len(last) == 50 and last[-1].content.startswith("answer 2499:")
    # a few ms on an idle 2-core machine; the bound leaves room for a busy CI runner
    assert sorted(timings)[2] < 0.25, timings
