"""End to end with the real starter model (SmolLM2-135M): greedy, seeded, a few tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.helpers import active_view, chat_screen, screen_text, send, settle, wait_until
from tui.app import WhirrApp
from tui.config import Config, save_config
from tui.engine.options import Options
from tui.format import format_joules
from tui.meters import AnswerEnergy
from tui.paths import resolve_paths
from tui.widgets.message import AnswerMessage, ContextMarker
from tui.widgets.status_line import StatusLine

GREEDY = Options(temperature=0.0, seed=42, num_predict=12)
LIMIT = 180.0  # seconds; a loaded 2-core machine can be slow


@pytest.mark.model
async def test_a_chat_with_the_starter_model(whirr_home: Path, starter_path: Path) -> None:
    save_config(Config(options=GREEDY), resolve_paths())
    app = WhirrApp()  # with this machine's own meters, started after the first frame
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, timeout=LIMIT)
        await send(pilot, "What is the capital of France?", timeout=LIMIT)
        await settle(pilot, timeout=LIMIT)
        view = active_view(app)
        answer = view.query_one(AnswerMessage)
        stored = app.db.messages(view.session.id)
        assert stored[-1].state == "done"
        assert stored[-1].content.strip()
        assert stored[-1].content == answer.text
        assert 0 < stored[-1].stats["eval_count"] <= 12
        assert stored[-1].stats["model"] == "smollm2:135m"
        status = chat_screen(app).query_one(StatusLine).status
        assert status.context_used is not None and status.context_used > 10
        assert f"ctx {status.context_used:,}/4,096" in screen_text(app)
        # What the answer cost, measured while the real model ran, stored and shown in the panel.
        energy = AnswerEnergy.from_stats(stored[-1].stats)
        assert energy is not None and energy.tokens == stored[-1].stats["eval_count"]
        assert energy.cpu_s > 0 and energy.whirr_j > 0 and energy.co2_g > 0
        assert stored[-1].stats["energy_j"] == energy.whirr_j
        assert app.db.session_totals(view.session.id)["energy_j"] == energy.whirr_j
        await wait_until(lambda: f"{format_joules(energy.whirr_j)} · " in screen_text(app), what="the answer's energy")


@pytest.mark.model
async def test_the_transcript_marks_where_the_models_view_begins(whirr_home: Path, starter_path: Path) -> None:
    save_config(Config(options=Options(temperature=0.0, seed=1, num_predict=8, num_ctx=256)), resolve_paths())
    app = WhirrApp()
    long_text = "Tell me about the history of bread baking in many different countries. " * 6
    session = app.db.create_session("Long", "smollm2:135m", system="", options=Options(temperature=0.0, seed=1, num_predict=8, num_ctx=256))
    for turn in range(4):
        app.db.add_message(session.id, "user", f"{turn}: {long_text}", state="done")
        app.db.add_message(session.id, "assistant", long_text, state="done", stats={"eval_count": 60})
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, timeout=LIMIT)
        await send(pilot, "Thanks!", timeout=LIMIT)
        await settle(pilot, timeout=LIMIT)
        view = active_view(app)
        last = app.db.messages(view.session.id)[-1]
        assert last.state == "done", last.stats
        dropped = last.stats["messages_dropped"]
        assert dropped >= 2
        markers = list(view.query(ContextMarker))
        assert len(markers) == 1
        assert f"{dropped}" in str(markers[0].render())
