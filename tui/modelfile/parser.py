"""Read a Modelfile the way Ollama does, then check it as `ollama create` would.

Lexing follows Ollama's parser (parser/parser.go) rule for rule, quirks included, so a file
means the same to both tools:
- An instruction starts a line (after blanks); a line whose first non-blank is `#` is a comment.
- The keyword (case-insensitive) is followed by one blank; PARAMETER then takes a name of
  [A-Za-z0-9_] and MESSAGE a role of letters, each also ended by one blank.
- The value runs to the end of the line, or on over line breaks until it reads as a complete
  "quoted" or \"\"\"triple-quoted\"\"\" string. Quotes are stripped, never unescaped; outside
  them, surrounding blanks are trimmed. Unprintable characters in a value are dropped.
Checks that Ollama makes at create time follow: parameter names and value types (with
tui.engine.options), the REQUIRES version, and deprecated parameters, which are skipped with a
warning. Line numbers count a CRLF pair as one line break.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from tui.engine.options import DEPRECATED_PARAMETERS, ParameterError, option_note, parse_parameter
from tui.modelfile.document import INSTRUCTIONS, ROLES, Command, Modelfile, ParseWarning

INVALID_COMMAND = "command must be one of " + ", ".join(f'"{i}"' for i in INSTRUCTIONS[:-1])
INVALID_COMMAND += f', or "{INSTRUCTIONS[-1]}"'
INVALID_ROLE = 'message role must be one of "system", "user", or "assistant"'
UNEXPECTED_EOF = "unexpected EOF"
NO_FROM = "no FROM line"
INVALID_REQUIRES = "requires must be a valid semver (e.g. 0.14.0)"

_BLANK = " \t"
_SPACE = " \t\r\n"  # what Go's TrimSpace can meet in a value once unprintables are dropped
_NEWLINE = re.compile(r"[\r\n]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LETTERS = re.compile(r"[A-Za-z]*")
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_]*")
# golang.org/x/mod/semver, which Ollama uses: vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]].
_NUMBER = r"(?:0|[1-9][0-9]*)"
_PRE_ID = rf"(?:{_NUMBER}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    rf"v{_NUMBER}(?:\.{_NUMBER}(?:\.{_NUMBER}(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?"
)


class ParseError(ValueError):
    """A Modelfile Ollama would reject: Ollama's message and the 1-based line it concerns."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def decode(data: bytes) -> str:
    """Text of a Modelfile's bytes: UTF-8 (BOM optional) or UTF-16 with a BOM.

    Bytes that are not text in that encoding raise ParseError at their line, where Ollama
    would replace them with U+FFFD: a file whirr stores must say what the user wrote.
    """
    codec, body = "utf-8", data
    for bom, name in ((b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le")):
        if data.startswith(bom):
            codec, body = name, data[len(bom) :]
            break
    try:
        return body.decode(codec)
    except UnicodeDecodeError as error:
        good = body[: error.start].decode(codec)
        line = len(_LINE_BREAK.findall(good)) + 1
        column = len(_LINE_BREAK.split(good)[-1]) + 1
        raise ParseError(f"not {codec.upper().removesuffix('-BE').removesuffix('-LE')} text: byte 0x{body[error.start]:02x} at column {column}", line) from None


def parse(source: str | bytes) -> Modelfile:
    """Parse and check a Modelfile; raises ParseError where Ollama would refuse it."""
    text = decode(source) if isinstance(source, bytes) else source.removeprefix("\ufeff")
    commands = _Lexer(text).commands()
    if not any(c.name == "model" for c in commands):
        raise ParseError(NO_FROM, 1)
    return _check(commands)


def _check(commands: list[Command]) -> Modelfile:
    """What `ollama create` verifies after parsing, in file order."""
    kept: list[Command] = []
    warnings: list[ParseWarning] = []
    for command in commands:
        if command.name == "requires":
            version = command.args if command.args.startswith("v") else "v" + command.args
            if not _SEMVER.fullmatch(version):
                raise ParseError(INVALID_REQUIRES, command.line)
        elif command.is_parameter:
            if command.name in DEPRECATED_PARAMETERS:
                warnings.append(ParseWarning(command.line, f"warning: parameter {command.name} is deprecated"))
                continue
            try:
                value = parse_parameter(command.name, command.args)
            except ParameterError as error:
                raise ParseError(str(error), command.line) from None
            note = option_note(command.name, value)
            if note:
                warnings.append(ParseWarning(command.line, f"note: {note}"))
        kept.append(command)
    return Modelfile(kept, warnings)


def _printable(text: str) -> str:
    """`text` without the characters Ollama's lexer drops from values."""
    if text.isprintable():
        return text
    return "".join(c for c in text if c.isprintable() or c in _SPACE)


def _unquote(buffer: str, first: int, last: int) -> str | None:
    """The value if buffer[first:last] (the buffer without surrounding space) is complete."""
    if first < 0:
        return ""
    for quote in ('"""', '"'):
        if buffer.startswith(quote, first, last):
            closed = last - first >= 2 * len(quote) and buffer.endswith(quote, first, last)
            return buffer[first + len(quote) : last - len(quote)] if closed else None
    return buffer[first:last]


class _Lexer:
    """Splits Modelfile text into commands, raising ParseError with Ollama's messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [m.end() for m in _LINE_BREAK.finditer(text)]

    def line_at(self, position: int) -> int:
        """The 1-based line holding `position`."""
        return bisect_right(self.line_starts, position) + 1

    def commands(self) -> list[Command]:
        """Every instruction in the text, in order."""
        text, position, found = self.text, 0, []
        while position < len(text):
            char = text[position]
            if char in _SPACE:
                position += 1
            elif char == "#":
                newline = _NEWLINE.search(text, position)
                position = newline.start() if newline else len(text)
            else:
                command, position = self._instruction(position)
                found.append(command)
        return found

    def _word(self, pattern: re.Pattern[str], start: int, line: int, error: str) -> tuple[str, int]:
        """The run matching `pattern` at `start`, which one blank must end; and where the next part starts."""
        match = pattern.match(self.text, start)
        end = match.end() if match else start
        if end == len(self.text):
            raise ParseError(UNEXPECTED_EOF, line)
        if self.text[end] not in _BLANK:
            raise ParseError(error, line)
        return self.text[start:end], end + 1

    def _instruction(self, start: int) -> tuple[Command, int]:
        line = self.line_at(start)
        # The first character of a keyword may be anything (and is dropped when unprintable);
        # only the rest must be letters. Ollama reads it that way.
        first = self.text[start] if self.text[start].isprintable() else ""
        rest, position = self._word(_LETTERS, start + 1, line, INVALID_COMMAND)
        keyword = (first + rest).lower()
        if keyword not in INSTRUCTIONS:
            raise ParseError(INVALID_COMMAND, line)
        name, prefix = ("model" if keyword == "from" else keyword), ""
        if keyword == "parameter":
            name, position = self._word(_PARAMETER_NAME, position, line, UNEXPECTED_EOF)
        elif keyword == "message":
            role, position = self._word(_LETTERS, position, line, UNEXPECTED_EOF)
            if role not in ROLES:
                raise ParseError(INVALID_ROLE, line)
            prefix = f"{role}: "
        value, end = self._value(position, line)
        return Command(name, prefix + value, line), end

    def _value(self, start: int, line: int) -> tuple[str, int]:
        """Read a value from `start` up to the line break (or end) where it is complete.

        Tracks where the buffer's non-space text starts and ends, so each line costs
        only its own length.
        """
        text = self.text
        buffer, first, last = "", -1, 0
        segment = search = start
        while True:
            newline = _NEWLINE.search(text, search)
            end = newline.start() if newline else len(text)
            piece = _printable(text[segment:end])
            if piece.strip(_SPACE):
                if first < 0:
                    first = len(buffer) + len(piece) - len(piece.lstrip(_SPACE))
                last = len(buffer) + len(piece.rstrip(_SPACE))
            buffer += piece
            value = _unquote(buffer, first, last)
            if value is not None:
                return value, end
            if newline is None:
                raise ParseError(UNEXPECTED_EOF, line)
            segment, search = end, end + 1
