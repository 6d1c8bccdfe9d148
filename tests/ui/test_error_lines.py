"""An error under an answer is wrapped, never cut at the edge of a narrow terminal."""

from __future__ import annotations

from textual.widgets import Label

from tests.ui.helpers import send, settle
from tui.app import WhirrApp
from tui.engine.synthetic import SyntheticEngines
from tui.widgets.message import AnswerMessage

LONG = ("the model needs 9.1 GB but only 3.2 GB of memory is free: use a smaller quantization, "
        "lower num_ctx, or close other programs (shorten the context to fit) END")


def _refusing(name: str):  # noqa: ANN202
    raise LookupError(LONG)


async def test_a_long_error_is_wrapped_in_the_transcript(whirr_home) -> None:  # noqa: ANN001
    app = WhirrApp(engines=SyntheticEngines(_refusing))
    app.animation_level = "none"
    async with app.run_test(size=(60, 24)) as pilot:
        await send(pilot, "hi")
        await settle(pilot)
        meta = app.screen.query_one(AnswerMessage).query_one(".answer-meta", Label)
        lines = [strip.text for strip in meta.render_lines(meta.region.reset_offset)]
        assert len(lines) >= 3 and all(len(line) <= 60 for line in lines)
        assert " ".join(" ".join(lines).split()).endswith("(shorten the context to fit) END")
