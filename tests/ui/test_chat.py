"""Chatting: send, stream, stop, regenerate, edit and resend, copy, thinking sections, queueing."""

from __future__ import annotations

import asyncio

from textual.widgets import Collapsible

from tests.ui.helpers import AppFactory, active_view, chat_screen, press_now, send, settle, wait_until
from tui.widgets.message import AnswerMessage, UserMessage
from tui.widgets.prompt import PromptArea
from tui.widgets.status_line import StatusLine
from tui.widgets.transcript import Transcript


def stored(app, view=None):  # noqa: ANN001, ANN201 - app and view of the test
    view = view or active_view(app)
    return list(app.db.messages(view.session.id, offset=0, limit=1000))


async def test_enter_sends_and_the_answer_is_shown_and_stored(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello there")
        view = active_view(app)
        answer = view.query_one(Transcript).last(AnswerMessage)
        assert isinstance(answer, AnswerMessage)
        assert answer.text == "You said: hello there"
        assert view.query_one(PromptArea).text == ""
        messages = stored(app)
        assert [(m.role, m.content) for m in messages] == [("user", "hello there"), ("assistant", "You said: hello there")]
        assert messages[1].state == "done"
        # The session id names the conversation, so the engine can keep its KV cache snapshot.
        assert app.engines.engine_for(view.session.model).requests[-1].conversation_id == str(view.session.id)
        assert view.session.title == "hello there"  # a new session is titled by its first message
        assert "ctx" in str(chat_screen(app).query_one(StatusLine).render())


async def test_text_and_enter_arriving_in_one_burst_are_sent_together(make_app: AppFactory) -> None:
    """Over SSH (or from tmux send-keys) the typed text and Enter can arrive in one read."""
    from textual import events

    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        for character in "quick":
            app._driver.send_message(events.Key(character, character))
        app._driver.send_message(events.Key("enter", "\r"))
        await pilot.pause()
        await settle(pilot)
        assert [(m.role, m.content) for m in stored(app)] == [("user", "quick"), ("assistant", "You said: quick")]
        assert active_view(app).query_one(PromptArea).text == ""


async def test_ctrl_j_inserts_a_line_break_instead_of_sending(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("a", "ctrl+j", "b")
        view = active_view(app)
        assert view.query_one(PromptArea).text == "a\nb"
        assert stored(app) == []
        await pilot.press("enter")
        await settle(pilot)
        assert stored(app)[0].content == "a\nb"


async def test_escape_stops_the_answer_and_keeps_what_was_written(make_app: AppFactory) -> None:
    app = make_app(reply="word " * 2000, rate=200)
    async with app.run_test() as pilot:
        await press_now(pilot, *"go", "enter")
        view = active_view(app)
        await wait_until(lambda: (answer := view.query_one(Transcript).last(AnswerMessage)) and answer.text,
                         what="the answer's first words")
        await press_now(pilot, "escape")
        await settle(pilot)
        answer = stored(app)[-1]
        assert answer.state == "stopped"
        assert 0 < len(answer.content) < len("word " * 2000)
        widget = view.query_one(Transcript).last(AnswerMessage)
        assert "stopped" in str(widget.query_one(".answer-meta").render())  # type: ignore[union-attr]


async def test_ctrl_r_regenerates_the_last_answer(make_app: AppFactory) -> None:
    replies = iter(["first answer", "second answer"])
    app = make_app(reply=lambda request: next(replies))
    async with app.run_test() as pilot:
        await send(pilot, "question")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [(m.role, m.content) for m in stored(app)] == [("user", "question"), ("assistant", "second answer")]
        answers = active_view(app).query(AnswerMessage)
        assert [a.text for a in answers] == ["second answer"]


async def test_up_in_an_empty_prompt_edits_and_resends_the_last_message(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await send(pilot, "secnod")
        await pilot.press("up")
        prompt = active_view(app).query_one(PromptArea)
        assert prompt.text == "secnod"
        assert prompt.has_class("-editing")
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"cond", "enter")
        await settle(pilot)
        assert [m.content for m in stored(app)] == ["first", "You said: first", "second", "You said: second"]
        assert [w.content for w in active_view(app).query(UserMessage)] == ["first", "second"]


async def test_escape_leaves_edit_mode(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await pilot.press("up", "escape")
        view = active_view(app)
        assert view.editing is None
        assert view.query_one(PromptArea).text == ""


async def test_up_with_text_moves_the_cursor(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await pilot.press("a", "ctrl+j", "b", "up")
        prompt = active_view(app).query_one(PromptArea)
        assert prompt.cursor_location == (0, 1)
        assert active_view(app).editing is None


async def test_ctrl_y_copies_the_last_answer(make_app: AppFactory) -> None:
    app = make_app(reply="Plain answer.")
    async with app.run_test() as pilot:
        await send(pilot, "hi")
        await pilot.press("ctrl+y")
        assert app.clipboard == "Plain answer."


async def test_ctrl_y_offers_the_code_blocks_of_the_answer(make_app: AppFactory) -> None:
    app = make_app(reply="Try this:\n\n```python\nprint('hi')\n```\n\nor\n\n```sh\necho hi\n```\n")
    async with app.run_test() as pilot:
        await send(pilot, "code please")
        await pilot.press("ctrl+y")
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        assert app.clipboard == "echo hi\n"
        await pilot.press("ctrl+y")
        await pilot.pause()
        await pilot.press("enter")
        assert app.clipboard.startswith("Try this:")


async def test_ctrl_y_without_an_answer_says_so(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(notifications=True) as pilot:
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert any("no answer to copy" in n.message for n in app._notifications)


async def test_a_thinking_section_is_shown_collapsed(make_app: AppFactory) -> None:
    app = make_app(reply="<think>\nLet me think about it.\n</think>\n\nThe answer is **42**.")
    async with app.run_test() as pilot:
        await send(pilot, "meaning?")
        answer = active_view(app).query_one(AnswerMessage)
        thinking = answer.query_one(Collapsible)
        assert thinking.collapsed
        assert answer.answer_text == "The answer is **42**."
        assert stored(app)[-1].content.startswith("<think>")


async def test_a_second_session_on_the_same_model_waits_and_says_so(make_app: AppFactory) -> None:
    app = make_app(reply="word " * 400, rate=400)
    async with app.run_test() as pilot:
        await press_now(pilot, *"one", "enter")
        first = active_view(app)
        await wait_until(lambda: first.streaming, what="the first answer")
        await press_now(pilot, "ctrl+n")
        await wait_until(lambda: active_view(app) is not first, what="the second session")
        second = active_view(app)
        await press_now(pilot, *"two", "enter")
        # Its answer is mounted once the history and persona are read (threads).
        await wait_until(lambda: second.query(AnswerMessage) and second.query_one(AnswerMessage).query(".answer-meta"),
                         what="the second answer")
        meta = second.query_one(AnswerMessage).query_one(".answer-meta")
        await wait_until(lambda: "waiting" in str(meta.render()), what="the second answer to say it waits")
        await settle(pilot, timeout=20)
        assert stored(app, second)[-1].state == "done"
        assert stored(app, first)[-1].state == "done"


async def scroll_settled(transcript: Transcript, timeout: float = 3.0) -> float:
    """The scroll position once it has stayed put for 0.15 s (a key may take a frame or two)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last, still = transcript.scroll_y, 0
    while still < 3 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
        still = still + 1 if transcript.scroll_y == last else 0
        last = transcript.scroll_y
    return last


async def test_the_view_follows_the_answer_only_while_at_the_bottom(make_app: AppFactory) -> None:
    app = make_app(reply="line\n\n" * 2000, rate=500)
    async with app.run_test() as pilot:
        await press_now(pilot, *"go", "enter")
        view = active_view(app)
        transcript = view.query_one(Transcript)
        await wait_until(lambda: transcript.max_scroll_y >= 30, what="a long answer")
        transcript.focus()
        await wait_until(lambda: app.focused is transcript, what="the transcript's focus")
        await press_now(pilot, "pageup")
        held = await scroll_settled(transcript)
        assert held < transcript.max_scroll_y
        answer = transcript.last(AnswerMessage)
        written = len(answer.text)
        await wait_until(lambda: len(answer.text) > written + 200 or not view.streaming, what="more of the answer")
        assert transcript.scroll_y == held  # reading up is never fought
        await settle(pilot)
        # Never pulled down; the finished answer may lay out a little shorter, which can only
        # clamp the position upwards.
        assert transcript.scroll_y <= held
        await pilot.press("end")
        await pilot.pause()
        assert transcript.scroll_y == transcript.max_scroll_y


async def test_copy_says_where_the_text_went_without_a_local_clipboard(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "hi")
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard == "You said: hi"
        shown = [n.message for n in app._notifications]
        assert any("terminal's clipboard" in message for message in shown), shown
