"""Markdown for chat answers: Rich's renderer, themed from the app, and split for streaming.

Answers render through `rich.markdown.Markdown` into lines (tui/widgets/message.py) rather than
Textual's `Markdown` widget, which mounts a widget per block (and per list item and table
cell): with hundreds of blocks every layout pass walks them all, and the screen falls behind a
fast model. A streaming answer is cut at block boundaries (`freeze_point`): finished blocks
render once and never change; only the growing last block is re-rendered each frame.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING

from rich.color import Color as RichColor
from rich.style import Style
from rich.theme import Theme as RichTheme
from textual.color import Color, ColorParseError
from textual.theme import Theme

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from rich.markdown import Markdown as RichMarkdown


@cache
def _parser() -> "MarkdownIt":
    """The shared parser, with rich.markdown's settings so block boundaries agree with the
    renderer (imported on first use: the first frame of a new chat needs no Markdown)."""
    from markdown_it import MarkdownIt

    return MarkdownIt().enable("strikethrough").enable("table")

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@cache
def _blank(dark: bool) -> "RichMarkdown":
    """An empty Markdown renderable with chat-friendly headings (left-aligned: a centred title
    looks lost in a narrow chat column), code highlighted for a dark or light background."""
    from rich.markdown import Heading, Markdown

    class LeftHeading(Heading):
        LEVEL_ALIGN = {**Heading.LEVEL_ALIGN, "h1": "left"}

    class ChatMarkdown(Markdown):
        elements = {**Markdown.elements, "heading_open": LeftHeading}

    return ChatMarkdown("", code_theme="monokai" if dark else "friendly", hyperlinks=False)


def render_markdown(text: str, dark: bool) -> "RichMarkdown":
    """A renderable for `text`, with code highlighted for a dark or light background.

    A copy of a blank one with `text` parsed by the shared parser: Rich's own constructor builds
    a new Markdown parser every time (about 1 ms, against 0.05 ms to parse a paragraph), and a
    streaming answer renders its last block 10 times a second."""
    markdown = copy.copy(_blank(dark))
    markdown.markup, markdown.parsed = text, _parser().parse(text)
    return markdown


def _rich_color(value: str | None) -> RichColor | None:
    """A theme colour as Rich takes it: Textual's own names (`ansi_blue`) are not Rich's, and
    `ansi_default` (the terminal's own colour) is no colour at all to Rich."""
    if not value:
        return None
    try:
        color = Color.parse(value)
    except ColorParseError:
        return None
    return None if color.ansi == -1 else color.rich_color


def markdown_styles(theme: Theme) -> RichTheme:
    """Rich styles for Markdown elements, taken from a Textual theme's colours (any theme
    Textual accepts, its ANSI themes included)."""
    primary = _rich_color(theme.primary)
    accent = _rich_color(theme.accent) or primary
    secondary = _rich_color(theme.secondary) or primary
    code_bg = _rich_color(theme.panel) or _rich_color(theme.surface) or RichColor.parse("#303030" if theme.dark else "#e8e8e8")
    return RichTheme(
        {
            "markdown.h1": Style(color=primary, bold=True, underline=True),
            "markdown.h2": Style(color=primary, bold=True),
            "markdown.h3": Style(color=secondary, bold=True),
            "markdown.h4": Style(color=secondary, italic=True),
            "markdown.code": Style(color=accent, bgcolor=code_bg, bold=True),
            "markdown.block_quote": Style(color=secondary, italic=True),
            "markdown.list": Style(color=accent),
            "markdown.item.bullet": Style(color=accent, bold=True),
            "markdown.item.number": Style(color=accent),
            "markdown.link": Style(color=accent, underline=True),
            "markdown.link_url": Style(color=secondary, underline=True),
            "markdown.table.border": Style(color=secondary),
            "markdown.table.header": Style(color=primary, bold=True),
        }
    )


def freeze_point(text: str) -> int:
    """Where the last top-level block of `text` starts (a character offset; 0 if it is the only one).

    Everything before it is finished: a later block has begun, so no further text can change
    how it renders. An unclosed code fence is one block that swallows the rest, as it should.
    """
    starts = [t.map[0] for t in _parser().parse(text) if t.level == 0 and t.nesting >= 0 and t.map]
    if len(starts) < 2 or starts[-1] == 0:
        return 0
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: starts[-1]])


def code_blocks(text: str) -> list[str]:
    """The contents of every fenced or indented code block, in order."""
    return [t.content for t in _parser().parse(text) if t.type in ("fence", "code_block")]


class ThinkSplitter:
    """Separates a leading `<think>...</think>` section from the answer as text streams in.

    Only a section at the very start counts (that is where reasoning models put it). Text that
    might still turn into a tag is held back, at most a tag's length.
    """

    def __init__(self) -> None:
        self._state = "start"  # start (undecided), think, after (the tag), answer
        self._held = ""
        self.has_think = False
        self.think_closed = False

    def feed(self, text: str) -> tuple[str, str]:
        """Add streamed text; returns (new thinking text, new answer text)."""
        held = self._held + text
        self._held = ""
        if self._state == "start":
            stripped = held.lstrip()
            if stripped.startswith(THINK_OPEN):
                self._state, self.has_think = "think", True
                held = stripped[len(THINK_OPEN) :].lstrip("\n")
            elif THINK_OPEN.startswith(stripped):
                self._held = held
                return "", ""
            else:
                self._state = "answer"
                return "", held
        if self._state == "think":
            end = held.find(THINK_CLOSE)
            if end != -1:
                self._state, self.think_closed = "after", True
                return held[:end], self._after(held[end + len(THINK_CLOSE) :])
            keep = _partial_suffix(held, THINK_CLOSE)
            self._held = held[len(held) - keep :] if keep else ""
            return held[: len(held) - keep], ""
        if self._state == "after":
            return "", self._after(held)
        return "", held

    def _after(self, text: str) -> str:
        """Drop the line breaks between the closing tag and the answer."""
        text = text.lstrip("\n")
        if text:
            self._state = "answer"
        return text

    def finish(self) -> tuple[str, str]:
        """The stream ended: release whatever was held back."""
        held, self._held = self._held, ""
        if self._state == "think":
            return held, ""
        return "", held


def split_think(text: str) -> tuple[str | None, str]:
    """A finished answer's thinking section (None when it has none) and its answer text."""
    splitter = ThinkSplitter()
    think, answer = splitter.feed(text)
    more_think, more_answer = splitter.finish()
    return (think + more_think if splitter.has_think else None), answer + more_answer


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper beginning of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0
