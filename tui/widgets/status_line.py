"""The status line: the session's model and persona, context used / size, live tokens/s, and
what is happening in the background (a spinner while a model loads)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import Static

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass(frozen=True)
class Status:
    """Everything the status line shows for the active session."""

    model: str = ""
    persona: str = ""
    context_used: int | None = None  # exact prompt + answer tokens; None until counted
    context_size: int = 0
    rate: float | None = None  # tokens/s of the answer being written
    activity: str = ""  # e.g. "loading smollm2:135m"; shown with a spinner
    problem: str = ""
    unsaved: bool = False  # chats are not being saved (shown until they are again)


class StatusLine(Static):
    """One line under the prompt; call `show(status)` whenever something changes."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.status = Status()
        self._frame = 0
        self._timer = None

    def show(self, status: Status) -> None:
        """Display `status`; a spinner turns while there is background activity."""
        self.status = status
        if status.activity and self._timer is None:
            self._timer = self.set_interval(0.1, self._spin)
        elif not status.activity and self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.update(self._text(), layout=False)  # one line, always: no layout needed

    def change(self, **fields: object) -> None:
        """Display the current status with some fields changed."""
        self.show(replace(self.status, **fields))

    def _spin(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        self.update(self._text(), layout=False)  # one line, always: no layout needed

    def _text(self) -> Text:
        status = self.status
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(status.model or "no model", style="bold")
        if status.persona:
            text.append(f" · {status.persona}")
        if status.context_size:
            used = "?" if status.context_used is None else f"{status.context_used:,}"
            text.append(f" · ctx {used}/{status.context_size:,}")
        if status.rate is not None:
            text.append(f" · {status.rate:,.1f} tok/s", style="bold")
        if status.unsaved:
            text.append(" · chats not saved", style="bold red")
        if status.problem:
            text.append(f" · {status.problem}", style="bold red")
        if status.activity:
            text.append(f" · {SPINNER[self._frame]} {status.activity}")
        return text
