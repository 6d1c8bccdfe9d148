"""One message in the transcript: the user's text, or an answer that may still be streaming.

An answer is a column of `Static` chunks rendered by Rich's Markdown. While it streams, tokens
only land in a list (`feed`); `flush`, called once per frame, renders what arrived: finished
blocks move into a chunk that is never rendered again, and only the last block stays live.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Collapsible, Label, Static

from tui.engine.base import Stats
from tui.markdown import ThinkSplitter, code_blocks, freeze_point, render_markdown, split_think

STATUS_TEXT = {
    "queued": "waiting for the model (busy loading, or answering in another tab)…",
    "loading": "loading the model… {detail}",
    "prompt": "reading the conversation…",
    "waiting": "waiting for {detail}…",
}


def stats_line(stats: Stats | None, state: str) -> str:
    """A short summary under an answer: tokens, speed, and how it ended.

    `state` is an engine finish reason (stop, length, cancelled, error) or a stored message
    state (done, stopped, error, interrupted, streaming).
    """
    parts: list[str] = []
    if stats is not None and stats.eval_count:
        parts.append(f"{stats.eval_count:,} tokens")
        if stats.eval_rate:
            parts.append(f"{stats.eval_rate:.1f} tok/s")
    if stats is not None and stats.server:
        parts.append(f"on {stats.server}")
        if stats.options_not_sent:
            parts.append(f"not sent: {', '.join(stats.options_not_sent)}")
    if state in ("cancelled", "stopped"):
        parts.append("stopped")
    elif state == "error":
        parts.append(f"error: {stats.error}" if stats is not None and stats.error else "error")
    elif state in ("interrupted", "streaming"):
        parts.append("interrupted")
    elif state == "length" or (stats is not None and stats.finish_reason == "length"):
        parts.append("cut at the token limit")
    return " · ".join(parts)


class UserMessage(Static):
    """What the user sent, shown as typed (no Markdown)."""

    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: outer $primary;
        background: $boost;
    }
    """

    def __init__(self, content: str, message_id: int | None = None) -> None:
        super().__init__(Text(content), markup=False)
        self.content = content
        self.message_id = message_id


class ContextMarker(Static):
    """Marks where the model's view of the conversation begins."""

    DEFAULT_CSS = """
    ContextMarker {
        margin: 1 0 0 0;
        color: $warning;
        text-align: center;
        text-style: italic;
    }
    """

    def __init__(self, dropped: int) -> None:
        super().__init__(
            f"── the model sees from here on: {dropped:,} earlier message"
            f"{'s' if dropped != 1 else ''} no longer fit its context ──",
            markup=False,
        )


class MarkdownChunk(Widget):
    """A run of Markdown blocks, rendered once per width and kept as lines; hidden while empty.

    The same rendering serves both the height Textual asks for during layout and the lines
    it paints (a Static would render Rich Markdown twice for each change).
    """

    DEFAULT_CSS = """
    MarkdownChunk { height: auto; }
    """

    def __init__(self, source: str = "", classes: str = "") -> None:
        super().__init__(classes=classes)
        self.source = source
        self._dark = True
        self._rendered: dict[int, list[Strip]] = {}  # by width; layout may try two widths

    def show(self, source: str, dark: bool) -> None:
        """Render `source` (code highlighted for a dark or light background). While the chunk
        keeps its height (a streaming answer's last line grows), only its lines are painted
        again: a layout would reflow the whole screen, most of a frame's cost."""
        width = self.content_size.width
        height = len(self._rendered[width]) if self.source and width in self._rendered else None
        self.source, self._dark = source, dark
        self._rendered.clear()
        self.display = bool(source)
        if height is not None and source and len(self._lines_for(width)) == height:
            self.refresh()
        else:
            self.refresh(layout=True)

    def _lines_for(self, width: int) -> list[Strip]:
        lines = self._rendered.get(width)
        if lines is None:
            options = self.app.console_options.update_width(width).update(highlight=False)
            rendered = self.app.console.render_lines(render_markdown(self.source, self._dark), options, pad=False)
            if len(self._rendered) >= 2:
                self._rendered.clear()
            lines = self._rendered[width] = [Strip(line) for line in rendered]
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines_for(width)) if self.source else 0

    def render_line(self, y: int) -> Strip:
        lines = self._lines_for(self.content_size.width)
        return lines[y] if y < len(lines) else Strip.blank(self.content_size.width)


class ThinkingText(Static):
    """The text of a thinking section."""


class AnswerMessage(Vertical):
    """An assistant answer: optional collapsed thinking, Markdown body, a stats line."""

    DEFAULT_CSS = """
    AnswerMessage {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        & > .answer-header { color: $accent; text-style: bold; }
        & > .answer-meta { color: $text-muted; width: 100%; text-wrap: wrap; }  /* an error is never cut */
        & > Collapsible { margin: 0; padding: 0; border: none; background: transparent; }
        & > Collapsible ThinkingText { color: $text-muted; }
        & > MarkdownChunk.-after { margin: 1 0 0 0; }
    }
    """

    def __init__(
        self,
        content: str = "",
        *,
        model: str = "",
        message_id: int | None = None,
        stats: Stats | None = None,
        state: str = "stop",
        streaming: bool = False,
    ) -> None:
        super().__init__()
        self.model = model
        self.message_id = message_id
        self.streaming = streaming
        self.state = state
        self.stats = stats
        think, answer = split_think(content) if content else (None, "")
        self._think_text = think or ""
        self._answer = answer  # all answer text that reached the screen
        self._frozen = 0  # characters of _answer already in finished chunks
        self._pending: list[str] = []
        self._splitter = ThinkSplitter()
        self._thinking: Collapsible | None = None
        self._has_think = think is not None
        self._status_shown = False  # a status before the first token, cleared by `feed`
        self._tail: MarkdownChunk | None = None  # the chunk holding the growing last block

    def compose(self) -> ComposeResult:
        yield Label(self.model or "answer", classes="answer-header", markup=False)
        if self._has_think:
            yield self._make_thinking()
        self._tail = MarkdownChunk(self._answer, classes="tail")
        yield self._tail
        yield Label(self._meta_text(), classes="answer-meta", markup=False)

    def on_mount(self) -> None:
        self.rerender()

    @property
    def text(self) -> str:
        """The whole answer as received so far, thinking included."""
        if not self._has_think:
            return self._answer + "".join(self._pending)
        closing = "</think>\n" if self._splitter.think_closed or not self.streaming else ""
        return f"<think>{self._think_text}{closing}{self._answer}" + "".join(self._pending)

    @property
    def answer_text(self) -> str:
        """The answer without its thinking section."""
        return self._answer

    def code_blocks(self) -> list[str]:
        """Code blocks of the answer, for copying."""
        return code_blocks(self._answer)

    def feed(self, text: str) -> None:
        """Take streamed text; it reaches the screen at the next `flush`. Costs O(1). The
        first text clears a status shown before it ("reading the conversation…")."""
        if self._status_shown:
            self._status_shown = False
            self._meta().update("")
        self._pending.append(text)

    def flush(self) -> None:
        """Render what arrived since the last flush (call once per frame)."""
        if not self._pending:
            return
        new = "".join(self._pending)
        self._pending.clear()
        think, answer = self._splitter.feed(new)
        self._apply(think, answer)

    def set_status(self, state: str, detail: str = "") -> None:
        """Show what the engine is doing before the first token (`detail`: the server waited for)."""
        self._status_shown = bool(state)
        self._meta().update(STATUS_TEXT.get(state, state).format(detail=detail).rstrip())

    def finish(self, stats: Stats | None, state: str) -> None:
        """The answer ended: render the rest and show its statistics."""
        self.flush()
        self._apply(*self._splitter.finish())
        self.streaming = False
        self.stats, self.state = stats, state
        if self._thinking is not None:
            self._thinking.title = "Thought"
        self._meta().update(self._meta_text())

    def rerender(self) -> None:
        """Render every chunk again (after a theme change, or on mount)."""
        dark = self.app.current_theme.dark
        for chunk in self.query(MarkdownChunk):
            chunk.show(chunk.source, dark)
        if self._thinking is not None:
            self._thinking.query_one(ThinkingText).update(Text(self._think_text))

    def _apply(self, think: str, answer: str) -> None:
        if think or (self._splitter.has_think and self._thinking is None):
            self._think_text += think
            if self._thinking is None:
                self._has_think = True
                self.mount(self._make_thinking(), after=self.query_one(".answer-header"))
            else:
                self._thinking.query_one(ThinkingText).update(Text(self._think_text))
        if not answer:
            return
        self._answer += answer
        dark = self.app.current_theme.dark
        tail = self._tail
        assert tail is not None
        live = self._answer[self._frozen :]
        cut = freeze_point(live)
        if cut:
            self._frozen += cut
            finished, live = live[:cut], live[cut:]
            self._freeze(finished, tail, dark)
        tail.show(live, dark)

    def _freeze(self, finished: str, tail: "MarkdownChunk", dark: bool) -> None:
        """Put finished blocks in a chunk of their own, rendered once."""
        chunk = MarkdownChunk(classes="-after" if len(self.query(MarkdownChunk)) > 1 else "")
        self.mount(chunk, before=tail)
        chunk.show(finished, dark)
        tail.add_class("-after")

    def _make_thinking(self) -> Collapsible:
        title = "Thinking…" if self.streaming else "Thought"
        self._thinking = Collapsible(ThinkingText(Text(self._think_text), markup=False), title=title, collapsed=True)
        return self._thinking

    def _meta(self) -> Label:
        return self.query_one(".answer-meta", Label)

    def _meta_text(self) -> str:
        return "…" if self.streaming else stats_line(self.stats, self.state)
