"""Measure the chat store: open a database and load the last page of a long session.

Run: .venv/bin/python tests/store/bench_store.py [MESSAGES ...]   (default: 5000 50000)
Not collected by pytest; tests/store/test_store_open.py asserts a generous bound instead.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui.store import Database


def build(path: Path, messages: int) -> int:
    """A database with one session of `messages` messages (questions and streamed answers)."""
    db = Database.open(path)
    session = db.create_session("long chat", "m")
    for i in range(messages // 2):
        db.add_message(session.id, "user", f"question {i}: " + "how does this work? " * 5)
        answer = db.start_answer(session.id)
        db.save_partial(answer, f"answer {i}: ")
        db.finish_answer(answer, f"answer {i}: " + "it works like this. " * 20, "stop", {"eval_count": 80, "total_duration": 1.0})
    db.close()
    return session.id


def summary(seconds: list[float]) -> str:
    """Median and worst, in ms."""
    return f"median {statistics.median(seconds) * 1000:.2f} ms, max {max(seconds) * 1000:.2f} ms"


def measure(messages: int) -> None:
    """Print the timings for a session of `messages` messages."""
    path = Path(tempfile.mkdtemp()) / "whirr.db"
    start = time.perf_counter()
    session_id = build(path, messages)
    built = time.perf_counter() - start
    opens, counts, pages = [], [], []
    for _ in range(20):
        t0 = time.perf_counter()
        db = Database.open(path)
        t1 = time.perf_counter()
        count = db.count_messages(session_id)
        t2 = time.perf_counter()
        db.messages(session_id, offset=count - 50, limit=50)
        t3 = time.perf_counter()
        db.close()
        opens.append(t1 - t0)
        counts.append(t2 - t1)
        pages.append(t3 - t2)
    db = Database.open(path)
    t0 = time.perf_counter()
    db.search("works")
    t1 = time.perf_counter()
    db.session_totals()
    t2 = time.perf_counter()
    answer = db.start_answer(session_id)
    saves = []
    for i in range(50):
        t3 = time.perf_counter()
        db.save_partial(answer, "x" * (200 * i))
        saves.append(time.perf_counter() - t3)
    db.close()
    print(f"{messages:,} messages, {path.stat().st_size / 1e6:.1f} MB, built in {built:.1f} s")
    print(f"  open (header, version, quick_check, migrate, recovery): {summary(opens)}")
    print(f"  count_messages: {summary(counts)}")
    print(f"  last 50 messages: {summary(pages)}")
    print(f"  search (50 hits): {(t1 - t0) * 1000:.1f} ms; all-time session_totals: {(t2 - t1) * 1000:.1f} ms")
    print(f"  save_partial of up to 10 KB: {summary(saves)}")


if __name__ == "__main__":
    for size in [int(arg) for arg in sys.argv[1:]] or [5_000, 50_000]:
        measure(size)
