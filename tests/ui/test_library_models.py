"""In the app: an Ollama-store model answers with its own layers, and a model that does not fit
in memory is refused with both numbers (the real starter model, real files)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.ui.helpers import active_view, send, settle
from tui.app import WhirrApp
from tui.config import Config, save_config
from tui.engine.options import Options
from tui.paths import resolve_paths

LIMIT = 180.0  # seconds; a loaded 2-core machine can be slow


@pytest.mark.model
async def test_an_ollama_model_answers_with_its_layers_in_the_app(stores) -> None:
    save_config(Config(default_model="tinypirate:latest"), resolve_paths())
    app = WhirrApp()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, timeout=LIMIT)
        await send(pilot, "Hello", timeout=LIMIT)
        await settle(pilot, timeout=LIMIT)
        stored = app.db.messages(active_view(app).session.id)
    assert stored[-1].state == "done" and stored[-1].stats["eval_count"] <= 12
    # The CLI applies the same layers (system prompt, template, temperature 0, seed 7).
    cli = subprocess.run([sys.executable, "-m", "tui", "run", "tinypirate", "Hello"], capture_output=True, text=True, timeout=LIMIT)
    assert stored[-1].content.strip() and stored[-1].content.strip() == cli.stdout.strip()


@pytest.mark.model
async def test_a_model_too_big_for_memory_is_refused_with_the_numbers_then_loaded_anyway(huge_model: str) -> None:
    save_config(Config(default_model=huge_model, options=Options(temperature=0.0, seed=1, num_predict=8)), resolve_paths())
    app = WhirrApp()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, timeout=LIMIT)
        view = active_view(app)
        problem = view.problem
        notice = str(view.query_one(".notice").render())
        assert problem.startswith("model 'huge:q4_1' does not fit in memory: needs 1.0 TB, ")
        assert problem.endswith("available; try a smaller quantization or a smaller context (num_ctx)")
        assert notice.endswith("Ctrl+O: pick a model, or Load anyway (Ctrl+P)")
        await app.screen.run_action("load_anyway")  # what the palette's "Load the model anyway" runs
        await pilot.pause()
        await settle(pilot, timeout=LIMIT)
        assert view.problem == "" and not view.too_big
        await send(pilot, "Hello", timeout=LIMIT)
        await settle(pilot, timeout=LIMIT)
        stored = app.db.messages(view.session.id)
    assert stored[-1].state == "done" and stored[-1].content.strip()
