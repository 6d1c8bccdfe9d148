"""One message in the transcript: the user's text, or an answer that may still be streaming.

An answer's body is Markdown rendered by Rich into lines (`MarkdownLines`). While it streams,
tokens only land in a list (`feed`); `flush`, called once per frame, renders what arrived:
finished blocks are rendered once and kept, only the last block is rendered again, and only the
rows that changed are painted.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Collapsible, Label, Static

from tui.engine.base import Stats
from tui.markdown import ThinkSplitter, code_blocks, freeze_point, render_markdown, split_think

RESERVE_LINES = 4
"""A streaming answer's height grows in steps of this many lines (see MarkdownLines)."""

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


class MarkdownLines(Widget):
    """An answer's Markdown as lines: finished blocks rendered once, the last block at each `show`.

    Finished blocks (`freeze`) are rendered once per width and kept; only the growing last
    block is rendered again when text arrives. The same lines serve both the height Textual asks
    for during layout and the lines it paints. While `step` is above 1 (a streaming answer),
    the height grows in steps of that many lines: every change of height is a layout of the
    whole screen (and Textual follows it with a second), most of the app's CPU while it
    streams; between steps only the rows that changed are painted again.
    """

    DEFAULT_CSS = """
    MarkdownLines { height: auto; }
    """

    def __init__(self, source: str = "") -> None:
        super().__init__()
        self._blocks: list[str] = []  # finished blocks, in order
        self._live = source  # the last block, still growing while the answer streams
        self._dark = True
        self.step = 1
        self._block_lines: dict[int, list[Strip]] = {}  # by width; layout may try two widths
        self._all_lines: dict[int, list[Strip]] = {}  # the finished blocks' lines and the live block's

    @property
    def source(self) -> str:
        """All the Markdown shown."""
        return "".join(self._blocks) + self._live

    def show(self, live: str, dark: bool) -> None:
        """Show `live` as the last block, code highlighted for a dark or light background."""
        width = self.content_size.width
        before = self._lines(width) if width and self.source else None
        if dark != self._dark:
            self._dark = dark
            self._block_lines.clear()
        self._live = live
        self._all_lines.clear()
        self._update(width, before)

    def freeze(self, finished: str, live: str) -> None:
        """`finished` (the start of the last block) will not change any more; `live` follows it."""
        width = self.content_size.width
        before = self._lines(width) if width and self.source else None
        self._blocks.append(finished)
        for cached_width, lines in self._block_lines.items():
            self._add_block(lines, finished, cached_width)
        self._live = live
        self._all_lines.clear()
        self._update(width, before)

    def restyle(self, dark: bool) -> None:
        """Render every block again (a theme change: code is highlighted for its background)."""
        self._block_lines.clear()
        self.show(self._live, dark)

    def set_step(self, step: int) -> None:
        """Grow in steps of `step` lines (1: the height fits the text exactly)."""
        if step != self.step:
            self.step = step
            self.refresh(layout=True)

    def _update(self, width: int, before: list[Strip] | None) -> None:
        self.display = bool(self.source)
        if before is None or not self.display:
            self.refresh(layout=True)
            return
        after = self._lines(width)
        if self._height(len(after)) != self._height(len(before)):
            self.refresh(layout=True)
            return
        changed = [y for y in range(max(len(before), len(after))) if y >= len(before) or y >= len(after)
                   or before[y] != after[y]]
        if changed:
            self.refresh(Region(0, changed[0], width, changed[-1] - changed[0] + 1))

    def _height(self, lines: int) -> int:
        return -(-lines // self.step) * self.step

    def _render(self, source: str, width: int) -> list[Strip]:
        options = self.app.console_options.update_width(width).update(highlight=False)
        rendered = self.app.console.render_lines(render_markdown(source, self._dark), options, pad=False)
        return [Strip(line) for line in rendered]

    @staticmethod
    def _separated(lines: list[Strip], width: int) -> list[Strip]:
        """A block's lines after a blank line, as Markdown separates blocks."""
        return [Strip.blank(width), *lines]

    def _add_block(self, lines: list[Strip], block: str, width: int) -> None:
        """Append a finished block's lines to the finished blocks' `lines` at `width`."""
        rendered = self._render(block, width)
        lines.extend(self._separated(rendered, width) if lines else rendered)

    def _lines(self, width: int) -> list[Strip]:
        lines = self._all_lines.get(width)
        if lines is not None:
            return lines
        blocks = self._block_lines.get(width)
        if blocks is None:
            if len(self._block_lines) >= 2:
                self._block_lines.clear()
            blocks = self._block_lines[width] = []
            for block in self._blocks:
                self._add_block(blocks, block, width)
        live = self._render(self._live, width) if self._live else []
        if len(self._all_lines) >= 2:
            self._all_lines.clear()
        lines = self._all_lines[width] = [*blocks, *self._separated(live, width)] if blocks and live else blocks or live
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._height(len(self._lines(width))) if self.source else 0

    def render_line(self, y: int) -> Strip:
        lines = self._lines(self.content_size.width)
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
        self._frozen = 0  # characters of _answer already in finished blocks
        self._pending: list[str] = []
        self._splitter = ThinkSplitter()
        self._thinking: Collapsible | None = None
        self._has_think = think is not None
        self._status_shown = False  # a status before the first token, cleared by `feed`
        self._body = MarkdownLines(self._answer)

    def compose(self) -> ComposeResult:
        yield Label(self.model or "answer", classes="answer-header", markup=False)
        if self._has_think:
            yield self._make_thinking()
        if self.streaming:
            self._body.step = RESERVE_LINES
        yield self._body
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
        self._body.set_step(1)
        self.stats, self.state = stats, state
        if self._thinking is not None:
            self._thinking.title = "Thought"
        self._meta().update(self._meta_text())

    def rerender(self) -> None:
        """Render every chunk again (after a theme change, or on mount)."""
        self._body.restyle(self.app.current_theme.dark)
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
        live = self._answer[self._frozen :]
        cut = freeze_point(live)
        if cut:
            self._frozen += cut
            self._body.freeze(live[:cut], live[cut:])
        else:
            self._body.show(live, self.app.current_theme.dark)

    def _make_thinking(self) -> Collapsible:
        title = "Thinking…" if self.streaming else "Thought"
        self._thinking = Collapsible(ThinkingText(Text(self._think_text), markup=False), title=title, collapsed=True)
        return self._thinking

    def _meta(self) -> Label:
        return self.query_one(".answer-meta", Label)

    def _meta_text(self) -> str:
        return "…" if self.streaming else stats_line(self.stats, self.state)
