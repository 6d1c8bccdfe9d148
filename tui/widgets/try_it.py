"""The editor's try-it pane: a test prompt and the streamed answer of the Modelfile being edited.

The answer takes the chat's path: the answer pipeline (`tui.chat.pipeline`) streams it from an
engine of the app's engine source, and an `AnswerMessage` renders it once per frame. What to
ask (engine and request) comes from the screen as a blocking callable, run in a thread;
whatever it raises is shown here, in the pane, and the app goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from tui.chat.pipeline import AnswerPipeline, describe_error
from tui.engine.base import ChatRequest
from tui.widgets.message import AnswerMessage
from tui.widgets.session_view import FRAME

# What the screen hands over: blocking, returns the engine, the request and a label for the answer.
Prepare = Callable[[], tuple[Any, ChatRequest, str]]


class TryIt(Vertical):
    """A prompt line and the answer to it; Escape (the screen's stop) cancels the answer."""

    DEFAULT_CSS = """
    TryIt {
        height: 1fr;
        & > Input { margin: 0; }
        & > #try-answer { height: 1fr; }
        & > #try-answer AnswerMessage { margin: 0; }
        & > .error { color: $error; display: none; }
        & > .error.-shown { display: block; }
    }
    """

    class Submitted(Message):
        """The user sent a test prompt."""

        def __init__(self, prompt: str) -> None:
            super().__init__()
            self.prompt = prompt

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.streaming = False
        self.error = ""  # the problem shown instead of an answer
        self._pipeline: AnswerPipeline | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="A test prompt · Enter: ask", id="try-prompt")
        yield Static("", classes="error", markup=False)
        yield VerticalScroll(id="try-answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.Submitted(event.value.strip()))

    def ask(self, prepare: Prepare) -> None:
        """Answer in the background: `prepare` runs in a thread, then the answer streams here."""
        if self.streaming:
            self.app.notify("The test answer is still being written (Esc stops it).", severity="warning")
            return
        self.streaming = True
        self.run_worker(self._answer(prepare), group="try-it", exclusive=True)

    def stop(self) -> bool:
        """Stop the answer being written; False when there is none."""
        return self._pipeline is not None and self._pipeline.cancel()

    def show_error(self, text: str) -> None:
        """Show a problem in place of an answer ('' hides it)."""
        self.error = text
        error = self.query_one(".error", Static)
        error.update(text)
        error.set_class(bool(text), "-shown")

    async def _answer(self, prepare: Prepare) -> None:
        log = self.query_one("#try-answer", VerticalScroll)
        await log.remove_children()
        self.show_error("")
        try:
            try:
                engine, request, label = await asyncio.to_thread(prepare)
            except Exception as error:  # a Modelfile that cannot run is shown, never raised
                self.show_error(describe_error(error))
                return
            widget = AnswerMessage(model=label, streaming=True)
            await log.mount(widget)

            def frame() -> None:
                widget.flush()
                log.scroll_end(animate=False)

            self._pipeline = AnswerPipeline(request, on_token=widget.feed, on_status=widget.set_status)
            frames = self.set_interval(FRAME, frame)
            try:
                outcome = await self._pipeline.run(lambda: engine)
            finally:
                frames.stop()
                self._pipeline = None
            if outcome.error is not None:
                self.show_error(describe_error(outcome.error))
            widget.finish(outcome.stats, outcome.state)
            log.scroll_end(animate=False)
        finally:
            self.streaming = False
