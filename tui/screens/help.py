"""The help screen (F1 or ?): every key, as remapped by the user, and what it does."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from tui.actions import Action, APP_ACTIONS, CHAT_ACTIONS, DIALOG_ACTIONS, EDITOR_ACTIONS, HUB_ACTIONS, LIBRARY_ACTIONS, MOVE_KEYS, PROMPT_ACTIONS
from tui.bindings import bindings, key_problem
from tui.screens.dialogs import Dialog


def key_text(keys: str) -> str:
    """Keys as people write them, one per line: `ctrl+pagedown,ctrl+tab` -> `Ctrl+PageDown` and
    `Ctrl+Tab` on two lines (a narrow terminal keeps its width for the descriptions)."""
    names = {"pagedown": "PageDown", "pageup": "PageUp", "question_mark": "?", "escape": "Esc", "slash": "/"}
    shown = []
    for key in keys.split(","):
        parts = [names.get(p, p.capitalize() if len(p) > 1 else p.upper()) for p in key.strip().split("+")]
        shown.append("+".join(parts))
    return "\n".join(shown)


TAB_JUMPS = ("Alt+1 …\nAlt+9", "Jump to tab 1 … 9 (works over SSH and tmux; on macOS, Option must send Meta/Esc+)")


def help_table(keymap: dict[str, str]) -> Group:
    """Keys (as remapped in `keymap`), what each does, and its binding id for [keys] in
    config.toml; a heading and a two-column table per section, so a long heading never widens
    the keys column of a narrow terminal."""
    parts: list[Text | Table] = []

    def section(title: str, actions: tuple[Action, ...], extra: tuple[tuple[str, str], ...] = ()) -> None:
        table = Table(box=None, show_header=False, expand=True, padding=(0, 2, 0, 0))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        for action in actions:
            keys = keymap.get(action.id, action.keys)
            what = Text(f"{action.description}: {action.help}")
            what.append(f"\n{action.id}", style="dim italic")
            table.add_row(key_text(keys) if keys else "palette", what)
        for keys, text in extra:
            table.add_row(keys, text)
        parts.extend([Text(title, style="underline"), table, Text("")])

    chat = tuple(a for a in CHAT_ACTIONS if not a.id.startswith("session.goto_"))
    section("Sessions and answers", chat, (TAB_JUMPS,))
    section("Prompt", PROMPT_ACTIONS)
    section("Model library (F3)", LIBRARY_ACTIONS)
    section("Hugging Face (h in the library)", HUB_ACTIONS, (("Enter", "Search, open the repository, download the file"),))
    section("Modelfile editor (F4)", EDITOR_ACTIONS, (("Tab\nRight", "Accept the completion shown after the cursor"),))
    section("Everywhere", APP_ACTIONS, tuple((keys.replace(" / ", "\n"), text) for keys, text in MOVE_KEYS))
    section("Dialogs", DIALOG_ACTIONS)
    return Group(*parts)


REMAP_HINT = 'Remap a key by the id under it, in config.toml:  [keys]  "session.new" = "ctrl+t"    Esc: close'


class HelpScreen(Dialog[None]):
    """Lists every binding with its id; Escape, F1 or q closes it."""

    DEFAULT_CSS = """
    HelpScreen > #dialog { width: 96; max-width: 100%; height: 90%; }
    HelpScreen VerticalScroll { height: 1fr; }
    HelpScreen .hint { width: 100%; height: auto; }
    """

    BINDINGS = bindings("help.close")

    def __init__(self, keymap: dict[str, str]) -> None:
        """`keymap`: the user's [keys]; a key string the app refused is not shown as in use."""
        super().__init__()
        self._keymap = {binding_id: keys for binding_id, keys in keymap.items() if not key_problem(keys)}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Keys"
            with VerticalScroll() as scroll:
                scroll.can_focus = True
                yield Static(help_table(self._keymap))
            yield Label(REMAP_HINT, classes="hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
