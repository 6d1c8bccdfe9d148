"""kill -9 while an answer streams: at most the last second is lost and the database is sound."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tui.paths import resolve_paths
from tui.store.db import Database

RATE = 200  # tokens per second
CHILD = f"""
import asyncio, time
from tui.app import WhirrApp
from tui.engine.synthetic import SyntheticEngine, SyntheticEngines
from tui.widgets.prompt import PromptArea

def reply(request):
    print("START", time.time(), flush=True)
    return " ".join(f"w{{i:05d}}" for i in range(100000))

async def main():
    app = WhirrApp(engines=SyntheticEngines(lambda name: SyntheticEngine(reply, tokens_per_second={RATE}, name=name)))
    async with app.run_test() as pilot:
        app.screen.query_one(PromptArea).insert("go")
        await pilot.press("enter")
        await asyncio.sleep(60)

asyncio.run(main())
"""


def test_kill_9_mid_answer_loses_at_most_a_second(whirr_home: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "WHIRR_HOME": str(whirr_home)},
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.startswith("START"), line
        started = float(line.split()[1])
        time.sleep(2.5)
        killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    database = resolve_paths().database_file
    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db = Database.open(database)
    session = db.list_sessions(open_only=True)[0]
    answer = db.messages(session.id)[-1]
    db.close()
    assert answer.role == "assistant"
    assert answer.state == "interrupted"
    saved = len(answer.content.split())
    emitted = (killed_at - started) * RATE
    assert saved >= emitted - RATE * 1.0 - 20, (saved, emitted)  # at most a second behind
    assert answer.content.split()[saved - 1] == f"w{saved - 1:05d}"  # a clean prefix of the answer
