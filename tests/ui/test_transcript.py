"""A long session: only a window of messages is mounted, and moving through it loads pages."""

from __future__ import annotations

from tests.ui.helpers import AppFactory, active_view, settle
from tui.app import WhirrApp
from tui.engine.base import Stats
from tui.engine.options import Options
from tui.widgets.message import AnswerMessage, UserMessage
from tui.widgets.transcript import MAX_MOUNTED, PAGE, Transcript, estimated_lines

COUNT = 400


def long_session(make_app: AppFactory) -> WhirrApp:
    app = make_app()
    session = app.db.create_session("Long", "smollm2:135m", system="", options=Options())
    for i in range(COUNT // 2):
        app.db.add_message(session.id, "user", f"Question {i}", state="done")
        app.db.add_message(session.id, "assistant", f"Answer {i}\n\n- point one\n- point two", state="done", stats=Stats(eval_count=9))
    return app


def first_user(transcript: Transcript) -> str:
    return next(w.content for w in transcript.messages if isinstance(w, UserMessage))


async def test_opening_mounts_only_what_fills_the_view(make_app: AppFactory) -> None:
    app = long_session(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        transcript = active_view(app).query_one(Transcript)
        assert transcript.total == COUNT
        assert transcript.hi == COUNT
        assert 2 <= len(transcript.messages) <= PAGE
        assert transcript.lo == COUNT - len(transcript.messages)
        last = transcript.messages[-1]
        assert isinstance(last, AnswerMessage) and last.answer_text.startswith(f"Answer {COUNT // 2 - 1}")


async def test_home_end_and_paging_move_the_window(make_app: AppFactory) -> None:
    app = long_session(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        transcript = active_view(app).query_one(Transcript)
        transcript.focus()
        await pilot.press("home")
        await settle(pilot)
        assert transcript.lo == 0
        assert first_user(transcript) == "Question 0"
        await pilot.press("end")
        await settle(pilot)
        assert transcript.hi == COUNT
        lo_at_end = transcript.lo
        for _ in range(15):
            await pilot.press("pageup")
        await settle(pilot)
        assert transcript.lo < lo_at_end  # older pages were loaded while scrolling up
        assert len(transcript.messages) <= MAX_MOUNTED
        assert transcript.scroll_y > 0  # loading above kept the view in place


async def test_the_window_never_grows_past_its_limit(make_app: AppFactory, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("tui.widgets.transcript.MAX_MOUNTED", 30)
    app = long_session(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        transcript = active_view(app).query_one(Transcript)
        for _ in range(15):  # reach the top again and again: each time a page is loaded above
            transcript.scroll_to(y=0, animate=False)
            await pilot.pause()
        await settle(pilot)
        assert len(transcript.messages) <= 30
        assert transcript.hi - transcript.lo == len(transcript.messages)
        assert transcript.hi < COUNT  # the far end was let go


async def test_jumping_to_an_old_message_loads_its_page(make_app: AppFactory) -> None:
    app = long_session(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        view = active_view(app)
        target = app.db.messages(view.session.id, offset=101, limit=1)[0]
        transcript = view.query_one(Transcript)
        assert await transcript.jump_to(target.id)
        await settle(pilot)
        found = transcript.query(".-found")
        assert [w.message_id for w in found] == [target.id]  # type: ignore[attr-defined]
        assert transcript.lo <= 101 < transcript.hi


def test_estimated_lines_grow_with_text_and_wrapping() -> None:
    assert estimated_lines("one line", 80) == 4
    assert estimated_lines("a\nb\nc", 80) == 6
    assert estimated_lines("x" * 200, 50) > estimated_lines("x" * 200, 100)
