"""The multi-line prompt: Enter sends, Shift+Enter or Ctrl+J inserts a line break, and Up in an
empty prompt brings back the last message to edit and resend."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import TextArea

from tui.bindings import bindings


class PromptArea(TextArea):
    """Where the user writes; grows with its text up to a few lines."""

    DEFAULT_CSS = """
    PromptArea {
        height: auto;
        min-height: 3;
        max-height: 10;
        border: round $primary 50%;
        padding: 0 1;
        &:focus { border: round $primary; }
        &.-editing { border-title-color: $warning; border: round $warning; }
    }
    """

    BINDINGS = bindings("prompt.send", "prompt.newline", "prompt.edit_last")

    class Submitted(Message):
        """The user pressed Enter on a prompt with text."""

        def __init__(self, prompt: "PromptArea", text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    class EditLast(Message):
        """The user pressed Up in an empty prompt."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, compact=False)
        self.border_title = "Message"

    def action_submit(self) -> None:
        """Send the text (nothing happens when it is blank)."""
        # The App runs this binding as soon as Enter arrives, but keys typed just before it
        # (one burst over SSH, or a fast typist) may still wait in this widget's queue;
        # queue the send behind them so none is lost.
        self.call_later(self._send)

    def _send(self) -> None:
        text = self.text.strip()
        if text:
            self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")

    def action_edit_last(self) -> None:
        """Up: recall the last message when empty; otherwise move the cursor up."""
        if self.text:
            self.action_cursor_up()
        else:
            self.post_message(self.EditLast())

    def set_editing(self, editing: bool) -> None:
        """Show whether the text replaces the last message when sent."""
        self.set_class(editing, "-editing")
        self.border_title = "Edit last message (Esc: cancel)" if editing else "Message"
