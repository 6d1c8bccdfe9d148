"""The servers dialog (library `m`, or the palette's "Model servers"): add, edit and remove the
`[servers.NAME]` tables of config.toml.

The list on top holds the servers and "Add a server"; the form below edits the highlighted one.
Save checks the fields as reading config.toml does (tui/servers.py) and shows the first problem
on one line; nothing is written until every field is right. Keys are never typed here: the form
takes the name of the environment variable that holds one.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select
from textual.widgets.option_list import Option

from tui.models.library import Library
from tui.paths import Paths
from tui.screens.dialogs import Dialog
from tui.servers import (
    KINDS,
    OLLAMA_HOST_SERVER,
    Server,
    ServerError,
    load_servers,
    remove_server,
    save_server,
    server_from_table,
)

NEW = "new"


def server_label(server: Server) -> str:
    """One line of the list: name, kind, address, key variable, TLS."""
    key = f"  key ${server.api_key_env}" if server.api_key_env else ""
    tls = "  TLS not checked" if not server.verify else ""
    return f"{server.name:<12} {server.kind:<7} {server.url}{key}{tls}"


class ServersDialog(Dialog[bool]):
    """Edit the servers; dismissed with True when config.toml was changed."""

    DEFAULT_CSS = """
    ServersDialog > #dialog { width: 90; }
    ServersDialog OptionList { height: auto; max-height: 8; border: none; padding: 0; &:focus { border: none; } }
    ServersDialog OptionList { margin-bottom: 1; }
    ServersDialog .field { height: 1; margin-bottom: 1; }
    ServersDialog .field Label { width: 14; }
    ServersDialog .field Input, ServersDialog .field Select { width: 1fr; }
    ServersDialog Checkbox { margin-left: 14; }
    """

    def __init__(self, paths: Paths, library: Library) -> None:
        super().__init__()
        self._paths, self._library = paths, library
        self._editing: str | None = None  # the server the form shows; None: a new one
        self._changed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Model servers"
            yield OptionList(id="servers")
            with Horizontal(classes="field"):
                yield Label("Name")
                yield Input(placeholder="gpu", id="name", compact=True)
            with Horizontal(classes="field"):
                yield Label("Kind")
                yield Select([(kind, kind) for kind in KINDS], value="ollama", allow_blank=False, id="kind", compact=True)
            with Horizontal(classes="field"):
                yield Label("URL")
                yield Input(placeholder="http://gpu-box:11434  (openai: the base URL with its /v1)", id="url", compact=True)
            with Horizontal(classes="field"):
                yield Label("Key variable")
                yield Input(placeholder="the environment variable holding the key, e.g. GPU_KEY; empty: none", id="key", compact=True)
            with Horizontal(classes="field"):
                yield Label("Models")
                yield Input(placeholder="empty: all; else names separated by commas", id="models", compact=True)
            yield Checkbox("Check TLS certificates (https)", value=True, id="verify", compact=True)
            yield Label("", classes="error", id="server-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Remove", variant="error", id="remove", compact=True)
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#servers", OptionList).focus()

    def _fill(self, highlight: str | None = None) -> None:
        servers = self._library.servers
        options = self.query_one("#servers", OptionList)
        options.clear_options()
        options.add_options(Option(server_label(s), id=s.name) for s in servers)
        options.add_option(Option("+ Add a server", id=NEW))
        ids = [s.name for s in servers] + [NEW]
        options.highlighted = ids.index(highlight) if highlight in ids else 0
        self._show(servers[options.highlighted] if options.highlighted < len(servers) else None)

    def _show(self, server: Server | None) -> None:
        """Put `server` (None: an empty form for a new one) in the form."""
        self._editing = server.name if server is not None else None
        self.query_one("#name", Input).value = server.name if server else ""
        self.query_one("#kind", Select).value = server.kind if server else "ollama"
        self.query_one("#url", Input).value = server.url if server else ""
        self.query_one("#key", Input).value = server.api_key_env if server else ""
        self.query_one("#models", Input).value = ", ".join(server.models) if server else ""
        self.query_one("#verify", Checkbox).value = server.verify if server else True
        self.query_one("#remove", Button).disabled = server is None
        self.query_one("#server-error", Label).update("")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        self._show(next((s for s in self._library.servers if s.name == name), None))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#name", Input).focus()

    def _from_form(self) -> Server:
        models = [m.strip() for m in self.query_one("#models", Input).value.split(",") if m.strip()]
        table = {
            "kind": self.query_one("#kind", Select).value,
            "url": self.query_one("#url", Input).value,
            "api_key_env": self.query_one("#key", Input).value.strip(),
            "models": models,
            "verify": self.query_one("#verify", Checkbox).value,
        }
        return server_from_table(self.query_one("#name", Input).value, table)

    def _reload(self, highlight: str | None) -> None:
        self._changed = True
        self._library.servers = load_servers(self._paths)
        self._fill(highlight)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        error = self.query_one("#server-error", Label)
        if event.button.id == "close":
            self.dismiss(self._changed)
        elif event.button.id == "save":
            try:
                server = self._from_form()
                save_server(self._paths, server, replace=self._editing)
            except (ServerError, OSError) as problem:
                error.update(str(problem))
                return
            self._reload(server.name)
            self.notify(f"Saved the server {server.name}.")
        elif event.button.id == "remove" and self._editing is not None:
            name = self._editing
            try:
                removed = remove_server(self._paths, name)
            except (ServerError, OSError) as problem:
                error.update(str(problem))
                return
            if not removed:
                why = "it comes from OLLAMA_HOST: unset that variable" if name == OLLAMA_HOST_SERVER else "it is not in config.toml"
                error.update(f"{name} cannot be removed here: {why}")
                return
            self._reload(NEW)
            self.notify(f"Removed the server {name}.")

    def action_cancel(self) -> None:
        """Close; the library is listed again when something changed."""
        self.dismiss(self._changed)
