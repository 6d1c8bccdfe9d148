"""Helpers shared by the app's test files: what the screen shows, waiting for the app to settle,
typing and sending, and the library screen's steps."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual import events
from textual.app import App
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import OptionList

from tui.app import WhirrApp
from tui.screens.chat import ChatScreen
from tui.screens.library import LibraryScreen
from tui.screens.model_picker import ModelPicker
from tui.widgets.model_table import ModelTable
from tui.widgets.prompt import PromptArea
from tui.widgets.session_view import SessionView


AppFactory = Callable[..., WhirrApp]


def screen_text(app: WhirrApp) -> str:
    """What the terminal shows now, as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


def chat_screen(app: WhirrApp) -> ChatScreen:
    """The chat screen (under any open dialog)."""
    return next(s for s in app.screen_stack if isinstance(s, ChatScreen))


def active_view(app: WhirrApp) -> SessionView:
    """The active session's view."""
    view = chat_screen(app).view
    assert view is not None
    return view


async def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Wait on the app's loop until `condition()` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"waited {timeout} s in vain for {what or 'the condition'}")
        await asyncio.sleep(0.01)


async def settle(pilot: Pilot, timeout: float = 10.0) -> None:
    """Wait until no answer is streaming and no model is loading, then for the screen to idle."""
    app = pilot.app
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        views = list(chat_screen(app).query(SessionView))
        busy = any(v.streaming or v.activity for v in views) or any(
            w.is_running for w in app.workers if w.group in ("answer", "prepare")
        )
        if not busy:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the app stayed busy")
    await pilot.pause()


async def press_now(pilot: Pilot, *keys: str) -> None:
    """Send keys the way a terminal does, without waiting for the app to go idle (Pilot's
    press() waits, which never happens while an answer streams)."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        character = {"enter": "\r", "escape": "\x1b"}.get(key, key if len(key) == 1 else None)
        driver.send_message(events.Key(key, character))
        await asyncio.sleep(0.01)


async def open_model_picker(pilot: Pilot) -> OptionList:
    """Press Ctrl+O and wait until the picker has read the library; returns its option list."""
    await pilot.press("ctrl+o")
    await pilot.pause()
    picker = pilot.app.screen
    assert isinstance(picker, ModelPicker)
    options = picker.query_one(OptionList)
    await wait_until(lambda: options.option_count, what="the picker's models")
    return options


async def send(pilot: Pilot, text: str, timeout: float = 10.0) -> None:
    """Put a message in the prompt, press Enter, and wait for the answer to finish."""
    active_view(pilot.app).query_one(PromptArea).insert(text)  # type: ignore[arg-type]
    await pilot.press("enter")
    await settle(pilot, timeout)


async def open_library(pilot: Pilot) -> LibraryScreen:
    """Press F3 and wait until the library is listed."""
    await settle(pilot)
    await pilot.press("f3")
    screen = pilot.app.screen
    assert isinstance(screen, LibraryScreen)
    await listed(pilot, screen)
    return screen


async def listed(pilot: Pilot, screen: LibraryScreen) -> None:
    """Wait until the screen's listing worker has finished and the table shows its rows."""
    table = screen.query_one(ModelTable)
    await pilot.pause()
    await wait_until(
        lambda: not table.loading and not any(w.is_running for w in pilot.app.workers if w.group.startswith("library")),
        what="the library's listing",
    )
    await pilot.pause()


def names(screen: LibraryScreen) -> list[str]:
    """The model names in table order."""
    table = screen.query_one(ModelTable)
    return [str(key.value) for key in table.rows]


async def highlight(pilot: Pilot, screen: LibraryScreen, name: str) -> None:
    """Put the table's cursor on a model."""
    screen.query_one(ModelTable).move_cursor(row=names(screen).index(name), animate=False)
    await pilot.pause()


def broken_file(folder: Path) -> Path:
    """A file named like a model that is not a GGUF."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "broken.gguf"
    path.write_bytes(b"not a model at all")
    return path


def palette_results(app: App) -> int:
    """How many commands the open command palette lists for what was typed."""
    return sum(lists.option_count for lists in app.screen.query(CommandList))


async def ready(pilot: Pilot) -> None:
    """Wait for background work and for focus to land; stop cursors blinking so every
    screenshot is the same (a focused field draws its cursor, an unfocused one does not)."""
    await settle(pilot)
    deadline = asyncio.get_running_loop().time() + 2
    while pilot.app.focused is None and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    await pilot.pause()
    for screen in pilot.app.screen_stack:
        for field in screen.query("TextArea, Input"):
            field.cursor_blink = False  # type: ignore[attr-defined]
