"""The model picker (Ctrl+O): personas, local models with their size and whether they fit in
memory, then each server's models under its name, with whether it can be reached.

The library is read in a thread (it may read GGUF headers); broken files are listed, greyed
out, with their problem. Servers are asked after the local models show (at most a second).
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from tui.format import human_size
from tui.models.fit import available_memory as free_memory, check_fit
from tui.models.library import Library, ModelEntry
from tui.models.personas import Persona, PersonaStore, persona_problem
from tui.models.remote import ServerListing, remote_listings
from tui.screens.dialogs import Dialog


def model_line(entry: ModelEntry, num_ctx: int, available: int, current: str) -> Text:
    """One row of the picker."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("● " if entry.name == current else "  ", style="bold")
    text.append(f"{entry.name:<28} ", style="bold" if entry.usable else "dim")
    text.append(f"{human_size(entry.size):>8}  ")
    if not entry.usable:
        text.append(f"broken: {entry.problem}", style="red")
        return text
    if entry.info is not None:
        text.append(f"{entry.info.parameters_human:>6} {entry.info.quantization:<7} ", style="dim")
    fits = check_fit(entry.info, entry.size, num_ctx, available=available).fits
    text.append("fits in memory" if fits else "too big for free memory", style="green" if fits else "yellow")
    return text


def server_line(listing: ServerListing) -> Text:
    """A server's heading in the picker: its name, kind and address, and whether it answered."""
    server = listing.server
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"── {server.name} ", style="bold")
    text.append(f"{server.kind} · {server.url} ", style="dim")
    if listing.reachable:
        count = len(listing.entries)
        text.append(f"· {count} model{'' if count == 1 else 's'}", style="green")
    else:
        text.append(f"· unreachable: {listing.error}", style="red")
    return text


def remote_line(entry: ModelEntry, current: str) -> Text:
    """One remote model of the picker: its name, size and what the server says of it."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("● " if entry.name == current else "  ", style="bold")
    text.append(f"{entry.name:<28} ", style="bold" if entry.usable else "dim")
    text.append(f"{human_size(entry.size) if entry.size else '':>8}  ")
    text.append(entry.problem or entry.details, style="yellow" if entry.problem else "dim")
    return text


def persona_line(persona: Persona, current: str, problem: str = "") -> Text:
    """One persona row of the picker; one that cannot run (its model was removed) says why."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("● " if persona.name == current else "  ", style="bold")
    text.append(f"{persona.name:<28} ", style="dim" if problem else "bold")
    if problem:
        text.append(f"unusable: {problem}", style="red")
    else:
        text.append(f"persona of {persona.base}", style="dim")
    return text


class ModelPicker(Dialog[str | None]):
    """Choose the model for the session; Enter picks, Escape keeps the current one."""

    DEFAULT_CSS = """
    ModelPicker > #dialog { width: 100; }
    ModelPicker OptionList { height: auto; max-height: 16; border: none; padding: 0; &:focus { border: none; } }
    """

    def __init__(
        self,
        library: Library,
        current: str,
        num_ctx: int,
        available_memory: int | None = None,
        personas: PersonaStore | None = None,
    ) -> None:
        """`available_memory` (bytes) defaults to what the system has free now."""
        super().__init__()
        self._library, self._current, self._num_ctx = library, current, num_ctx
        self._available = available_memory
        self._personas = personas

    def _persona_problems(self, personas: list[Persona]) -> dict[str, str]:
        """Why each persona cannot run ('' when it can); blocking: call in a thread."""
        store = self._personas
        return {p.name: persona_problem(p.name, self._library, store) if store else "" for p in personas}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Switch model"
            yield Label("Reading the model library…", id="picker-status", markup=False)
            yield OptionList()
            yield Label("Enter: use this model (the conversation is kept)   Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.run_worker(self._fill(), exclusive=True)

    async def _fill(self) -> None:
        entries = await asyncio.to_thread(self._library.list)
        personas = await asyncio.to_thread(self._personas.list) if self._personas is not None else []
        problems = await asyncio.to_thread(self._persona_problems, personas)
        available = self._available if self._available is not None else free_memory()
        options = self.query_one(OptionList)
        options.add_options(
            Option(persona_line(p, self._current, problems[p.name]), id=p.name, disabled=bool(problems[p.name]))
            for p in personas
        )
        options.add_options(
            Option(model_line(e, self._num_ctx, available, self._current), id=e.name, disabled=not e.usable)
            for e in entries
        )
        status = self.query_one("#picker-status", Label)
        if not entries and not self._library.servers:
            status.update("No models found. Add GGUF files to whirr's models folder.")
            return
        counts = f"{len(entries)} model{'s' if len(entries) != 1 else ''}"
        if personas:
            counts += f", {len(personas)} persona{'s' if len(personas) != 1 else ''}"
        status.update(f"{counts} · {human_size(available)} memory free · context {self._num_ctx:,} tokens")
        names = [p.name for p in personas] + [e.name for e in entries]
        options.highlighted = names.index(self._current) if self._current in names else 0
        options.focus()
        if self._library.servers:
            await self._add_servers(options)

    async def _add_servers(self, options: OptionList) -> None:
        """Each server's heading, then its models (the last known ones, disabled, when it is down)."""
        for listing in await asyncio.to_thread(remote_listings, self._library):
            options.add_option(Option(server_line(listing), id=f"server:{listing.server.name}", disabled=True))
            options.add_options(
                Option(remote_line(e, self._current), id=e.name, disabled=not e.usable) for e in listing.entries
            )
        if self._current.split("/", 1)[0] in {s.name for s in self._library.servers}:
            try:
                options.highlighted = options.get_option_index(self._current)
            except OptionDoesNotExist:  # the server is down, or does not list it
                pass

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
