"""The layout of the chat screen and its bookkeeping: session tabs over the active session's
view, the status line, the meters panel and the footer. The actions live in `chat.py`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Tabs

from tui.chat.session_data import SessionData
from tui.store.records import Session
from tui.widgets.meters_panel import LiveAnswer, MetersPanel
from tui.widgets.prompt import PromptArea
from tui.widgets.session_tabs import SessionTabs, tab_id
from tui.widgets.session_view import SessionView
from tui.widgets.status_line import Status, StatusLine

if TYPE_CHECKING:
    from tui.meters import AnswerEnergy
    from tui.services import Services

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


class SessionsScreen(Screen):
    """Tabs of sessions over the active session's transcript and prompt."""

    DEFAULT_CSS = """
    SessionsScreen #main { height: 1fr; }
    SessionsScreen #chat { width: 1fr; }
    SessionsScreen #sessions { height: 1fr; }
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
        yield Footer()

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
        switcher = self.query_one(ContentSwitcher)
        current = switcher.current
        if current is None:
            return None
        try:
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
        """The machine's latest reading and the answer being written (cheap: runs 4 times a second
        while the panel shows; nothing is redrawn when no new reading arrived)."""
        panel = self.query_one(MetersPanel)
        sampler = self.services.sampler
        view = self.view
        if not panel.display or sampler is None:
            return
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
