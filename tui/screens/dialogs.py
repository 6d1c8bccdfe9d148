"""Small modal dialogs: confirm, ask for a line of text, choose from a list.

Every dialog works from the keyboard alone: Enter accepts, Escape cancels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from tui.bindings import bindings

T = TypeVar("T")


class Dialog(ModalScreen[T], Generic[T]):
    """A centred box over the chat; Escape dismisses it with None."""

    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 60%;
    }
    Dialog > #dialog {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
        background: $surface;
    }
    Dialog .hint { color: $text-muted; }
    Dialog .error { color: $error; }
    Dialog .buttons { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog .buttons Button { margin-left: 1; min-width: 10; }
    """

    BINDINGS = bindings("dialog.cancel")

    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)


class ConfirmDialog(Dialog[bool]):
    """Yes or no; `y`/Enter on Yes confirms, `n`/Escape cancels."""

    BINDINGS = bindings("dialog.yes", "dialog.no")

    def __init__(self, title: str, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self._title, self._question, self._yes = title, question, yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = self._title
            yield Label(self._question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self._yes, variant="error", id="yes")
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        """Answer from the keyboard."""
        self.dismiss(answer)

    def action_cancel(self) -> None:
        """Cancelling means no."""
        self.dismiss(False)


class TextDialog(Dialog[str | None]):
    """Ask for one line of text; `check` returns an error message or '' when the text is fine."""

    def __init__(
        self,
        title: str,
        label: str,
        value: str = "",
        check: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self._title, self._label, self._value = title, label, value
        self._check = check or (lambda text: "" if text.strip() else "Please enter some text.")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = self._title
            yield Label(self._label, markup=False)
            yield Input(self._value)
            yield Label("", classes="error")
            yield Label("Enter: OK   Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        error = self._check(event.value)
        self.query_one(".error", Label).update(error)
        if not error:
            self.dismiss(event.value.strip())


class ChoiceDialog(Dialog[int | None]):
    """Pick one of several entries; returns its index."""

    DEFAULT_CSS = """
    ChoiceDialog OptionList { height: auto; max-height: 16; border: none; padding: 0; &:focus { border: none; } }
    ChoiceDialog .header { padding: 0 1; text-style: bold; }
    """

    def __init__(
        self, title: str, choices: Sequence[str], hint: str = "Enter: choose   Esc: cancel", header: str = ""
    ) -> None:
        """`header`: a line above the entries (the column names of a table)."""
        super().__init__()
        self._title, self._choices, self._hint, self._header = title, list(choices), hint, header

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = self._title
            if self._header:
                yield Label(self._header, classes="header", markup=False)
            yield OptionList(*(Option(text, id=str(i)) for i, text in enumerate(self._choices)))
            yield Label(self._hint, classes="hint", markup=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))
