"""The model library (F3): every model whirr can run, with its details and memory fit.

Listing runs in a worker thread (it may read GGUF headers). Letters bound to actions act while
the table has focus; any other character typed there goes to the filter above it. Changes to
the library (copy, delete, forget) run in worker threads too; their errors are notified.
The screen is dismissed with the name of the model to use in the current session, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label
from textual.worker import Worker, WorkerState

from tui.actions import LIBRARY_ACTIONS
from tui.bindings import binding
from tui.format import human_size
from tui.models.fit import available_memory
from tui.screens.dialogs import ConfirmDialog, TextDialog
from tui.widgets.model_details import ModelDetails
from tui.widgets.model_table import COLUMNS, ModelRow, ModelTable, build_rows, matches, sorted_rows
from tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from tui.services import Services

Done = tuple[str, "str | None"]
"""What a library change reports: a message for the user and the model to highlight next."""

LIST, CHANGE = "library-list", "library-change"  # worker groups
ROW_ACTIONS = frozenset({"use", "set_default", "copy", "remove", "reveal_path"})


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class LibraryScreen(Screen[str | None]):
    """The model table over a details pane; Enter returns the highlighted model's name."""

    DEFAULT_CSS = """
    LibraryScreen #library-status { height: 1; padding: 0 1; color: $text-muted; }
    LibraryScreen #filter { height: 1; border: none; padding: 0 1; }
    LibraryScreen ModelTable { height: auto; max-height: 50%; }
    LibraryScreen ModelDetails { height: 1fr; }
    """

    BINDINGS = [binding(a) for a in LIBRARY_ACTIONS]
    AUTO_FOCUS = "ModelTable"

    def __init__(self, services: Services, current: str = "", available: int | None = None) -> None:
        """`current` is the session's model (marked with ●); `available` (bytes) fixes the
        memory the fit is checked against (default: what the machine has free when listing)."""
        super().__init__()
        self.services = services
        self._current = current
        self._available = available
        self._rows: list[ModelRow] = []
        self._free = 0
        self._sort, self._reverse = "name", False
        self._select: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("Reading the model library…", id="library-status", markup=False)
        yield Input(placeholder="Type to filter by name, family, quantization or source", id="filter")
        yield ModelTable(id="models")
        yield ModelDetails(id="details")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.action_refresh()

    # -- listing -----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Read the library again (in a thread)."""
        self.query_one(ModelTable).loading = True
        self.run_worker(self._list, thread=True, exclusive=True, group=LIST, exit_on_error=False)

    def _list(self) -> tuple[list[ModelRow], int]:
        options = self.services.config.options
        free = self._available if self._available is not None else available_memory(options.num_gpu)
        return build_rows(self.services.library, self.services.personas, options, free), free

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Show what a listing found, or what a change did; report what failed."""
        worker = event.worker
        if worker.group not in (LIST, CHANGE) or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if worker.group == LIST:
            self.query_one(ModelTable).loading = False
            if event.state is WorkerState.SUCCESS:
                self._rows, self._free = worker.result
                self._show()
                warnings = self.services.library.warnings
                for warning in warnings:  # e.g. an unreadable library.json, moved aside
                    self.notify(warning, severity="warning", timeout=10)
                warnings.clear()  # each is reported once
            else:
                message = f"Could not read the model library: {worker.error}"
                self.query_one("#library-status", Label).update(message)
                self.notify(message, severity="error")
        elif event.state is WorkerState.SUCCESS:
            message, self._select = worker.result
            self.notify(message)
            self.action_refresh()
        else:
            self.notify(f"{worker.name}: {worker.error}", severity="error")

    @property
    def highlighted(self) -> ModelRow | None:
        """The row under the cursor."""
        name = self.query_one(ModelTable).highlighted_name
        return next((row for row in self._rows if row.name == name), None)

    def _show(self) -> None:
        text = self.query_one("#filter", Input).value
        shown = sorted_rows([row for row in self._rows if matches(row, text)], self._sort, self._reverse)
        table = self.query_one(ModelTable)
        table.show(shown, self._current, self._sort, self._reverse)
        if self._select is not None:
            names = [row.name for row in shown]
            if self._select in names:
                table.move_cursor(row=names.index(self._select), animate=False)
            self._select = None
        self.query_one(ModelDetails).show(self.highlighted)
        self.refresh_bindings()
        personas = sum(row.source == "persona" for row in self._rows)
        counts = _plural(len(self._rows) - personas, "model")
        if personas:
            counts += f", {_plural(personas, 'persona')}"
        if text.strip():
            counts = f"{len(shown)} of {counts} match “{text.strip()}”"
        context = self.services.config.options.num_ctx
        self.query_one("#library-status", Label).update(
            f"{counts} · {human_size(self._free)} memory free · fit at {context:,} tokens of context"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.query_one(ModelDetails).show(self.highlighted)
        self.refresh_bindings()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """Clicking a header sorts by it; clicking it again reverses the order."""
        column = str(event.column_key.value)
        self._reverse = not self._reverse if column == self._sort else False
        self._sort = column
        self._show()

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        keys = list(COLUMNS)
        self._sort, self._reverse = keys[(keys.index(self._sort) + 1) % len(keys)], False
        self._show()

    # -- filtering ---------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show()

    def on_key(self, event: events.Key) -> None:
        """Characters typed on the table (and not bound to an action) go to the filter; Down
        in the filter goes back to the table."""
        field = self.query_one("#filter", Input)
        if self.focused is field:
            if event.key == "down":
                self.query_one(ModelTable).focus()
                event.stop()
            return
        if event.is_printable and event.character and event.key not in self.active_bindings:
            field.focus()
            field.insert_text_at_cursor(event.character)
            event.stop()

    def action_focus_filter(self) -> None:
        """/ moves to the filter."""
        self.query_one("#filter", Input).focus()

    def action_back(self) -> None:
        """Clear the filter first, then leave."""
        field = self.query_one("#filter", Input)
        if field.value:
            field.value = ""
            self.query_one(ModelTable).focus()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        """Back to the chat."""
        self.dismiss(None)

    # -- actions on the highlighted row ------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Row actions are greyed out while no row is highlighted."""
        if action in ROW_ACTIONS and self.is_mounted and self.highlighted is None:
            return None
        return True

    def action_use(self) -> None:
        """Use the model in the current chat session."""
        row = self.highlighted
        if row is None:
            return
        if row.problem:
            self.notify(f"{row.name} cannot be used: {row.problem}", severity="error")
            return
        self.dismiss(row.name)

    def action_set_default(self) -> None:
        """Make the model the default: new sessions use it."""
        row = self.highlighted
        if row is None:
            return
        config = self.services.config
        config.default_model = row.name
        self.services.save_settings("the default model")
        self.notify(f"New sessions now use {row.name}.")

    def action_copy(self) -> None:
        """Give the model another name (a persona is saved again under the new name)."""
        row = self.highlighted
        if row is None:
            return
        names = {r.name for r in self._rows}

        def check(text: str) -> str:
            if not text.strip():
                return "Please enter a name."
            return f"{text.strip()} already exists." if text.strip() in names else ""

        def done(new_name: str | None) -> None:
            if not new_name:
                return

            def job() -> Done:
                if row.persona is not None:
                    name = self.services.personas.save(new_name, row.persona.modelfile).name
                else:
                    name = self.services.library.copy(row.name, new_name).name
                return f"Copied {row.name} to {name}.", name

            self._change(job, f"Could not copy {row.name}")

        base = row.name.split(":")[0]
        self.app.push_screen(TextDialog(f"Copy {row.name}", "New name", f"{base}-copy:latest", check), done)

    def action_remove(self) -> None:
        """Delete what whirr owns, forget what it imported, after a confirmation."""
        row = self.highlighted
        if row is None:
            return
        entry = row.entry
        if row.persona is not None:
            verb, question = "Delete", f"Delete the persona {row.name}? The model it is based on stays."
            job: Callable[[], Done] = partial(self._remove_persona, row.name)
        elif entry is not None and entry.server:
            model = row.name.split("/", 1)[1]
            verb, question = "Delete", f"Delete {model} on {entry.server}? Its files on that machine are deleted for good."
            job = partial(self._remove_remote, row.name)
        elif entry is None or (row.source == "built-in" and not entry.alias_of):
            what = "is not a model" if row.source != "built-in" else "is built in"
            self.notify(f"{row.name} {what}: it cannot be deleted.", severity="warning")
            return
        elif entry.owned:
            files = "\n".join(str(p) for p in entry.parts)
            verb, question = "Delete", f"Delete {row.name}? This deletes {human_size(entry.size)} for good:\n{files}"
            job = partial(self._remove_model, row.name)
        else:
            verb = "Forget"
            question = f"Forget {row.name}? whirr stops listing it; the file is not touched:\n{entry.path}"
            job = partial(self._remove_model, row.name)

        def done(yes: bool | None) -> None:
            if yes:
                self._change(job, f"Could not {verb.lower()} {row.name}")

        self.app.push_screen(ConfirmDialog(f"{verb} model", question, yes=verb), done)

    def _remove_model(self, name: str) -> Done:
        outcome = self.services.library.remove(name)
        return f"{'Deleted' if outcome == 'deleted' else 'Forgot'} {name}.", None

    def _remove_remote(self, name: str) -> Done:
        from tui.engine.remote.ollama_api import delete_model
        from tui.servers import split_remote

        on_server = split_remote(name, self.services.library.servers)
        if on_server is None:
            raise LookupError(f"no server is configured for {name}")
        server, model = on_server
        if server.kind != "ollama":
            raise LookupError(f"{server.name} is an OpenAI-compatible server: remove {model} there with its own tools")
        delete_model(server, model)
        return f"Deleted {model} on {server.name}.", None

    def _remove_persona(self, name: str) -> Done:
        gone = self.services.personas.remove(name)
        return (f"Deleted the persona {name}." if gone else f"{name} was already gone."), None

    def _change(self, job: Callable[[], Done], failure: str) -> None:
        """Run a library change in a thread; then the user is told (`failure` prefixes an
        error such as NotOwned or OSError) and the library is listed again."""
        self.run_worker(job, name=failure, thread=True, group=CHANGE, exit_on_error=False)

    def action_reveal_path(self) -> None:
        """Show the model file's path and copy it."""
        row = self.highlighted
        if row is None or row.entry is None:
            self.notify("This persona's model is not found, so it has no file.", severity="warning")
            return
        if row.entry.server:
            self.notify(f"{row.entry.name} runs on {row.entry.server}: it has no file on this machine.", severity="warning")
            return
        path = str(row.entry.path)
        self.notify(path, title=row.name, timeout=10)
        self.services.copy_text(path, "the path")

    async def action_servers(self) -> None:
        """m: add, edit or remove model servers (the palette's "Model servers" too)."""
        await self.app.run_action("servers")

    async def action_hub(self) -> None:
        """Open the Hugging Face screen (search and download)."""
        await self.app.run_action("open_hub")
