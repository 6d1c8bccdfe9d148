"""What the Modelfile editor needs besides the parser: highlighting spans, completion, help.

No Textual here: the editor widget asks these functions about a document given as its list of
lines and a cursor (row, column), both 0-based. Problems come from the real parser
(`tui.modelfile.parser.parse`, the checks `whirr modelfile parse` makes) plus the TEMPLATE
check saving makes, so the editor never disagrees with `whirr create`.

Highlighting is line based and cheap: one pass over the lines, tracking only whether a line
starts inside an open "quoted" or \"\"\"triple-quoted\"\"\" value (a value is complete once its
text, trimmed, ends with the quote that opened it, as in Ollama's lexer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tui.engine.options import DEPRECATED_PARAMETERS, OPTION_FIELDS, Options, option_help, option_type
from tui.modelfile.document import INSTRUCTIONS, Modelfile, ROLES
from tui.modelfile.parser import ParseError, parse
from tui.modelfile.prompt import template_error

# The documented instructions, in the order completion offers them.
INSTRUCTION_NAMES = ("FROM", "PARAMETER", "SYSTEM", "TEMPLATE", "MESSAGE", "ADAPTER", "LICENSE", "REQUIRES")
INSTRUCTION_HELP = {
    "from": "the base: a model name, a persona, or a path to a GGUF file (required)",
    "parameter": "a sampling or runtime option: PARAMETER name value",
    "system": "the system prompt",
    "template": "the prompt template (Jinja, or Ollama's Go-template subset)",
    "message": "a few-shot turn placed before the conversation: MESSAGE system|user|assistant text",
    "adapter": "a LoRA adapter (GGUF) applied to the base model",
    "license": "the license text, shown by show and the library",
    "requires": "the lowest Ollama version this Modelfile needs (semver)",
    "draft": "a draft model for speculative decoding (Ollama; whirr ignores it)",
    "renderer": "a prompt renderer (Ollama; whirr ignores it)",
    "parser": "an output parser (Ollama; whirr ignores it)",
}
_COMMON_FIRST = ("temperature", "num_ctx", "top_k", "top_p", "min_p", "stop", "seed", "num_predict", "repeat_penalty")
# Parameter names, the most used first; deprecated ones are not offered.
PARAMETER_NAMES = tuple(
    sorted(
        (name for name in OPTION_FIELDS if name not in DEPRECATED_PARAMETERS),
        key=lambda name: _COMMON_FIRST.index(name) if name in _COMMON_FIRST else len(_COMMON_FIRST),
    )
)

SpanKind = Literal["keyword", "parameter", "role", "string", "number", "comment"]
_KEYWORD = re.compile(r"[ \t]*([A-Za-z]+)(?=[ \t])")
_WORD = re.compile(r"[ \t]*([A-Za-z0-9_]+)")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INSTRUCTION_PREFIX = re.compile(r"[ \t]*([A-Za-z]+)")
_PARAMETER_PREFIX = re.compile(r"[ \t]*parameter[ \t]+([A-Za-z0-9_]*)", re.IGNORECASE)
_ROLE_PREFIX = re.compile(r"[ \t]*message[ \t]+([A-Za-z]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A highlighted run of one line: columns [start, end), or to the line's end when end is None."""

    start: int
    end: int | None
    kind: SpanKind


@dataclass(frozen=True)
class Problem:
    """Something wrong in the document, at a 1-based line."""

    line: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ParameterHelp:
    """What the editor shows about a parameter: its type, Ollama's default and meaning."""

    name: str
    type: str
    default: str
    meaning: str
    deprecated: bool = False


@dataclass(frozen=True)
class _Line:
    """One scanned line: its spans, the instruction it belongs to, and whether it is a value's continuation."""

    spans: list[Span]
    instruction: str | None  # lowercase keyword
    parameter: str | None
    continued: bool


def check(text: str) -> tuple[Modelfile | None, list[Problem]]:
    """Parse and check a document as saving would: the Modelfile and its problems. On an error
    the Modelfile is None and the error is the first problem; otherwise problems are warnings."""
    try:
        modelfile = parse(text)
    except ParseError as error:
        return None, [Problem(error.line, error.message)]
    problems = [Problem(w.line, w.message, "warning") for w in modelfile.warnings]
    error = template_error(modelfile.template)
    if error:
        line = max(c.line for c in modelfile.commands if c.name == "template")
        return None, [Problem(line, error), *problems]
    return modelfile, problems


def highlight(lines: Sequence[str]) -> list[list[Span]]:
    """The highlighted spans of every line."""
    return [line.spans for line in _scan(lines)]


def _scan(lines: Sequence[str], stop: int | None = None) -> list[_Line]:
    """Scan lines [0, stop) (all by default)."""
    result: list[_Line] = []
    quote: str | None = None
    instruction: str | None = None
    parameter: str | None = None
    for text in lines[:stop]:
        if quote is not None:
            result.append(_Line([Span(0, None, "string")] if text else [], instruction, parameter, True))
            if text.rstrip(" \t").endswith(quote):
                quote = None
            continue
        scanned, quote = _scan_line(text)
        instruction, parameter = scanned.instruction, scanned.parameter
        result.append(scanned)
    return result


def _scan_line(text: str) -> tuple[_Line, str | None]:
    """One line that starts outside any value; returns it and the quote left open at its end."""
    stripped = text.lstrip(" \t")
    if not stripped:
        return _Line([], None, None, False), None
    if stripped.startswith("#"):
        return _Line([Span(len(text) - len(stripped), None, "comment")], None, None, False), None
    keyword_match = _KEYWORD.match(text)
    if keyword_match is None or keyword_match.group(1).lower() not in INSTRUCTIONS:
        return _Line([], None, None, False), None
    keyword = keyword_match.group(1).lower()
    spans = [Span(keyword_match.start(1), keyword_match.end(1), "keyword")]
    position, parameter = keyword_match.end(), None
    if keyword in ("parameter", "message"):
        word = _WORD.match(text, position)
        if word is not None:
            name = word.group(1)
            known = name in OPTION_FIELDS if keyword == "parameter" else name in ROLES
            if known:
                spans.append(Span(word.start(1), word.end(1), "parameter" if keyword == "parameter" else "role"))
            parameter = name if keyword == "parameter" else None
            position = word.end()
    value = text[position:].strip(" \t")
    if not value:
        return _Line(spans, keyword, parameter, False), None
    start = text.index(value, position)
    quote = next((q for q in ('"""', '"') if value.startswith(q)), None)
    if quote is not None:
        closed = len(value) >= 2 * len(quote) and value.endswith(quote)
        spans.append(Span(start, None, "string"))
        return _Line(spans, keyword, parameter, False), None if closed else quote
    kind: SpanKind = "number" if keyword == "parameter" and _NUMBER.fullmatch(value) else "string"
    spans.append(Span(start, start + len(value), kind))
    return _Line(spans, keyword, parameter, False), None


def _line_at(lines: Sequence[str], row: int) -> _Line | None:
    scanned = _scan(lines, row + 1)
    return scanned[row] if 0 <= row < len(scanned) else None


def completions(lines: Sequence[str], row: int, column: int) -> list[str]:
    """Instruction names, parameter names or MESSAGE roles that fit the word before the cursor.

    Only at the end of a line (nothing but blanks after the cursor) and outside values; a word
    already complete is not offered again.
    """
    line = _line_at(lines, row)
    if line is None or line.continued:
        return []
    text = lines[row]
    before = text[:column]
    if text[column:].strip():
        return []
    if match := _INSTRUCTION_PREFIX.fullmatch(before):
        prefix = match.group(1).upper()
        return [name for name in INSTRUCTION_NAMES if name.startswith(prefix) and name != prefix]
    if match := _PARAMETER_PREFIX.fullmatch(before):
        prefix = match.group(1)
        return [name for name in PARAMETER_NAMES if name.startswith(prefix) and name != prefix]
    if match := _ROLE_PREFIX.fullmatch(before):
        prefix = match.group(1)
        return [role for role in ROLES if role.startswith(prefix) and role != prefix]
    return []


def suggestion(lines: Sequence[str], row: int, column: int) -> str:
    """The text to insert at the cursor to complete the word being typed (with a blank after),
    or '' when nothing fits or nothing has been typed yet."""
    found = completions(lines, row, column)
    match = re.search(r"[A-Za-z0-9_]+$", lines[row][:column]) if found else None
    if match is None:
        return ""
    typed = match.group(0)
    rest = found[0][len(typed) :]
    if found[0].isupper() and typed.islower():
        rest = rest.lower()  # keywords are case-insensitive: keep the case being typed
    return rest + " "


def instruction_at(lines: Sequence[str], row: int) -> tuple[str, str | None] | None:
    """The instruction (lowercase keyword) the line belongs to, with its parameter name for
    PARAMETER lines; None for blank lines, comments and lines that are not instructions."""
    line = _line_at(lines, row)
    if line is None or line.instruction is None:
        return None
    return line.instruction, line.parameter


def parameter_help(name: str) -> ParameterHelp | None:
    """Type, Ollama's default and meaning of a parameter; None for an unknown name."""
    if name in DEPRECATED_PARAMETERS and name not in OPTION_FIELDS:
        return ParameterHelp(name, "-", "-", "deprecated: Ollama warns and ignores it", deprecated=True)
    if name not in OPTION_FIELDS:
        return None
    kind = option_type(name)
    default = getattr(Options(), name)
    if kind is tuple:
        return ParameterHelp(name, "string (repeat the line for several)", "none", option_help(name))
    shown = str(default).lower() if kind is bool else str(default)
    return ParameterHelp(name, kind.__name__, shown, option_help(name))
