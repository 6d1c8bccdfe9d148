"""Search every chat (Ctrl+F): type, see matching messages, Enter jumps to one."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.screens.dialogs import Dialog
from tui.store.db import Database
from tui.store.records import SearchHit

DEBOUNCE = 0.15
LIMIT = 50


def hit_line(hit: SearchHit) -> Text:
    """One search result: session title, who wrote it, and the matching text."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(hit.session_title, style="bold")
    text.append(f" · {'you' if hit.role == 'user' else 'answer'}: ", style="dim")
    text.append(" ".join(hit.snippet.split()))
    return text


class SearchDialog(Dialog[SearchHit | None]):
    """Returns the chosen search hit (with session_id and message_id), or None."""

    DEFAULT_CSS = """
    SearchDialog > #dialog { width: 100; }
    SearchDialog OptionList { height: auto; max-height: 14; border: none; padding: 0; &:focus { border: none; } }
    """

    def __init__(self, db: Database, query: str = "") -> None:
        super().__init__()
        self._db = db
        self._query = query
        self._hits: list[SearchHit] = []
        self._timer = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Search chats"
            yield Input(self._query, placeholder="words to find…")
            yield Label("", id="search-status", markup=False)
            yield OptionList()
            yield Label("Enter: search / open   ↓: results   Esc: close", classes="hint")

    def on_mount(self) -> None:
        if self._query:
            self._search()

    def on_input_changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._search)

    def on_input_submitted(self) -> None:
        options = self.query_one(OptionList)
        if self._hits:
            options.highlighted = 0
            options.focus()
        else:
            self._search()

    def on_key(self, event: events.Key) -> None:
        if event.key == "down" and self.focused is self.query_one(Input) and self._hits:
            event.stop()
            self.on_input_submitted()

    def _search(self) -> None:
        query = self.query_one(Input).value.strip()
        status = self.query_one("#search-status", Label)
        options = self.query_one(OptionList)
        options.clear_options()
        self._hits = []
        if not query:
            status.update("")
            return
        self._hits = self._db.search(query, limit=LIMIT)
        status.update(f"{len(self._hits)} match{'es' if len(self._hits) != 1 else ''}" if self._hits else "no matches")
        options.add_options(Option(hit_line(hit), id=str(i)) for i, hit in enumerate(self._hits))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._hits[int(event.option.id or 0)])
