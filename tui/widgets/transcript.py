"""The scrolling conversation, mounting only a window of messages near the viewport.

A session may hold thousands of messages; only a window [lo, hi) of them is mounted. Reaching
the top loads the previous page (keeping the view still), reaching the bottom of a window that
is not the end loads the next one, and the window never grows past MAX_MOUNTED messages.
New messages are mounted only while the window reaches the end. The view follows a streaming
answer only while it is scrolled to the bottom (Textual's anchor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, Protocol

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from tui.engine.base import Stats
from tui.store.records import StoredMessage
from tui.widgets.message import AnswerMessage, ContextMarker, UserMessage

PAGE = 24  # messages fetched at a time; only those needed to fill the view are mounted
FILL_SCREENS = 2  # mount enough messages to fill this many screens
MAX_MOUNTED = 120
_EDGE = 2  # lines from the top or bottom that count as "reached"
_STATS_FIELDS = {f.name for f in fields(Stats)}


class MessageSource(Protocol):
    """Where a session's messages come from (the database, for one session)."""

    def count(self) -> int:
        """How many messages the session has."""
        ...

    def page(self, offset: int, limit: int) -> Sequence[StoredMessage]:
        """Messages [offset, offset + limit) in order."""
        ...

    def index_of(self, message_id: int) -> int | None:
        """The position of a message in the session, or None."""
        ...


def stats_from(record: dict[str, Any]) -> Stats | None:
    """The engine statistics in what the database stored for an answer (None if there are none)."""
    known = {k: v for k, v in record.items() if k in _STATS_FIELDS}
    return Stats(**known) if known else None


def estimated_lines(content: str, width: int) -> int:
    """Roughly how many lines a message takes at `width` (without rendering it)."""
    usable = max(10, width - 6)
    return 3 + sum(max(1, -(-len(line) // usable)) for line in content.split("\n"))


def message_widget(message: StoredMessage, model: str) -> Widget:
    """The widget showing one stored message."""
    if message.role == "user":
        return UserMessage(message.content, message_id=message.id)
    model_name = message.stats.get("model", model)
    return AnswerMessage(
        message.content, model=model_name, message_id=message.id, stats=stats_from(message.stats), state=message.state
    )


class Transcript(VerticalScroll, can_focus=True):
    """A session's messages, windowed; focus it to scroll with the keyboard."""

    DEFAULT_CSS = """
    Transcript {
        height: 1fr;
        padding: 0 1 1 1;
        scrollbar-size-vertical: 1;
        & > .empty-hint { color: $text-muted; margin: 1 0; }
        & > .-found { background: $accent 20%; }
    }
    """

    def __init__(self, source: MessageSource, model: Callable[[], str], id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self._model = model
        self.total = 0
        self.lo = 0
        self.hi = 0
        self._view_start = 0  # messages before this index are outside the model's view
        self._loading = False

    @property
    def messages(self) -> list[UserMessage | AnswerMessage]:
        """Mounted message widgets, oldest first."""
        return [w for w in self.children if isinstance(w, (UserMessage, AnswerMessage))]

    @property
    def at_end(self) -> bool:
        """True when the newest message is mounted."""
        return self.hi == self.total

    async def open(self) -> None:
        """Mount the newest messages and scroll to the bottom."""
        self.total = self.source.count()
        await self._show_end_window()
        self.scroll_end(animate=False, immediate=True)
        self.anchor()

    async def show_end(self) -> None:
        """Make sure the newest messages are mounted and follow the bottom again."""
        self.total = self.source.count()
        if self.hi != self.total:
            await self._show_end_window()
        self.scroll_end(animate=False)
        self.anchor()

    async def action_scroll_home(self) -> None:
        """Home: the very first message of the session, not just of the window."""
        if self.lo > 0:
            await self._show_window(self._enough(self.source.page(0, PAGE), from_end=False, screens=FILL_SCREENS), 0)
        self.release_anchor()
        self.scroll_home(animate=False)

    async def action_scroll_end(self) -> None:
        """End: the newest message, following new text again."""
        await self.show_end()

    async def jump_to(self, message_id: int) -> bool:
        """Scroll to a message and highlight it; False when it is not in this session."""
        widget = self._widget_for(message_id)
        if widget is None:
            index = self.source.index_of(message_id)
            if index is None:
                return False
            self.total = self.source.count()
            lo = max(0, index - PAGE // 2)
            await self._show_window(self.source.page(lo, PAGE), lo)
            widget = self._widget_for(message_id)
            if widget is None:
                return False
        self.release_anchor()
        for other in self.query(".-found"):
            other.remove_class("-found")
        widget.add_class("-found")
        self.call_after_refresh(self.scroll_to_widget, widget, animate=False, top=True)
        return True

    async def add(self, widget: Widget) -> None:
        """A new message at the end (mounted only if the window reaches the end)."""
        showing_end = self.at_end
        self.total += 1
        if showing_end:
            self.hi += 1
            for hint in self.query(".empty-hint"):
                await hint.remove()
            await self.mount(widget)

    async def remove_message(self, message_id: int) -> None:
        """Forget a deleted message."""
        widget = self._widget_for(message_id)
        self.total -= 1
        if widget is not None:
            self.hi -= 1
            await widget.remove()

    async def set_view_start(self, index: int) -> None:
        """Mark where the model's view begins (index 0: it sees everything)."""
        self._view_start = index
        await self._place_marker()

    def last(self, kind: type[Widget]) -> Widget | None:
        """The newest mounted message of a kind (UserMessage or AnswerMessage)."""
        return next((w for w in reversed(self.messages) if isinstance(w, kind)), None)

    def rerender(self) -> None:
        """Render answers again (after a theme change)."""
        for answer in self.query(AnswerMessage):
            answer.rerender()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._loading or not self.is_mounted:
            return
        if new_value <= _EDGE and self.lo > 0 and new_value < old_value:
            self.run_worker(self._load_older(), group="transcript-page", exclusive=True)
        elif new_value >= self.max_scroll_y - _EDGE and self.hi < self.total and new_value > old_value:
            self.run_worker(self._load_newer(), group="transcript-page", exclusive=True)

    async def _load_older(self) -> None:
        self._loading = True
        try:
            first = self.messages[0] if self.messages else None
            start = max(0, self.lo - PAGE)
            stored = self._enough(self.source.page(start, self.lo - start), from_end=True, screens=1)
            widgets = self._widgets(stored)
            if not widgets:
                return
            lo = self.lo - len(stored)
            offset = first.virtual_region.y - round(self.scroll_y) if first is not None else 0
            await self.mount_all(widgets, before=first)
            self.lo = lo
            await self._trim(from_end=True)
            await self._place_marker()
            if first is not None:
                self.call_after_refresh(self._restore, first, offset)
        finally:
            self._loading = False

    async def _load_newer(self) -> None:
        self._loading = True
        try:
            stored = self._enough(self.source.page(self.hi, PAGE), from_end=False, screens=1)
            hi = self.hi + len(stored)
            widgets = self._widgets(stored)
            last = self.messages[-1] if self.messages else None
            offset = last.virtual_region.y - round(self.scroll_y) if last is not None else 0
            await self.mount_all(widgets)
            self.hi = hi
            await self._trim(from_end=False)
            await self._place_marker()
            if last is not None:
                self.call_after_refresh(self._restore, last, offset)
        finally:
            self._loading = False

    def _restore(self, widget: Widget, offset: int) -> None:
        """Scroll so `widget` sits `offset` lines below the top again."""
        self.scroll_to(y=widget.virtual_region.y - offset, animate=False, immediate=True)

    async def _trim(self, from_end: bool) -> None:
        messages = self.messages
        extra = len(messages) - MAX_MOUNTED
        if extra <= 0:
            return
        doomed = messages[-extra:] if from_end else messages[:extra]
        if any(isinstance(w, AnswerMessage) and w.streaming for w in doomed):
            return
        await self.remove_children(doomed)
        if from_end:
            self.hi -= extra
        else:
            self.lo += extra

    def _enough(self, stored: Sequence[StoredMessage], from_end: bool, screens: float) -> Sequence[StoredMessage]:
        """The messages nearest the view (the end of `stored`, or its start) that fill `screens`."""
        height = self.size.height or self.app.size.height
        width = self.size.width or self.app.size.width
        ordered = list(reversed(stored)) if from_end else list(stored)
        taken, lines = 0, 0
        for message in ordered:
            taken += 1
            lines += estimated_lines(message.content, width)
            if lines >= screens * height:
                break
        return stored[len(stored) - taken :] if from_end else stored[:taken]

    async def _show_end_window(self) -> None:
        start = max(0, self.total - PAGE)
        stored = self._enough(self.source.page(start, self.total - start), from_end=True, screens=FILL_SCREENS)
        await self._show_window(stored, self.total - len(stored))

    async def _show_window(self, stored: Sequence[StoredMessage], lo: int) -> None:
        widgets = self._widgets(stored)
        self.lo, self.hi = lo, lo + len(widgets)
        with self.app.batch_update():
            await self.remove_children()
            if widgets:
                await self.mount_all(widgets)
            else:
                await self.mount(Static("Type a message and press Enter.  F1: help", classes="empty-hint"))
            await self._place_marker()

    async def _place_marker(self) -> None:
        for marker in self.query(ContextMarker):
            await marker.remove()
        index = self._view_start
        if index <= 0 or not self.lo <= index < self.hi:
            return
        await self.mount(ContextMarker(index), before=self.messages[index - self.lo])

    def _widgets(self, stored: Sequence[StoredMessage]) -> list[Widget]:
        model = self._model()
        return [message_widget(m, model) for m in stored if m.role in ("user", "assistant")]

    def _widget_for(self, message_id: int) -> Widget | None:
        return next((w for w in self.messages if getattr(w, "message_id", None) == message_id), None)
