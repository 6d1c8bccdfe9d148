"""Fixtures for the chat app's tests: an isolated WHIRR_HOME and apps with synthetic engines."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual import events
from textual.pilot import Pilot
from textual.widgets import OptionList

from tui.app import WhirrApp
from tui.engine.synthetic import Reply, SyntheticEngine, SyntheticEngines, echo_reply
from tui.meters import Probe, Sampler
from tui.screens.chat import ChatScreen
from tui.screens.model_picker import ModelPicker
from tui.widgets.prompt import PromptArea
from tui.widgets.session_view import SessionView

AppFactory = Callable[..., WhirrApp]


@pytest.fixture
def make_app(whirr_home: Path) -> AppFactory:
    """Build a WhirrApp whose models are synthetic engines (instant, deterministic answers).

    Its sampler reads this machine but is never started: the panel shows only what a test
    records into it (`app.sampler.record(sample)`), so screenshots stay the same."""

    def make(reply: str | Reply = echo_reply, rate: float = 5000.0) -> WhirrApp:
        engines = SyntheticEngines(lambda name: SyntheticEngine(reply, tokens_per_second=rate, name=name))
        app = WhirrApp(engines=engines, sampler=Sampler(Probe.detect()))
        app.animation_level = "none"  # Pilot waits for animations to end; tests need not
        return app

    return make


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
    for _ in range(100):
        if options.option_count:
            break
        await pilot.pause(0.05)
    return options


async def send(pilot: Pilot, text: str, timeout: float = 10.0) -> None:
    """Put a message in the prompt, press Enter, and wait for the answer to finish."""
    active_view(pilot.app).query_one(PromptArea).insert(text)  # type: ignore[arg-type]
    await pilot.press("enter")
    await settle(pilot, timeout)
