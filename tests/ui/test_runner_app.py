"""The app with real runner processes: a runner killed mid-answer, a model llama.cpp cannot load."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.runnerkit import gone_within, write_bad_gguf
from tests.ui.helpers import active_view, palette_results, press_now, screen_text, send, settle, wait_until
from tui.app import WhirrApp
from tui.screens.dialogs import ChoiceDialog
from tui.config import Config, save_config
from tui.engine.options import Options
from tui.models.library import Library
from tui.paths import resolve_paths
from tui.widgets.message import AnswerMessage
from tui.widgets.prompt import PromptArea

pytestmark = pytest.mark.model

LIMIT = 180.0


async def test_a_runner_killed_mid_answer_keeps_the_partial_and_the_app(whirr_home: Path, starter_path: Path) -> None:
    save_config(Config(options=Options(temperature=0.0, seed=3, num_predict=400)), resolve_paths())
    app = WhirrApp()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, timeout=LIMIT)
        view = active_view(app)
        view.query_one(PromptArea).insert("Write a very long story about a dragon and a baker.")
        await press_now(pilot, "enter")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LIMIT
        while not (view.query(AnswerMessage) and view.query_one(AnswerMessage).text):
            assert loop.time() < deadline, "no answer text arrived"
            await asyncio.sleep(0.02)
        engine = app.engines.engine_for("smollm2:135m")
        assert engine.pid is not None
        os.kill(engine.pid, signal.SIGKILL)
        await settle(pilot, timeout=LIMIT)
        stored = app.db.messages(view.session.id)[-1]
        assert stored.state == "error"
        assert stored.stats["error"] == "the model process stopped: signal 9"
        assert stored.content and stored.content == view.query_one(AnswerMessage).text
        assert "the model process stopped: signal 9" in screen_text(app)
        await send(pilot, "Hi", timeout=LIMIT)
        assert app.db.messages(view.session.id)[-1].state == "done"
        replacement = engine.pid
        assert replacement is not None
    assert gone_within(replacement, 2.0)  # the app's runners end with it


async def test_a_model_llama_cpp_cannot_load_is_one_line_and_the_app_stays(whirr_home: Path) -> None:
    paths = resolve_paths()
    write_bad_gguf(paths.models_dir / "broken.gguf")
    name = next(e.name for e in Library(paths).list() if e.path.name == "broken.gguf")
    save_config(Config(default_model=name, options=Options(num_predict=4)), paths)
    app = WhirrApp()
    async with app.run_test(size=(140, 30)) as pilot:
        view = active_view(app)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LIMIT
        while not view.problem:
            assert loop.time() < deadline, "the load never failed"
            await asyncio.sleep(0.05)
        await settle(pilot, timeout=LIMIT)
        assert view.problem.startswith("cannot load broken.gguf") or view.problem.startswith("the model process stopped")
        assert "\n" not in view.problem
        assert view.problem[:40] in screen_text(app)
        await send(pilot, "Hi", timeout=LIMIT)
        assert app.db.messages(view.session.id)[-1].state == "error"
        assert app.is_running


async def test_the_palette_lists_the_loaded_models_and_unloads_one(whirr_home: Path, starter_path: Path) -> None:
    app = WhirrApp()
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        engine = app.engines.engine_for("smollm2:135m")
        await wait_until(lambda: engine.loaded, timeout=LIMIT, what="the default model loaded after the first frame")
        await settle(pilot, timeout=LIMIT)
        pid = engine.pid
        assert pid is not None
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Loaded models")
        await wait_until(lambda: palette_results(app), what="the palette's matches")
        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, ChoiceDialog), timeout=LIMIT, what="the loaded models")
        shown = screen_text(app)
        for column in ("NAME", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"):
            assert column in shown
        assert "smollm2:135m" in shown and "100% CPU" in shown and "minutes from now" in shown
        await pilot.press("enter")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LIMIT
        while engine.loaded or _alive(pid):
            assert loop.time() < deadline, "the runner is still there"
            await asyncio.sleep(0.05)
        await settle(pilot, timeout=LIMIT)
        assert any("Unloaded smollm2:135m" in n.message for n in app._notifications)
        await send(pilot, "Hi", timeout=LIMIT)  # the next answer loads it again
        assert app.db.messages(active_view(app).session.id)[-1].state == "done"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
