"""The tab bar of chat sessions: one tab per open session, marked while it is answering."""

from __future__ import annotations

from textual.await_complete import AwaitComplete
from textual.content import Content
from textual.widgets import Tab, Tabs

BUSY = "● "


def tab_id(session_id: int) -> str:
    """The tab id of a session."""
    return f"tab-{session_id}"


def session_of(tab: str | None) -> int | None:
    """The session id of a tab id."""
    if not tab or not tab.startswith("tab-"):
        return None
    return int(tab.removeprefix("tab-"))


class SessionTabs(Tabs):
    """Tabs whose ids carry the session id; labels show a marker while answering."""

    DEFAULT_CSS = """
    SessionTabs { height: 2; }
    SessionTabs Tab { padding: 0 1; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.can_focus = False

    def add_session(self, session_id: int, title: str, before: int | None = None) -> AwaitComplete:
        """Add a tab for a session (at the end, or before the tab at index `before`)."""
        tabs = list(self.query(Tab))
        anchor = tabs[before] if before is not None and before < len(tabs) else None
        return self.add_tab(Tab(Content(title), id=tab_id(session_id)), before=anchor)

    def set_title(self, session_id: int, title: str, busy: bool = False) -> None:
        """Show a session's title, marked when it is answering."""
        tab = self.get_tab(tab_id(session_id))
        if tab is not None:
            tab.label = Content(f"{BUSY if busy else ''}{title}")

    def session_ids(self) -> list[int]:
        """Open sessions in tab order."""
        return [sid for tab in self.query(Tab) if (sid := session_of(tab.id)) is not None]

    @property
    def active_session(self) -> int | None:
        """The session of the active tab."""
        return session_of(self.active)
