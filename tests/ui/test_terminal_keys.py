"""Alt+1..9 jump to tabs when the terminal sends them as ESC+digit (Linux terminals, tmux, SSH):
the real app on a real pseudo-terminal, its keys read by Textual's own driver."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tui.paths import resolve_paths
from tui.store.db import Database

# The app in the child, with synthetic engines; a thread writes the active tab's title and the
# prompt's text to a file so the test can read them (the screen itself is the terminal's).
CHILD = """
import sys, threading, time
from tui.app import WhirrApp
from tui.engine.synthetic import SyntheticEngine, SyntheticEngines
from tui.screens.chat import ChatScreen
from tui.widgets.prompt import PromptArea

report = sys.argv[1]
app = WhirrApp(engines=SyntheticEngines(lambda name: SyntheticEngine(name=name)))

def watch():
    while True:
        time.sleep(0.05)
        try:
            screen = app.screen
            view = screen.view if isinstance(screen, ChatScreen) else None
            if view is not None:
                text = view.query_one(PromptArea).text
                with open(report + ".new", "w") as file:
                    file.write(view.session.title + "\\n" + text)
                import os
                os.replace(report + ".new", report)
        except Exception:
            pass

threading.Thread(target=watch, daemon=True).start()
app.run()
"""


def _read(report: Path) -> tuple[str, str]:
    try:
        title, _, prompt = report.read_text().partition("\n")
    except FileNotFoundError:
        return "", ""
    return title, prompt


def _drain(master: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return


def _wait(master: int, report: Path, title: str, timeout: float = 20.0) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _drain(master, 0.1)
        shown = _read(report)
        if shown[0] == title:
            return shown
    raise AssertionError(f"tab {title!r} never became active; last seen {_read(report)!r}")


def test_alt_digits_sent_as_escape_digit_jump_to_tabs(whirr_home: Path, tmp_path: Path) -> None:
    db = Database.open(resolve_paths().database_file)
    for n in range(1, 4):
        db.create_session(f"chat {n}", "smollm2:135m")
    db.close()
    report = tmp_path / "report"
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(report)], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    try:
        _wait(master, report, "chat 3")  # the last tab opened is the active one
        for digit, title in (("1", "chat 1"), ("2", "chat 2"), ("3", "chat 3"), ("1", "chat 1")):
            os.write(master, f"\x1b{digit}".encode())
            _, prompt = _wait(master, report, title)
            assert prompt == "", f"ESC+{digit} typed {prompt!r} into the prompt"
        os.write(master, "£".encode())  # a pound key still types a pound sign
        deadline = time.monotonic() + 10
        while _read(report)[1] != "£":
            assert time.monotonic() < deadline, _read(report)
            _drain(master, 0.1)
        assert _read(report)[0] == "chat 1"
        os.write(master, b"\x11")  # Ctrl+Q
        child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
