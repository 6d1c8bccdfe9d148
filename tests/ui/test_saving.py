"""While chats are not being saved the status line says so, for as long as it lasts; a failing
disk is said once, not once a second, and once more when saving works again. Nothing on screen
is lost. Real full and read-only disks (tests/disk.py), real damaged and newer databases."""

from __future__ import annotations

import asyncio
import re
import sqlite3

from textual.pilot import Pilot

from tests.disk import Disk, disk_home  # noqa: F401  (a fixture)
from tests.ui.helpers import AppFactory, active_view, chat_screen, settle
from tui.app import WhirrApp
from tui.paths import resolve_paths
from tui.store.db import Database
from tui.widgets.prompt import PromptArea
from tui.widgets.status_line import StatusLine


def notices(app: WhirrApp) -> list[str]:
    return [n.message for n in app._notifications]


def status(app: WhirrApp) -> str:
    return chat_screen(app).query_one(StatusLine).render().plain  # type: ignore[union-attr]


async def wait_for(pilot: Pilot, condition, timeout: float = 30.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_a_full_disk_mid_answer_is_said_once_and_once_when_it_is_over(make_app: AppFactory, disk_home: Disk) -> None:  # noqa: F811
    words = " ".join(f"word{i}" for i in range(2000))
    app = make_app(reply=lambda request: words, rate=20.0)  # far longer than the test: stopped at the end
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        view = active_view(app)
        view.query_one(PromptArea).insert("tell me")
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.streaming)
        assert "chats not saved" not in status(app)
        disk_home.fill()
        try:
            await wait_for(pilot, lambda: "chats not saved" in status(app))
            await pilot.pause(1.5)  # three more failed saves
            failures = [m for m in notices(app) if m.startswith("Chats are not being saved")]
            assert len(failures) == 1, notices(app)
            assert "database or disk is full" in failures[0]
        finally:
            disk_home.free()
        await wait_for(pilot, lambda: "chats not saved" not in status(app))
        await wait_for(pilot, lambda: "Chats are being saved again." in notices(app))  # a notice is a message
        assert notices(app).count("Chats are being saved again.") == 1
        assert view.streaming
        view.stop()
        await settle(pilot)
        shown = view.query_one("AnswerMessage").text  # type: ignore[attr-defined]
    db = Database.open(resolve_paths().database_file)
    answer = db.messages(db.list_sessions()[0].id)[-1]
    assert answer.content == shown and answer.content.startswith("word0 word1") and answer.state == "stopped"


async def test_a_message_not_sent_stays_in_the_prompt(make_app: AppFactory, disk_home: Disk) -> None:  # noqa: F811
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        view = active_view(app)
        disk_home.fill()
        try:
            for _ in range(3):
                view.query_one(PromptArea).insert("x")
                await pilot.press("enter")
                await pilot.pause()
            assert view.query_one(PromptArea).text == "xxx"
            assert "chats not saved" in status(app)
            assert sum(m.startswith("Chats are not being saved") for m in notices(app)) == 1
        finally:
            disk_home.free()
        await pilot.press("enter")
        await settle(pilot)
        assert "chats not saved" not in status(app) and "Chats are being saved again." in notices(app)


def _damage(path) -> None:  # noqa: ANN001
    """Overwrite one page in the middle of the file with garbage."""
    page = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as file:
        file.seek(page * 3)
        file.write(b"\xde\xad\xbe\xef" * (page // 4))


async def test_a_database_that_cannot_be_used_shows_a_lasting_marker(make_app: AppFactory) -> None:
    db = Database.open(resolve_paths().database_file)
    session = db.create_session("kept", "smollm2:135m")
    for i in range(200):
        db.add_message(session.id, "user", f"message {i} " + "x" * 300)
    db.close()
    _damage(resolve_paths().database_file)
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert "chats not saved" in status(app)
        assert any("damaged" in m and "whirr doctor" in m for m in notices(app))
        view = active_view(app)
        view.query_one(PromptArea).insert("hello")
        await pilot.press("enter")
        await settle(pilot)
        assert "chats not saved" in status(app)  # writes to memory succeed; the marker stays


async def test_the_status_line_counts_context_while_the_answer_streams(make_app: AppFactory) -> None:
    words = " ".join(f"word{i}" for i in range(200))
    app = make_app(reply=lambda request: words, rate=40.0)
    async with app.run_test(size=(100, 30)) as pilot:
        view = active_view(app)
        view.query_one(PromptArea).insert("count me")
        await pilot.press("enter")
        def shown() -> int:
            found = re.search(r"ctx ([\d,?]+)/", status(app))
            return int(found.group(1).replace(",", "")) if found and found.group(1) != "?" else 0

        await wait_for(pilot, lambda: view.streaming and shown() > 0)
        first = shown()
        await wait_for(pilot, lambda: shown() > first + 5)  # it grows with the answer
        view.stop()
        await settle(pilot)


async def test_choices_and_exports_on_a_read_only_home_are_reported_and_kept(make_app: AppFactory, disk_home: Disk) -> None:  # noqa: F811
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        view = active_view(app)
        view.query_one(PromptArea).insert("keep me")
        await pilot.press("enter")
        await settle(pilot)
        disk_home.read_only()
        try:
            app.theme = "whirr-light"  # the palette's theme picker
            await pilot.pause()
            assert app.theme == "whirr-light"
            assert any(m.startswith("Could not save the theme choice (cannot write") for m in notices(app)), notices(app)
            target = disk_home.root / "chat.md"
            app.export_session(view.session.id, "markdown", target)
            await pilot.pause()
            assert any(m.startswith(f"Not exported: cannot write {target}") for m in notices(app)), notices(app)
            assert app.is_running
        finally:
            disk_home.writable()
