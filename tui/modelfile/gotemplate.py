"""The subset of Go's text/template that Ollama TEMPLATEs commonly use: its syntax tree and parser.

Supported: text; `{{ .Field }}` and `{{ $.Field }}` output; `{{ if }}`, `{{ else if }}`,
`{{ else }}`, `{{ end }}`; `{{ range .Messages }}` (with `{{ else }}`); the functions not,
and, or, eq and ne; "string" and `raw` literals, true and false; parentheses; `{{-`/`-}}`
whitespace trimming and `{{/* comments */}}`. Anything else (other functions, `|` pipelines,
variables, `with`, nested fields, numbers...) raises TemplateError naming it, at parse time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# Fields a template may name: the top level, then a message's (inside range .Messages).
TOP_FIELDS = ("System", "Prompt", "Response", "Messages", "Tools", "Suffix", "Think", "ThinkLevel", "IsThinkSet")
MESSAGE_FIELDS = ("Role", "Content", "Thinking", "ToolCalls", "ToolName")
FUNCTIONS = {"not": (1, 1), "and": (1, None), "or": (1, None), "eq": (2, None), "ne": (2, 2)}
_KEYWORDS = ("if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil")
_SPACE = " \t\r\n"
_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<raw>`[^`]*`)|(?P<field>(?:\.[A-Za-z_]\w*)+)
    |(?P<variable>\$\w*(?:\.[A-Za-z_]\w*)*)|(?P<dot>\.)|(?P<word>[A-Za-z_]\w*)
    |(?P<number>[-+]?\.?[0-9][\w.+-]*)|(?P<char>'(?:[^'\\\n]|\\.)*')|(?P<symbol>:=|[=(),|])""",
    re.X | re.A,
)
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\t": "\t", "\\r": "\r"}


class TemplateError(ValueError):
    """A template outside the supported subset, or one that fails to evaluate."""


@dataclass(frozen=True)
class Field:
    """`.Name` (from the current dot) or `$.Name` (from the top); name None is `.` or `$`."""

    name: str | None
    from_root: bool = False


@dataclass(frozen=True)
class Literal:
    """A string or boolean constant."""

    value: str | bool


@dataclass(frozen=True)
class Call:
    """One of FUNCTIONS applied to its arguments."""

    function: str
    args: tuple[Expr, ...]


Expr = Field | Literal | Call


@dataclass
class Output:
    """`{{ expr }}`: print the value."""

    expr: Expr


@dataclass
class If:
    """`{{ if expr }}then{{ else }}otherwise{{ end }}`."""

    condition: Expr
    then: list[Node] = field(default_factory=list)
    otherwise: list[Node] = field(default_factory=list)


@dataclass
class Range:
    """`{{ range expr }}body{{ else }}otherwise{{ end }}`: body once per item, with dot = item."""

    expr: Expr
    then: list[Node] = field(default_factory=list)
    otherwise: list[Node] = field(default_factory=list)


Node = str | Output | If | Range


@dataclass(frozen=True)
class _Action:
    tokens: list[tuple[str, str]]
    line: int


@dataclass
class _Block:
    """An open `if` or `range`, which branch is being filled, and whether `else if` opened it."""

    node: If | Range
    line: int
    chained: bool = False
    in_else: bool = False

    @property
    def body(self) -> list[Node]:
        return self.node.otherwise if self.in_else else self.node.then


def _error(line: int, message: str) -> TemplateError:
    return TemplateError(f"template line {line}: {message}")


def _is_space(text: str, index: int) -> bool:
    return index < len(text) and text[index] in _SPACE


def _lex(text: str) -> Iterator[str | _Action]:
    """Text pieces and actions, with `{{-`/`-}}` trimming applied and comments removed."""
    position, trim_next = 0, False
    while True:
        start = text.find("{{", position)
        piece = text[position:] if start < 0 else text[position:start]
        if trim_next:
            piece = piece.lstrip(_SPACE)
        trim_left = start >= 0 and text.startswith("-", start + 2) and _is_space(text, start + 3)
        yield piece.rstrip(_SPACE) if trim_left else piece
        if start < 0:
            return
        line = text.count("\n", 0, start) + 1
        position = start + (4 if trim_left else 2)
        if text.startswith("/*", position):
            end = text.find("*/", position + 2)
            if end < 0:
                raise _error(line, "unclosed comment")
            position = end + 2
            if text.startswith("}}", position):
                position, trim_next = position + 2, False
            elif _is_space(text, position) and text.startswith("-}}", position + 1):
                position, trim_next = position + 4, True
            else:
                raise _error(line, "comment ends before closing delimiter")
            continue
        tokens: list[tuple[str, str]] = []
        while True:
            token_start = position
            while _is_space(text, token_start):
                token_start += 1
            if text.startswith("}}", token_start):
                position, trim_next = token_start + 2, False
                break
            if token_start > position and text.startswith("-}}", token_start):
                position, trim_next = token_start + 3, True
                break
            if token_start == len(text):
                raise _error(line, "unclosed action")
            match = _TOKEN.match(text, token_start)
            if match is None:
                raise _error(line, f"unexpected {text[token_start]!r} in action")
            tokens.append((str(match.lastgroup), match.group()))
            position = match.end()
        yield _Action(tokens, line)


def _unsupported(kind: str, text: str) -> str:
    """How an error names a token outside the subset."""
    if kind == "word":
        if text in FUNCTIONS:
            return f"{text!r} as an argument (wrap the call in parentheses)"
        return f"{text!r}" if text in _KEYWORDS else f"function {text!r}"
    if kind in ("number", "char"):
        return f"{'number' if kind == 'number' else 'character constant'} {text}"
    return {"|": "pipeline '|'", ":=": "variable declaration", "=": "variable assignment"}.get(text, repr(text))


class _Parser:
    """Builds the node tree from lexed pieces."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.fields: set[str] = set()

    def parse(self) -> list[Node]:
        root: list[Node] = []
        stack: list[_Block] = []
        for item in _lex(self.text):
            current = stack[-1].body if stack else root
            if isinstance(item, str):
                if item:
                    current.append(item)
                continue
            tokens, line = item.tokens, item.line
            if not tokens:
                raise _error(line, "empty action")
            keyword = tokens[0][1] if tokens[0][0] == "word" else ""
            if keyword in ("if", "range"):
                node: If | Range = (If if keyword == "if" else Range)(self._expr(tokens[1:], line, keyword))
                current.append(node)
                stack.append(_Block(node, line))
            elif keyword == "else":
                if not stack or stack[-1].in_else:
                    raise _error(line, "unexpected {{ else }}")
                block = stack[-1]
                block.in_else = True
                if len(tokens) > 1:
                    if tokens[1] != ("word", "if") or isinstance(block.node, Range):
                        raise _error(line, f"{{{{ else {tokens[1][1]} }}}} is not supported")
                    nested = If(self._expr(tokens[2:], line, "else if"))
                    block.body.append(nested)
                    stack.append(_Block(nested, line, chained=True))
            elif keyword == "end":
                if len(tokens) > 1 or not stack:
                    raise _error(line, "unexpected {{ end }}")
                while stack.pop().chained:
                    pass
            else:
                current.append(Output(self._expr(tokens, line, "output")))
        if stack:
            raise _error(stack[-1].line, "missing {{ end }}")
        return root

    def _expr(self, tokens: list[tuple[str, str]], line: int, context: str) -> Expr:
        if not tokens:
            raise _error(line, f"missing value for {context}")
        expr, rest = self._command(tokens, line)
        if rest:
            raise _error(line, f"unexpected {rest[0][1]!r}")
        return expr

    def _command(self, tokens: list[tuple[str, str]], line: int) -> tuple[Expr, list[tuple[str, str]]]:
        """A function call or a single operand, up to a closing parenthesis or the end."""
        kind, word = tokens[0]
        if kind == "word" and word in FUNCTIONS:
            args: list[Expr] = []
            rest = tokens[1:]
            while rest and rest[0] != ("symbol", ")"):
                arg, rest = self._operand(rest, line)
                args.append(arg)
            low, high = FUNCTIONS[word]
            if len(args) < low or (high is not None and len(args) > high):
                raise _error(line, f"wrong number of arguments for {word}: {len(args)}")
            return Call(word, tuple(args)), rest
        operand, rest = self._operand(tokens, line)
        if rest and rest[0] != ("symbol", ")"):
            if rest[0][0] == "symbol":
                raise _error(line, f"{_unsupported(*rest[0])} is not supported")
            raise _error(line, f"{rest[0][1]!r} after a value: only not, and, or, eq and ne take arguments")
        return operand, rest

    def _operand(self, tokens: list[tuple[str, str]], line: int) -> tuple[Expr, list[tuple[str, str]]]:
        (kind, text), rest = tokens[0], tokens[1:]
        if (kind, text) == ("symbol", "("):
            if not rest or rest[0] == ("symbol", ")"):
                raise _error(line, "empty or unclosed parenthesis")
            inner, rest = self._command(rest, line)
            if not rest:
                raise _error(line, "unclosed parenthesis")
            return inner, rest[1:]
        if kind in ("field", "variable", "dot"):
            return self._field(text, line), rest
        if kind == "string":
            return Literal(re.sub(r"\\.", lambda m: self._escape(m.group(), line), text[1:-1])), rest
        if kind == "raw":
            return Literal(text[1:-1]), rest
        if kind == "word" and text in ("true", "false"):
            return Literal(text == "true"), rest
        raise _error(line, f"{_unsupported(kind, text)} is not supported")

    def _field(self, text: str, line: int) -> Field:
        from_root = text.startswith("$")
        if from_root and text != "$" and not text.startswith("$."):
            raise _error(line, f"variable {text.split('.')[0]} is not supported (only $ is)")
        names = [n for n in text.removeprefix("$").split(".") if n]
        if len(names) > 1:
            raise _error(line, f"nested field {text} is not supported")
        if names and names[0] not in TOP_FIELDS + MESSAGE_FIELDS:
            raise _error(line, f"field .{names[0]} is not supported")
        if names:
            self.fields.add(names[0])
        return Field(names[0] if names else None, from_root)

    @staticmethod
    def _escape(sequence: str, line: int) -> str:
        if sequence not in _ESCAPES:
            raise _error(line, f"escape sequence {sequence} is not supported")
        return _ESCAPES[sequence]


def parse(text: str) -> tuple[list[Node], set[str]]:
    """The node tree of a template, and every field name it mentions."""
    parser = _Parser(text)
    return parser.parse(), parser.fields
