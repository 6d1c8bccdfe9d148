"""Write a Modelfile in the canonical form `ollama show --modelfile` uses.

One instruction per line in the Modelfile's order: `FROM value`, `PARAMETER name value`,
`MESSAGE role value`, and the uppercase keyword with its value otherwise. A value is written
bare unless it holds a line break or starts or ends with a space; then it is quoted with
\"\"\" when it holds a `"`, else with `"`. Where Ollama's own rule would write something its
parser reads back differently (a value starting with `"`, an edge tab, a CR, an empty value)
this writer quotes too, so that parse(write(m)) == m for every Modelfile parse() returns.
"""

from __future__ import annotations

import re

from tui.modelfile.document import KEYWORD_COMMANDS, ROLES, Command, Modelfile

_SPACE = " \t\r\n"
# A line of a \"\"\"-quoted value that ends in \"\"\" (then blanks) would close the quote early.
_CLOSES_EARLY = re.compile(r'"""[ \t]*[\r\n]')


def write(modelfile: Modelfile) -> str:
    """The Modelfile as text, one instruction per line, comments and blank lines dropped.

    Raises ValueError for a value no quoting can carry (see `quote`).
    """
    return "".join(format_command(command) + "\n" for command in modelfile.commands)


def format_command(command: Command) -> str:
    """One instruction line (several lines when its value holds line breaks)."""
    if command.name == "model":
        return f"FROM {quote(command.args)}"
    if command.name == "message":
        role, separator, content = command.args.partition(": ")
        if not separator or role not in ROLES:
            raise ValueError(f"a message must read 'role: content' with role one of {ROLES}: {command.args!r}")
        return f"MESSAGE {role} {quote(content)}"
    if command.name in KEYWORD_COMMANDS:
        return f"{command.name.upper()} {quote(command.args)}"
    return f"PARAMETER {command.name} {quote(command.args)}"


def quote(value: str) -> str:
    """`value` as a Modelfile writes it: bare, "quoted" or \"\"\"triple-quoted\"\"\".

    Raises ValueError when the value holds a character Ollama's parser drops (anything
    unprintable but tab, CR and LF) or a line ending in \"\"\" while also needing quotes.
    """
    if not value.isprintable() and any(not c.isprintable() and c not in _SPACE for c in value):
        raise ValueError(f"a Modelfile value cannot hold unprintable characters: {value!r}")
    needs_quotes = not value or value != value.strip(_SPACE) or value.startswith('"') or "\n" in value or "\r" in value
    if not needs_quotes:
        return value
    if '"' not in value:
        return f'"{value}"'
    if _CLOSES_EARLY.search(value):
        raise ValueError(f'a quoted Modelfile value cannot have a line ending in """: {value!r}')
    return f'"""{value}"""'
