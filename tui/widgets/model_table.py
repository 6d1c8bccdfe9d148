"""The library's table: one row per model file or persona, sortable by any column, filterable.

Rows are built in a worker thread (`build_rows` may read GGUF headers and resolve personas);
the table only shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from tui.engine.options import Options
from tui.format import human_size
from tui.models.fit import Fit, check_fit
from tui.models.gguf_info import GGUFInfo
from tui.models.library import Library, ModelEntry
from tui.models.personas import Persona, PersonaStore, resolve_target
from tui.models.remote import remote_listings

NAME_WIDTH = 36


@dataclass(frozen=True)
class ModelRow:
    """One model whirr can run: a GGUF file, or a persona over one (`entry` is then its base)."""

    name: str
    source: str
    entry: ModelEntry | None
    n_ctx: int
    fit: Fit | None = None
    persona: Persona | None = None
    problem: str = ""

    @property
    def info(self) -> GGUFInfo | None:
        """The GGUF header of the model file, when it could be read."""
        return self.entry.info if self.entry is not None else None

    @property
    def size(self) -> int:
        """Bytes on disk (a persona adds none)."""
        return self.entry.size if self.entry is not None and self.persona is None else 0

    @property
    def has_template(self) -> bool:
        """True when the GGUF has a chat template (or the persona sets its own)."""
        if self.persona is not None and self.persona.modelfile.template is not None:
            return True
        return self.info is not None and bool(self.info.chat_template)


def build_rows(library: Library, personas: PersonaStore, options: Options, available: int) -> list[ModelRow]:
    """Every model and persona with its memory fit at `options`' context against `available`
    bytes (blocking: reads GGUF headers and resolves personas)."""
    rows = []
    for entry in library.list():
        fit = check_fit(entry.info, entry.size, options.num_ctx, options.num_gpu, available=available) if entry.usable else None
        rows.append(ModelRow(entry.name, entry.source, entry, options.num_ctx, fit, problem=entry.problem))
    for persona in personas.list():
        try:
            target = resolve_target(persona.name, library, personas)
        except (LookupError, ValueError) as error:
            rows.append(ModelRow(persona.name, "persona", None, options.num_ctx, persona=persona, problem=str(error)))
            continue
        entry, n_ctx = target.entry, target.options(options).num_ctx
        local = entry.usable and not entry.server  # a remote model's memory is its server's
        fit = check_fit(entry.info, entry.size, n_ctx, options.num_gpu, available=available) if local else None
        rows.append(ModelRow(persona.name, "persona", entry, n_ctx, fit, persona, entry.problem))
    return rows + remote_rows(library, options.num_ctx)


def remote_rows(library: Library, n_ctx: int) -> list[ModelRow]:
    """Each server's models (blocking: at most the listing timeout); a server that cannot be
    reached and has no models known from before is one row saying so."""
    if not library.servers:
        return []
    rows = []
    for listing in remote_listings(library):
        server = listing.server.name
        if not listing.reachable and not listing.entries:
            rows.append(ModelRow(f"{server}/", server, None, n_ctx, problem=f"unreachable: {listing.error}"))
        rows += [ModelRow(e.name, server, e, n_ctx, problem=e.problem) for e in listing.entries]
    return rows


def matches(row: ModelRow, text: str) -> bool:
    """Case-insensitive substring match over name, family, quantization and source."""
    wanted = text.strip().lower()
    info = row.info
    fields = (row.name, row.source, info.architecture if info else "", info.quantization if info else "")
    return not wanted or any(wanted in field.lower() for field in fields)


def _fit_order(row: ModelRow) -> tuple[int, int]:
    if row.fit is None:
        return (2, 0)
    return (0 if row.fit.fits else 1, row.fit.estimate.total)


# Column key -> (header, sort key). The sort key of a missing value sorts first.
COLUMNS: dict[str, tuple[str, Callable[[ModelRow], Any]]] = {
    "name": ("Name", lambda r: r.name),
    "family": ("Family", lambda r: r.info.architecture if r.info else ""),
    "params": ("Params", lambda r: r.info.parameter_count if r.info else -1),
    "quant": ("Quant", lambda r: r.info.quantization if r.info else ""),
    "size": ("Size", lambda r: r.size),
    "context": ("Ctx", lambda r: r.info.context_length if r.info else -1),
    "template": ("Tmpl", lambda r: r.has_template),
    "source": ("Source", lambda r: r.source),
    "fits": ("Fits", _fit_order),
}


def sorted_rows(rows: list[ModelRow], column: str, reverse: bool = False) -> list[ModelRow]:
    """Rows ordered by a column (ties by name)."""
    key = COLUMNS[column][1]
    return sorted(rows, key=lambda r: (key(r), r.name), reverse=reverse)


def _cells(row: ModelRow, current: str) -> list[Text]:
    info = row.info
    dim = "dim" if row.problem else ""
    name = row.name if len(row.name) <= NAME_WIDTH else row.name[: NAME_WIDTH - 1] + "…"
    marker = "● " if row.name == current else "  "
    if row.problem:
        fits = Text("broken", style="red")
    elif row.fit is None:
        fits = Text("–")
    else:
        fits = Text("✓ yes", style="green") if row.fit.fits else Text("✗ no", style="yellow")
    return [
        Text(marker + name, style="bold" if not row.problem else "dim"),
        Text(info.architecture if info else "–", style=dim),
        Text(info.parameters_human if info else "–", style=dim, justify="right"),
        Text(info.quantization if info else "–", style=dim),
        Text(human_size(row.size) if row.size else "–", style=dim, justify="right"),
        Text(f"{info.context_length:,}" if info and info.context_length else "–", style=dim, justify="right"),
        Text("✓" if row.has_template else "–", style=dim, justify="center"),
        Text(row.source, style=dim),
        fits,
    ]


class ModelTable(DataTable[Text]):
    """The models, one row each, keyed by name; the sort column's header carries an arrow."""

    DEFAULT_CSS = """
    ModelTable { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)

    def show(self, rows: list[ModelRow], current: str, sort: str, reverse: bool) -> None:
        """Replace the rows, keeping the highlighted model highlighted when it is still shown."""
        keep = self.highlighted_name
        self.clear(columns=True)
        for key, (header, _) in COLUMNS.items():
            arrow = (" ▼" if reverse else " ▲") if key == sort else ""
            self.add_column(Text(header + arrow, style="bold" if key == sort else ""), key=key)
        for row in rows:
            self.add_row(*_cells(row, current), key=row.name)
        names = [row.name for row in rows]
        if keep in names:
            self.move_cursor(row=names.index(keep), animate=False)

    @property
    def highlighted_name(self) -> str | None:
        """The name of the model under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
