"""The chat screen: session tabs over the active session's view, the status line, the meters
panel and the footer; and every chat action, one per entry of `tui.actions.CHAT_ACTIONS`, each
a binding with an id (remappable), listed in help and in the command palette."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Tabs

from tui.actions import CHAT_ACTIONS
from tui.bindings import binding
from tui.chat.session_data import SessionData
from tui.paths import export_folder
from tui.screens.dialogs import ChoiceDialog, ConfirmDialog, TextDialog
from tui.store.records import Session
from tui.widgets.meters_panel import LiveAnswer, MetersPanel
from tui.widgets.prompt import PromptArea
from tui.widgets.session_tabs import SessionTabs, tab_id
from tui.widgets.session_view import SessionView
from tui.widgets.status_line import Status, StatusLine
from tui.widgets.transcript import Transcript
from tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from tui.screens.session_dialog import SessionSettings
    from tui.store.records import SearchHit
    from tui.meters import AnswerEnergy
    from tui.services import Services

# The other screens are imported by the action that opens them: the first frame needs none of
# them (the Modelfile editor and the library alone took a third of the launch time).

UNDO_SECONDS = 6.0
METERS_MIN_WIDTH = 120  # "auto" shows the meters panel from this terminal width on
METERS_EVERY = 0.25  # seconds between refreshes of the panel (the sampler reads at 4 Hz)


def view_id(session_id: int) -> str:
    """The DOM id of a session's view."""
    return f"session-{session_id}"


@dataclass
class ClosedTab:
    """A tab closed a moment ago, which Ctrl+Z can bring back."""

    session_id: int
    index: int


class ChatScreen(Screen):
    """Tabs of sessions over the active session's transcript and prompt, with every chat action."""

    BINDINGS = [binding(a) for a in CHAT_ACTIONS if a.keys]

    DEFAULT_CSS = """
    ChatScreen #main { height: 1fr; }
    ChatScreen #chat { width: 1fr; }
    ChatScreen #sessions { height: 1fr; }
    """

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.closed: ClosedTab | None = None
        self._undo_timer = None
        self._shown: dict[int, tuple[str, bool, bool]] = {}
        self._mounting = asyncio.Lock()
        self._meters_shown_sample: object = None

    def compose(self) -> ComposeResult:
        yield SessionTabs(id="tabs")
        with Horizontal(id="main"):
            with Vertical(id="chat"):
                yield ContentSwitcher(id="sessions")
                yield StatusLine(id="status")
            yield MetersPanel(id="meters")
        yield KeyFooter()

    async def on_mount(self) -> None:
        self._place_meters(self.app.size.width)
        self.set_interval(METERS_EVERY, self._refresh_meters)
        sessions = self.services.db.list_sessions(open_only=True) or [self.create_session()]
        tabs = self.query_one(SessionTabs)
        for session in sessions:
            await tabs.add_session(session.id, session.title)
        await self.open_session(sessions[-1].id)

    # -- sessions and tabs ---------------------------------------------------------------------

    @property
    def view(self) -> SessionView | None:
        """The active session's view."""
        try:
            switcher = self.query_one(ContentSwitcher)  # not there yet while the screen mounts
            current = switcher.current
            if current is None:
                return None
            view = switcher.get_child_by_id(current)  # by id, not a query: asked several times a frame
        except NoMatches:
            return None
        return view if isinstance(view, SessionView) else None

    def create_session(self) -> Session:
        """A new session from the config's defaults."""
        config = self.services.config
        return self.services.db.create_session(
            "New chat", config.default_model, system=config.system, options=config.options
        )

    async def open_session(self, session_id: int, index: int | None = None) -> SessionView:
        """Show a session in a tab and activate it; a closed or archived one is opened again."""
        tabs = self.query_one(SessionTabs)
        if tabs.get_tab(tab_id(session_id)) is None:
            db = self.services.db
            session = db.get_session(session_id)
            if session.archived:
                db.unarchive_session(session_id)
            if not session.open:
                db.update_session(session_id, open=True)
            await tabs.add_session(session_id, session.title, before=index)
        tabs.active = tab_id(session_id)
        return await self._show(session_id)

    async def _show(self, session_id: int) -> SessionView:
        switcher = self.query_one(ContentSwitcher)
        async with self._mounting:  # a tab change and open_session may both ask at once
            if not switcher.query(f"#{view_id(session_id)}"):
                db = self.services.db
                data = SessionData(db, db.get_session(session_id))
                await switcher.mount(SessionView(data, self.services, id=view_id(session_id)))
        switcher.current = view_id(session_id)
        view = self.query_one(f"#{view_id(session_id)}", SessionView)
        view.query_one(PromptArea).focus()
        view.prepare_model()
        self.refresh_status()
        self.refresh_totals()
        return view

    async def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        session_id = self.query_one(SessionTabs).active_session
        if session_id is not None:
            await self._show(session_id)

    async def close_tab(self, session_id: int) -> int:
        """Remove a session's tab and view (its data stays); returns the tab's index."""
        tabs = self.query_one(SessionTabs)
        index = tabs.session_ids().index(session_id)
        switcher = self.query_one(ContentSwitcher)
        for view in self.query(f"#{view_id(session_id)}").results(SessionView):
            view.stop()
            if switcher.current == view.id:
                switcher.current = None
            await view.remove()
        await tabs.remove_tab(tab_id(session_id))
        if not tabs.session_ids():
            await self.open_session(self.create_session().id)
        return index

    def remember_closed(self, session_id: int, index: int) -> None:
        """Offer undo for a few seconds."""
        self.closed = ClosedTab(session_id, index)
        if self._undo_timer is not None:
            self._undo_timer.stop()
        self._undo_timer = self.set_timer(UNDO_SECONDS, self._forget_closed)
        self.refresh_bindings()

    def _forget_closed(self) -> None:
        self.closed = None
        self.refresh_bindings()

    # -- what the views report -------------------------------------------------------------------

    def on_session_view_changed(self, event: SessionView.Changed) -> None:
        # Sent every frame while streaming: touch the tab and the bindings only on real change.
        view = event.view
        shown = (view.session.title, view.streaming, view.editing is not None)
        before = self._shown.get(view.session.id)
        if before != shown:
            self._shown[view.session.id] = shown
            if view is self.view and (before is None or before[1] != view.streaming):
                self._meters_shown_sample = None  # show the answer's state at once
                self.refresh_totals()
            self.query_one(SessionTabs).set_title(view.session.id, view.session.title, busy=view.streaming)
            if view is self.view:
                self.refresh_bindings()
        if view is self.view:
            self.refresh_status()

    def refresh_status(self) -> None:
        """Show the active session in the status line."""
        view = self.view
        if view is None:
            return
        session = view.session
        self.query_one(StatusLine).show(
            Status(
                model=session.model,
                persona=session.persona or "",
                context_used=view.context_used,
                context_size=view.data.options.num_ctx,
                rate=view.rate,
                activity=view.activity,
                problem="model unavailable" if view.problem else "",
                unsaved=self.services.chats_unsaved,
            )
        )

    # -- the meters panel --------------------------------------------------------------------

    def _place_meters(self, width: int) -> None:
        mode = self.services.config.meters_panel
        panel = self.query_one(MetersPanel)
        shown = mode == "on" or (mode == "auto" and width >= METERS_MIN_WIDTH)
        if shown != panel.display:
            panel.display = shown
            self.refresh_totals()

    def on_resize(self, event: events.Resize) -> None:
        self._place_meters(event.size.width)

    def toggle_meters(self) -> bool:
        """Show or hide the meters panel (remembered in the config); returns whether it shows."""
        panel = self.query_one(MetersPanel)
        panel.display = not panel.display
        self.services.config.meters_panel = "on" if panel.display else "off"
        self.services.save_settings("the meters panel choice")
        if panel.display:
            self._meters_shown_sample = None
            self._refresh_meters()
            self.refresh_totals()
        return panel.display

    def _refresh_meters(self) -> None:
        """The machine's latest reading, what a `whirr serve` here serves, and the answer being
        written (cheap: runs 4 times a second while the panel shows; the server's small registry
        file is read each time, and nothing is redrawn when nothing changed)."""
        panel = self.query_one(MetersPanel)
        sampler = self.services.sampler
        view = self.view
        if not panel.display or sampler is None:
            return
        from tui.engine.runner.registry import served_dir, serving  # after the meters started: psutil is loaded

        served = serving(served_dir(self.services.paths))
        sampler.probe.served.watch(pid for entry in served for pid in entry.pids)
        panel.show_served(served)
        latest = sampler.latest
        if latest is not self._meters_shown_sample:
            self._meters_shown_sample = latest
            panel.show_machine(latest, sampler.history())
            if view is not None and view.streaming:
                live = view.measurement.live() if view.measurement is not None else None
                panel.show_answer(LiveAnswer(view.rate, live, view.remote), None)

    def refresh_totals(self) -> None:
        """Read the last answer's cost and the session and all-time totals (in a thread)."""
        view = self.view
        if view is not None and self.query_one(MetersPanel).display:
            self.run_worker(partial(self._read_totals, view), group="totals", exclusive=True)

    async def _read_totals(self, view: SessionView) -> None:
        db = self.services.db

        def read() -> tuple[AnswerEnergy | None, str, dict[str, int | float], dict[str, int | float]]:
            data = view.data
            return data.last_answer_energy(), data.last_answer_server(), db.session_totals(view.session.id), db.session_totals()

        last, server, session, everything = await asyncio.to_thread(read)
        if view is self.view and not view.streaming:
            panel = self.query_one(MetersPanel)
            panel.show_answer(None, last, server)
            panel.show_totals(session, everything, self.services.config.energy.currency)

    async def on_prompt_area_submitted(self, event: PromptArea.Submitted) -> None:
        if self.view is not None:
            await self.view.send(event.text)

    async def on_prompt_area_edit_last(self) -> None:
        if self.view is not None:
            await self.view.edit_last()

    def rerender(self) -> None:
        """Render every mounted answer again (after a theme change)."""
        for view in self.query(SessionView):
            view.rerender()

    # -- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop and undo-close act only when there is something to stop or undo."""
        if action == "stop":
            view = self.view
            return view is not None and (view.streaming or view.editing is not None)
        if action == "undo_close":
            return self.closed is not None
        return True

    # -- session actions -------------------------------------------------------------------------

    async def action_new_session(self) -> None:
        """Start a chat with the default model and settings."""
        await self.open_session(self.create_session().id)

    async def action_close_session(self) -> None:
        """Close the tab; undo brings it back for a few seconds."""
        view = self.view
        if view is None:
            return
        session = view.session
        db = self.services.db
        empty = view.data.count() == 0
        index = await self.close_tab(session.id)
        if empty:
            db.delete_session(session.id)
            return
        db.update_session(session.id, open=False)
        self.remember_closed(session.id, index)
        self.notify(f"Closed “{session.title}”. Ctrl+Z to undo.", timeout=6)

    async def action_undo_close(self) -> None:
        """Reopen the tab just closed."""
        closed = self.closed
        if closed is None:
            return
        self.closed = None
        await self.open_session(closed.session_id, index=closed.index)
        self.refresh_bindings()

    def action_rename_session(self) -> None:
        """Give the session a new title."""
        view = self.view
        if view is None:
            return

        def done(title: str | None) -> None:
            if title:
                view.data.rename(title)
                self.query_one(SessionTabs).set_title(view.session.id, title, busy=view.streaming)

        self.app.push_screen(TextDialog("Rename session", "Title", view.session.title), done)

    def action_next_tab(self) -> None:
        """Go to the tab on the right."""
        self.query_one(SessionTabs).action_next_tab()

    def action_previous_tab(self) -> None:
        """Go to the tab on the left."""
        self.query_one(SessionTabs).action_previous_tab()

    def action_goto_tab(self, number: int) -> None:
        """Go to tab `number` (from 1)."""
        ids = self.query_one(SessionTabs).session_ids()
        if 0 < number <= len(ids):
            self.query_one(SessionTabs).active = tab_id(ids[number - 1])

    def action_session_settings(self) -> None:
        """Edit the session's system prompt and parameters."""
        from tui.screens.session_dialog import SessionDialog

        view = self.view
        if view is None:
            return

        def done(settings: SessionSettings | None) -> None:
            if settings is not None:
                view.set_settings(settings.system, settings.options)
                self.notify("Session settings saved.")

        self.app.push_screen(SessionDialog(view.session.title, view.session.system, view.data.options), done)

    def use_model(self, model: str | None) -> None:
        """Switch the active session to `model` (what the model picker and the library chose)."""
        view = self.view
        if view is not None and model and model != view.session.model:
            view.set_model(model)
            self.notify(f"This session now uses {model}.")

    def action_pick_model(self) -> None:
        """Switch the session's model or persona (the conversation is kept)."""
        from tui.screens.model_picker import ModelPicker

        view = self.view
        if view is None:
            return
        picker = ModelPicker(
            self.services.library, view.session.model, view.data.options.num_ctx, personas=self.services.personas
        )
        self.app.push_screen(picker, self.use_model)

    def action_load_anyway(self) -> None:
        """Palette: load a model the memory estimate refused."""
        view = self.view
        if view is None or not view.too_big:
            self.notify("Nothing to force: this session's model was not refused for memory.")
        else:
            view.load_anyway()

    def action_open_library(self) -> None:
        """Open the model library; the model chosen there is used in this session."""
        from tui.screens.library import LibraryScreen

        view = self.view
        self.app.push_screen(LibraryScreen(self.services, view.session.model if view is not None else ""), self.use_model)

    # -- answers -------------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Stop the answer, or leave edit mode."""
        view = self.view
        if view is not None and not view.stop():
            view.cancel_edit()

    async def action_regenerate(self) -> None:
        """Drop the last answer and ask again."""
        if self.view is not None:
            await self.view.regenerate()

    def action_copy(self) -> None:
        """Copy the last answer, or one of its code blocks."""
        answer = self.view.last_answer() if self.view is not None else None
        if answer is None or not answer.answer_text:
            self.notify("There is no answer to copy yet.")
            return
        blocks = answer.code_blocks()
        if not blocks:
            self.services.copy_text(answer.answer_text, "the answer")
            return
        choices = ["The whole answer"] + [f"Code block {i}: {_first_line(b)}" for i, b in enumerate(blocks, 1)]

        def done(choice: int | None) -> None:
            if choice is not None:
                text, what = (answer.answer_text, "the answer") if choice == 0 else (blocks[choice - 1], f"code block {choice}")
                self.services.copy_text(text, what)

        self.app.push_screen(ChoiceDialog("Copy", choices), done)

    # -- finding, exporting, archiving ---------------------------------------------------------------

    def action_toggle_meters(self) -> None:
        """Show or hide the meters panel."""
        self.toggle_meters()

    def action_modelfile_editor(self) -> None:
        """Open the Modelfile editor over the chat."""
        from tui.screens.modelfile_editor import ModelfileEditor

        self.app.push_screen(ModelfileEditor(self.services))

    def action_search(self) -> None:
        """Search every chat; the hit chosen opens in its tab."""
        from tui.screens.search import SearchDialog


        async def done(hit: SearchHit | None) -> None:
            if hit is None:
                return
            view = await self.open_session(hit.session_id)
            await view.query_one(Transcript).jump_to(hit.message_id)

        self.app.push_screen(SearchDialog(self.services.db), done)

    def action_export(self, fmt: str) -> None:
        """Write the session to a Markdown or JSON file."""
        view = self.view
        if view is None:
            return
        suffix = ".md" if fmt == "markdown" else ".json"
        default = str(export_folder() / f"{_slug(view.session.title)}{suffix}")

        def done(path: str | None) -> None:
            if path:
                self.services.export_session(view.session.id, fmt, Path(path).expanduser())

        self.app.push_screen(TextDialog(f"Export as {fmt.capitalize()}", "File", default), done)

    def action_archive_session(self) -> None:
        """Archive after confirmation (Reopen session brings it back)."""
        self._confirm_then("archive")

    def action_delete_session(self) -> None:
        """Delete after confirmation."""
        self._confirm_then("delete")

    def _confirm_then(self, what: str) -> None:
        view = self.view
        if view is None:
            return
        session = view.session
        question = (
            f"Delete “{session.title}” and all its messages? This cannot be undone."
            if what == "delete"
            else f"Archive “{session.title}”? It can be reopened later (palette: Reopen session)."
        )

        async def done(yes: bool | None) -> None:
            if not yes:
                return
            await self.close_tab(session.id)
            db = self.services.db
            if what == "delete":
                db.delete_session(session.id)
            else:
                db.archive_session(session.id)
            self.notify(f"{'Deleted' if what == 'delete' else 'Archived'} “{session.title}”.")

        self.app.push_screen(ConfirmDialog(f"{what.capitalize()} session", question, yes=what.capitalize()), done)

    def action_reopen_session(self) -> None:
        """Reopen an archived or closed session."""
        db = self.services.db
        candidates = db.list_sessions(archived=True) + [s for s in db.list_sessions() if not s.open]
        if not candidates:
            self.notify("There are no archived or closed sessions.")
            return
        labels = [f"{s.title}  ({'archived' if s.archived else 'closed'})" for s in candidates]

        async def done(choice: int | None) -> None:
            if choice is not None:
                await self.open_session(candidates[choice].id)

        self.app.push_screen(ChoiceDialog("Reopen session", labels), done)

    def action_help(self) -> None:
        """Show every binding."""
        from tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.services.config.keys))

def _first_line(text: str, limit: int = 40) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "session"
