"""The model picker (Ctrl+O): personas, and local models with their size and whether they fit in memory.

The library is read in a thread (it may read GGUF headers); broken files are listed, greyed
out, with their problem.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.format import human_size
from tui.models.fit import available_memory as free_memory, check_fit
from tui.models.library import Library, ModelEntry
from tui.models.personas import Persona, PersonaStore
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


def persona_line(persona: Persona, current: str) -> Text:
    """One persona row of the picker."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("● " if persona.name == current else "  ", style="bold")
    text.append(f"{persona.name:<28} ", style="bold")
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
        available = self._available if self._available is not None else free_memory()
        options = self.query_one(OptionList)
        options.add_options(Option(persona_line(p, self._current), id=p.name) for p in personas)
        options.add_options(
            Option(model_line(e, self._num_ctx, available, self._current), id=e.name, disabled=not e.usable)
            for e in entries
        )
        status = self.query_one("#picker-status", Label)
        if not entries:
            status.update("No models found. Add GGUF files to whirr's models folder.")
            return
        counts = f"{len(entries)} model{'s' if len(entries) != 1 else ''}"
        if personas:
            counts += f", {len(personas)} persona{'s' if len(personas) != 1 else ''}"
        status.update(f"{counts} · {human_size(available)} memory free · context {self._num_ctx:,} tokens")
        names = [p.name for p in personas] + [e.name for e in entries]
        options.highlighted = names.index(self._current) if self._current in names else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
