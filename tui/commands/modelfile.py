"""`whirr modelfile parse|fmt FILE`: check a Modelfile as Ollama would, or print its canonical form."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from tui.modelfile import Modelfile, ParseError, parse, write


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `whirr modelfile` with its `parse` and `fmt` actions."""
    parser = subparsers.add_parser(
        "modelfile",
        help="check or format an Ollama Modelfile",
        description="Read a Modelfile as Ollama does, with the checks `ollama create` makes.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parse_parser = actions.add_parser(
        "parse",
        help="print the instructions as JSON",
        description='Print the instructions as a JSON list of {"name", "args"}, named as Ollama names '
        'them ("model" for FROM, the parameter\'s name for PARAMETER, "role: content" for MESSAGE).',
    )
    parse_parser.add_argument("file", help="the Modelfile")
    parse_parser.set_defaults(func=parse_command)
    fmt_parser = actions.add_parser(
        "fmt",
        help="print the canonical form",
        description="Print the Modelfile as `ollama show --modelfile` writes it: one instruction "
        "per line, values quoted only where needed, comments dropped.",
    )
    fmt_parser.add_argument("file", help="the Modelfile")
    fmt_parser.set_defaults(func=fmt_command)


def parse_command(args: argparse.Namespace) -> int:
    """Print the parsed instructions as JSON; 1 when the file is unreadable or invalid."""
    return _with_modelfile(args.file, _print_json)


def fmt_command(args: argparse.Namespace) -> int:
    """Print the canonical form; 1 when the file is unreadable or invalid."""
    return _with_modelfile(args.file, lambda modelfile: sys.stdout.write(write(modelfile)))


def _print_json(modelfile: Modelfile) -> None:
    commands = [{"name": c.name, "args": c.args} for c in modelfile.commands]
    print(json.dumps(commands, indent=2, ensure_ascii=False))


def _with_modelfile(path: str, action: Callable[[Modelfile], object]) -> int:
    """Read and parse `path`, report warnings on stderr, then run `action` on the result."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        print(f"Error: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    try:
        modelfile = parse(data)
    except ParseError as error:
        print(f"Error: {path}:{error.line}: {error.message}", file=sys.stderr)
        return 1
    for warning in modelfile.warnings:
        print(f"{path}:{warning.line}: {warning.message}", file=sys.stderr)
    action(modelfile)
    return 0
