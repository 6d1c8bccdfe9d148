"""A TextArea for Modelfiles: line numbers, highlighting, problem lines, inline completion.

There is no tree-sitter grammar for Modelfiles, so the widget fills TextArea's per-line
highlight map itself from `tui.modelfile.assist.highlight` (one cheap pass over the lines per
edit). Lines with a problem get a coloured line number. Completion uses TextArea's own
suggestion: the rest of the instruction, parameter or role name shows dimmed after the
cursor, and Tab (or Right) accepts it.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import TextArea

from tui.modelfile.assist import highlight, suggestion

# Span kinds of assist.highlight, as the names TextArea themes style.
_THEME_NAMES = {
    "keyword": "keyword",
    "parameter": "type.builtin",
    "role": "type.builtin",
    "string": "string",
    "number": "number",
    "comment": "comment",
}


class ModelfileArea(TextArea):
    """Edits one Modelfile; `problems` (1-based line -> severity) marks lines in the gutter."""

    DEFAULT_CSS = """
    ModelfileArea {
        height: 1fr;
        & .modelfile-area--error { background: $error 60%; color: $text; }
        & .modelfile-area--warning { background: $warning 50%; color: $text; }
    }
    """
    COMPONENT_CLASSES = {"modelfile-area--error", "modelfile-area--warning"}
    BINDINGS = [Binding("tab", "accept_suggestion", "Complete", show=False)]

    def __init__(self, text: str = "", id: str | None = None) -> None:
        super().__init__(text, id=id, show_line_numbers=True, soft_wrap=False, tab_behavior="focus")
        self.problems: dict[int, str] = {}

    def set_problems(self, problems: dict[int, str]) -> None:
        """Mark these lines (1-based line -> "error" or "warning") and redraw."""
        if problems != self.problems:
            self.problems = problems
            self._line_cache.clear()
            self.refresh()

    # -- highlighting --------------------------------------------------------------------------

    def _build_highlight_map(self) -> None:
        """Fill TextArea's highlight map (byte offsets per line) from the Modelfile scanner."""
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        lines = self.document.lines
        for row, spans in enumerate(highlight(lines)):
            if not spans:
                continue
            text = lines[row]
            ascii_only = text.isascii()
            for span in spans:
                start, end = span.start, span.end
                if not ascii_only:
                    start = len(text[:start].encode())
                    end = None if end is None else len(text[:end].encode())
                highlights[row].append((start, end, _THEME_NAMES[span.kind]))

    def _render_line(self, y: int) -> Strip:
        """A line as TextArea draws it, with the line number coloured on a problem line."""
        strip = super()._render_line(y)
        if not self.problems or not self.show_line_numbers:
            return strip
        line_info = self._line_info(y)
        if line_info is None:
            return strip
        row, section = line_info
        severity = self.problems.get(row + 1)
        if severity is None or section != 0:
            return strip
        style: Style = self.get_component_rich_style(f"modelfile-area--{severity}")
        width = self.gutter_width
        gutter = Strip(Segment.apply_style(strip.crop(0, width), post_style=style), width)
        return Strip.join([gutter, strip.crop(width)])

    def _line_info(self, y: int) -> tuple[int, int] | None:
        """(document row, wrapped section) shown at widget line y, or None below the text."""
        offset = y + self.scroll_offset.y
        try:
            return self.wrapped_document._offset_to_line_info[offset]
        except IndexError:
            return None

    # -- completion ----------------------------------------------------------------------------

    def update_suggestion(self) -> None:
        """Offer the rest of the name being typed (instruction, parameter or role)."""
        row, column = self.cursor_location
        self.suggestion = suggestion(self.document.lines, row, column)

    def on_text_area_selection_changed(self) -> None:
        """A suggestion belongs where it was made: recompute it when the cursor moves."""
        self.update_suggestion()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab completes only when there is a suggestion; otherwise it moves focus as usual."""
        if action == "accept_suggestion":
            return bool(self.suggestion)
        return True

    def action_accept_suggestion(self) -> None:
        """Insert the suggestion (Tab)."""
        if self.suggestion:
            self.insert(self.suggestion)
