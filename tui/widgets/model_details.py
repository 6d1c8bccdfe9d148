"""The library's details pane: what whirr knows about the highlighted model, its memory
estimate, its defaults, and its chat template (highlighted) or a persona's Modelfile."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

from rich.console import RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from tui.format import human_size
from tui.modelfile.document import Modelfile
from tui.modelfile.writer import write
from tui.widgets.model_table import ModelRow


def display_path(path: Path) -> str:
    """A path as shown on screen: under $WHIRR_HOME, site-packages or ~ it is written short."""
    home = os.environ.get("WHIRR_HOME")
    places = [(home, "$WHIRR_HOME")] if home else []
    places += [(sysconfig.get_paths()["purelib"], "site-packages"), (str(Path.home()), "~")]
    for folder, short in places:
        try:
            return str(Path(short) / path.relative_to(Path(folder).expanduser()))
        except ValueError:
            continue
    return str(path)


def facts_table(row: ModelRow) -> Table:
    """Label/value rows: files, GGUF metadata, memory estimate and Ollama defaults."""
    table = Table(box=None, show_header=False, padding=(0, 1, 0, 0), expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")

    def add(label: str, value: str | Text | None) -> None:
        if value:
            table.add_row(label, value)

    entry, info = row.entry, row.info
    add("Name", row.name)
    add("Source", f"persona of {row.persona.base}" if row.persona is not None else row.source)
    add("Problem", Text(row.problem, style="red") if row.problem else None)
    if entry is not None and entry.server:
        add("Server", f"{entry.server} (the model runs there; history, personas and meters stay here)")
        add("Reported", entry.details)
        add("Size", f"{human_size(entry.size)} ({entry.size:,} bytes)" if entry.size else None)
    elif entry is not None:
        add("Path" if len(entry.parts) == 1 else "Files", "\n".join(display_path(p) for p in entry.parts))
        add("Size", f"{human_size(entry.size)} ({entry.size:,} bytes)")
    if info is not None:
        add("Architecture", info.architecture)
        add("Model", info.name)
        add("Parameters", f"{info.parameters_human} ({info.parameter_count:,})")
        add("Quantization", info.quantization)
        add("Context", f"{info.context_length:,} tokens" if info.context_length else None)
        add("Layers", str(info.block_count) if info.block_count else None)
        add("Embedding", str(info.embedding_length) if info.embedding_length else None)
        add("Heads", f"{info.head_count} ({info.head_count_kv} KV)" if info.head_count else None)
        add("Head dims", f"key {info.key_length}, value {info.value_length}" if info.key_length else None)
        add("RoPE base", f"{info.rope_freq_base:,g}" if info.rope_freq_base else None)
        add("Tokenizer", info.tokenizer)
        add("License", info.license)
    if row.fit is not None:
        estimate = row.fit.estimate
        parts_text = (
            f"at {row.n_ctx:,} tokens of context: weights {human_size(estimate.weights)}"
            f" + KV cache {human_size(estimate.kv_cache)} + overhead {human_size(estimate.overhead)}"
            f" = {human_size(estimate.total)}"
        )
        verdict = Text(("✓ " if row.fit.fits else "✗ ") + row.fit.describe(), style="green" if row.fit.fits else "yellow")
        add("Memory", Text.assemble(parts_text, "\n", verdict))
    if entry is not None and entry.defaults is not None:  # its FROM is the model file, shown above
        layers = Modelfile([c for c in entry.defaults.commands if c.name != "model"])
        add("Defaults", write(layers).rstrip())  # an Ollama model's layers, the starter's parameter
    return table


def template_view(row: ModelRow, dark: bool) -> tuple[str, RenderableType]:
    """The right-hand pane's title and content: a persona's Modelfile, else the chat template."""
    if row.persona is not None:
        return "Modelfile", Text(write(row.persona.modelfile).rstrip())
    template = row.info.chat_template if row.info is not None else None
    if not template:
        return "Chat template", Text("This model has no chat template.", style="dim")
    theme = "monokai" if dark else "friendly"
    return "Chat template (Jinja)", Syntax(template, "jinja", theme=theme, word_wrap=True, background_color="default")


class ModelDetails(Horizontal):
    """Facts on the left, the template or Modelfile on the right; each scrolls on its own."""

    DEFAULT_CSS = """
    ModelDetails { height: 1fr; }
    ModelDetails > VerticalScroll {
        width: 1fr;
        border: round $panel;
        border-title-color: $text-muted;
        padding: 0 1;
        &:focus { border: round $primary; }
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="facts") as facts:
            facts.border_title = "Details"
            facts.can_focus = True
            yield Static(id="facts-text")
        with VerticalScroll(id="template") as template:
            template.border_title = "Chat template"
            template.can_focus = True
            yield Static(id="template-text")

    def show(self, row: ModelRow | None) -> None:
        """Describe `row` (None: nothing highlighted)."""
        facts, template = self.query_one("#facts-text", Static), self.query_one("#template-text", Static)
        if row is None:
            facts.update(Text("No model selected.", style="dim"))
            template.update("")
            return
        facts.update(facts_table(row))
        title, content = template_view(row, self.app.current_theme.dark)
        self.query_one("#template", VerticalScroll).border_title = title
        template.update(content)
        for scroll in self.query(VerticalScroll):
            scroll.scroll_home(animate=False)
