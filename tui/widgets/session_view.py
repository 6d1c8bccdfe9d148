"""One chat session on screen: its transcript, a notice line, its prompt, and its answers.

The view stores the user's message and starts the answer; the answer pipeline
(`tui.chat.pipeline`) streams it, saves it as it grows and finishes it in the database, while
the view renders it once per frame. Engines come from the app's engine source and are asked
for in a thread, as is everything that may block (loading, counting tokens).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from tui.actions import auto_title
from tui.chat.pipeline import AnswerPipeline, Outcome, count_context, describe_error, load_model
from tui.chat.session_data import SessionData, history_for, view_start_index, with_persona
from tui.engine.base import ChatRequest, Stats
from tui.engine.options import Options
from tui.models.fit import DoesNotFit
from tui.store.records import DatabaseError, Session
from tui.widgets.message import AnswerMessage, UserMessage
from tui.widgets.prompt import PromptArea
from tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from tui.meters import Measurement
    from tui.services import Services

FRAME = 1 / 10  # how often a streaming answer is rendered: plenty for reading (see MarkdownLines)
STATUS_EVERY = 0.25  # seconds between updates of the status line's tok/s and context while streaming


class SessionView(Vertical):
    """A session's transcript and prompt; streams answers from the app's engine source."""

    DEFAULT_CSS = """
    SessionView {
        height: 1fr;
        & > .notice { display: none; padding: 0 1; color: $warning; background: $warning 10%; }
        & > .notice.-shown { display: block; }
    }
    """

    class Changed(Message):
        """Something the status line or tab shows has changed."""

        def __init__(self, view: "SessionView") -> None:
            super().__init__()
            self.view = view

    def __init__(self, data: SessionData, services: Services, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data = data
        self.services = services
        self.streaming = False
        self.rate: float | None = None
        self.context_used: int | None = None
        self.problem = ""
        self.too_big = False  # the problem is the memory estimate: the user may load it anyway
        self.activity = ""
        self.editing: int | None = None  # id of the user message being edited
        self.remote = ""  # the server writing the current (or last) answer; empty: this machine
        self._pipeline: AnswerPipeline | None = None
        self._prepared_for: str | None = None

    @property
    def session(self) -> Session:
        """The session record."""
        return self.data.session

    @property
    def measurement(self) -> Measurement | None:
        """The energy of the answer being written, while it is measured."""
        return self._pipeline.measurement if self._pipeline is not None else None

    def compose(self) -> ComposeResult:
        yield Transcript(self.data, model=lambda: self.session.model)
        yield Static("", classes="notice", markup=False)
        yield PromptArea()

    async def on_mount(self) -> None:
        transcript = self.query_one(Transcript)
        await transcript.open()
        await transcript.set_view_start(self.data.view_start())
        self.query_one(PromptArea).focus()

    # -- state shown elsewhere ---------------------------------------------------------------

    def _changed(self) -> None:
        notice = next(self.query(".notice").results(Static), None)
        if not self.is_attached or notice is None:
            return  # the tab was closed (or is closing) while something finished in the background
        way_out = "Ctrl+O: pick a model, or Load anyway (Ctrl+P)" if self.too_big else "Ctrl+O: pick a model"
        notice.update(f"{self.problem}  —  {way_out}" if self.problem else "")
        notice.set_class(bool(self.problem), "-shown")
        self.post_message(self.Changed(self))

    def prepare_model(self) -> None:
        """Load the session's model in the background and count the context (once per model)."""
        if self._prepared_for == self.session.model:
            return
        self._prepared_for = model = self.session.model
        # After the next frame: loading must never delay what the user sees.
        self.call_after_refresh(self.run_worker, partial(self._prepare, model), group="prepare", exclusive=True)

    def _engine_for(self, model: str) -> Any:
        """The engine for a model (call in a thread: the first call builds the engine manager)."""
        return self.services.engines.engine_for(model)

    async def _prepare(self, model: str) -> None:
        def loading(percent: int | None) -> None:
            self.activity = f"loading {model}" + (f" {percent}%" if percent is not None else "")
            self._changed()

        try:
            engine = await load_model(partial(self._engine_for, model), self.data.options, loading)
            self.set_problem(None)
            self.activity = ""
            self._changed()
            messages, _ = await asyncio.to_thread(history_for, self.data)
            if not messages or not self.streaming:
                self.context_used = await count_context(engine, messages, self.data.options)
        except Exception as error:  # a model that cannot load is the session's problem, never the app's
            self.set_problem(error)
            self._prepared_for = None
        self.activity = ""
        self._changed()

    def set_problem(self, error: Exception | None) -> None:
        """What keeps this session from answering (None: nothing)."""
        self.problem = describe_error(error) if error is not None else ""
        self.too_big = isinstance(error, DoesNotFit)

    def load_anyway(self) -> None:
        """Load the session's model although the memory estimate says it does not fit."""
        if self.too_big:
            self.too_big = False
            self.run_worker(self._force_load(self.session.model), group="prepare", exclusive=True)

    async def _force_load(self, model: str) -> None:
        engine = await asyncio.to_thread(self._engine_for, model)
        engine.force = True
        await self._prepare(model)

    # -- chatting ------------------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Store and show the user's message, then ask for an answer."""
        if self.streaming:
            self.app.notify("An answer is still being written (Esc stops it).", severity="warning")
            return
        transcript = self.query_one(Transcript)
        await transcript.show_end()
        if self.editing is not None:
            await self._delete_from(self.editing)
            self.cancel_edit()
        try:
            if self.data.count() == 0 and self.session.title == "New chat":
                self.data.rename(auto_title(text))
            stored = self.data.add_user(text)
        except DatabaseError as error:
            self.app.notify(f"Not sent (your message is still in the prompt): {error}", severity="error")
            self.services.saving_result(error)
            return
        self.services.saving_result(None)
        await transcript.add(UserMessage(text, message_id=stored.id))
        self.query_one(PromptArea).clear()
        await self.ask()

    async def ask(self) -> None:
        """Answer the conversation as it stands."""
        messages, indices = await asyncio.to_thread(history_for, self.data)
        persona = await asyncio.to_thread(self.services.persona_target, self.session.model)
        messages, indices, options, template = with_persona(messages, indices, self.data, persona)
        try:
            answer_id = self.data.start_answer()
        except DatabaseError as error:
            self.app.notify(f"Cannot answer: {error}", severity="error")
            return
        widget = AnswerMessage(model=self.session.model, message_id=answer_id, streaming=True)
        transcript = self.query_one(Transcript)
        await transcript.add(widget)
        transcript.scroll_end(animate=False)
        self.streaming, self.rate = True, None
        self._changed()
        request = ChatRequest(messages, options, template=template, conversation_id=str(self.session.id))
        self.run_worker(self._answer(request, indices, widget), group="answer", exclusive=True)

    async def _answer(self, request: ChatRequest, indices: list[int], widget: AnswerMessage) -> None:
        answer_id = widget.message_id

        def finish(outcome: Outcome) -> None:
            # Stored with the session index where the model's view begins (older ones left out).
            stats = _seen_from(outcome.stats, indices)
            self._save(self.data.finish_answer, answer_id, outcome.text, outcome.state, stats, outcome.energy)
            self.streaming, self.rate = False, None

        status_at = 0.0

        def frame() -> None:
            nonlocal status_at
            widget.flush()
            now = time.monotonic()
            if self._pipeline is not None and self._pipeline.tokens and now - status_at >= STATUS_EVERY:
                status_at = now
                self.rate = self._pipeline.rate()
                self.context_used = self._pipeline.context_used  # grows as the answer streams
                self.post_message(self.Changed(self))

        def started() -> None:
            self.set_problem(None)
            self.remote = self._pipeline.remote if self._pipeline is not None else ""

        def on_token(text: str) -> None:
            if not widget.text:
                widget.set_status("")  # the first token: no more "reading the prompt"
            widget.feed(text)

        self._pipeline = AnswerPipeline(
            request,
            on_token=on_token,
            on_status=widget.set_status,
            on_start=started,
            save=lambda text: self._save(self.data.save_partial, answer_id, text),
            finish=finish,
            meter=self.services.energy_meter,
            factors=self.services.config.energy,
        )
        frames = self.set_interval(FRAME, frame)
        try:
            outcome = await self._pipeline.run(partial(self._engine_for, self.session.model))
        finally:
            frames.stop()
            self._pipeline = None
        if outcome.error is not None:
            self.set_problem(outcome.error)
        stats = _seen_from(outcome.stats, indices)
        if stats.prompt_eval_count or stats.eval_count:
            self.context_used = stats.prompt_eval_count + stats.prompt_cached_count + stats.eval_count
        widget.finish(stats, outcome.state)
        await self.query_one(Transcript).set_view_start(stats.messages_dropped)
        self._changed()

    def _save(self, write: Callable[..., None], *args: Any) -> None:
        """Store part of an answer; a failing disk is reported (once), and the answer goes on."""
        try:
            write(*args)
        except DatabaseError as error:
            self.services.saving_result(error)
        else:
            self.services.saving_result(None)

    def stop(self) -> bool:
        """Stop the answer being written; False when there is none."""
        return self._pipeline is not None and self._pipeline.cancel()

    async def regenerate(self) -> None:
        """Drop the last answer and ask again."""
        if self.streaming:
            return
        transcript = self.query_one(Transcript)
        await transcript.show_end()
        last = transcript.messages[-1] if transcript.messages else None
        if last is None:
            self.app.notify("Nothing to regenerate yet.")
            return
        if isinstance(last, AnswerMessage) and last.message_id is not None:
            await self._delete_from(last.message_id)
        await self.ask()

    async def edit_last(self) -> None:
        """Put the last user message in the prompt; sending replaces it and its answer."""
        if self.streaming:
            return
        transcript = self.query_one(Transcript)
        await transcript.show_end()
        last = transcript.last(UserMessage)
        if not isinstance(last, UserMessage) or last.message_id is None:
            return
        prompt = self.query_one(PromptArea)
        prompt.text = last.content
        prompt.move_cursor(prompt.document.end)
        prompt.set_editing(True)
        self.editing = last.message_id

    def cancel_edit(self) -> bool:
        """Leave edit mode (the prompt is cleared); False when not editing."""
        if self.editing is None:
            return False
        self.editing = None
        prompt = self.query_one(PromptArea)
        prompt.clear()
        prompt.set_editing(False)
        return True

    async def _delete_from(self, message_id: int) -> None:
        """Delete a message and everything after it."""
        transcript = self.query_one(Transcript)
        doomed = [w.message_id for w in transcript.messages if (w.message_id or 0) >= message_id]
        for doomed_id in doomed:
            if doomed_id is not None:
                self.data.delete_message(doomed_id)
                await transcript.remove_message(doomed_id)

    def last_answer(self) -> AnswerMessage | None:
        """The newest answer on screen."""
        found = self.query_one(Transcript).last(AnswerMessage)
        return found if isinstance(found, AnswerMessage) else None

    # -- settings ------------------------------------------------------------------------------

    def set_model(self, model: str) -> None:
        """Switch the session's model (the conversation stays) and load it in the background."""
        self.data.update(model=model)
        self.set_problem(None)
        self.context_used = None
        self.prepare_model()
        self._changed()

    def set_settings(self, system: str, options: Options) -> None:
        """New system prompt and parameters for this session."""
        self.data.update(system=system, options=options)
        self.context_used = None
        self._prepared_for = None
        self.prepare_model()
        self._changed()

    def rerender(self) -> None:
        """Render answers again after a theme change."""
        self.query_one(Transcript).rerender()


def _seen_from(stats: Stats, indices: list[int]) -> Stats:
    """`stats` with `messages_dropped` as the session index of the first message the model saw."""
    return replace(stats, messages_dropped=view_start_index(indices, stats.messages_dropped))
