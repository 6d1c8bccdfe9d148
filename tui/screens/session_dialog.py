"""The session dialog (Ctrl+E): a session's system prompt and generation parameters.

Values are checked with the same rule as every other entry point (`parse_parameter`: Ollama's
types and accepted ranges), and each field shows its own error. An empty field means Ollama's
default. A value whirr rounds (num_ctx) is said in a notice when the dialog saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, TextArea

from tui.bindings import bindings
from tui.engine.options import Options, ParameterError, option_help, option_note, parse_parameter
from tui.screens.dialogs import Dialog

FIELDS = ("temperature", "top_k", "top_p", "min_p", "repeat_penalty", "seed", "num_predict", "num_ctx")


@dataclass(frozen=True)
class SessionSettings:
    """What the dialog returns."""

    system: str
    options: Options


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def parse_settings(system: str, raw: dict[str, str], stop_text: str, base: Options) -> tuple[SessionSettings | None, dict[str, str]]:
    """Check the dialog's text; returns the settings (or None) and an error per field name."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    defaults = Options()
    for name, text in raw.items():
        if not text.strip():
            changes[name] = getattr(defaults, name)
            continue
        try:
            changes[name] = parse_parameter(name, text)
        except ParameterError as error:
            errors[name] = str(error)
    changes["stop"] = tuple(parse_parameter("stop", line) for line in stop_text.splitlines() if line)
    if errors:
        return None, errors
    return SessionSettings(system.strip(), base.updated(**changes)), {}


class SessionDialog(Dialog[SessionSettings | None]):
    """Edit the system prompt and parameters; Ctrl+S or the Save button saves."""

    DEFAULT_CSS = """
    SessionDialog > #dialog { width: 80; height: 90%; max-height: 32; }
    SessionDialog VerticalScroll { height: 1fr; }
    SessionDialog #system { height: 5; }
    SessionDialog #stop { height: 3; }
    SessionDialog .row { height: auto; }
    SessionDialog .row > Label { width: 16; padding: 0 1 0 0; }
    SessionDialog .row > Input { width: 1fr; }
    SessionDialog Input, SessionDialog TextArea { background: $boost; &:focus { background: $primary 20%; } }
    SessionDialog .field-error { color: $error; padding-left: 16; display: none; }
    SessionDialog .field-error.-shown { display: block; }
    """

    BINDINGS = bindings("dialog.save")

    def __init__(self, title: str, system: str, options: Options) -> None:
        super().__init__()
        self._title, self._system, self._options = title, system, options

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = f"Session: {self._title}"
            with VerticalScroll():
                yield Label("System prompt")
                yield TextArea(self._system, id="system", soft_wrap=True, compact=True)
                for name in FIELDS:
                    with Horizontal(classes="row"):
                        yield Label(name)
                        value = getattr(self._options, name)
                        yield Input(_shown(value), id=f"field-{name}", compact=True, tooltip=option_help(name))
                    yield Label("", id=f"error-{name}", classes="field-error", markup=False)
                yield Label("stop (one string per line)")
                yield TextArea("\n".join(self._options.stop), id="stop", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
            yield Label("Tab: next field   Ctrl+S: save   Esc: cancel   (empty = default)", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#system", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        """Check every field; save when all are valid, else show the errors."""
        raw = {name: self.query_one(f"#field-{name}", Input).value for name in FIELDS}
        settings, errors = parse_settings(
            self.query_one("#system", TextArea).text, raw, self.query_one("#stop", TextArea).text, self._options
        )
        for name in FIELDS:
            label = self.query_one(f"#error-{name}", Label)
            label.update(errors.get(name, ""))
            label.set_class(name in errors, "-shown")
        if settings is not None:
            for name in FIELDS:
                note = option_note(name, getattr(settings.options, name))
                if note:
                    self.notify(note)
            self.dismiss(settings)
        else:
            self.query_one(f"#field-{next(iter(errors))}", Input).focus()
