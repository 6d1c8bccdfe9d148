"""The `whirr` command line: Ollama-like subcommands.

Each command group lives in its own module under `tui.commands` and registers its
subparser there. Heavy libraries (llama_cpp, textual) are imported only inside the
command that needs them, so `whirr --help` and `whirr list` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tui import __version__

COMMAND_MODULES = ("app", "run", "ps", "models", "personas", "bench", "modelfile", "sessions", "pull", "serve")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="whirr",
        description="Run language models locally, with the cost of every answer in view.",
    )
    parser.add_argument("--version", action="version", version=f"whirr {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"tui.commands.{name}").register(subparsers)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse, letting words of a prompt follow the options (`whirr run MODEL --verbose hi there`)."""
    args, extras = parser.parse_known_args(argv)
    if args.command is None:
        return _parse(parser, ["app", *argv])
    words_field = getattr(args, "trailing_words", None)
    if extras and words_field and not any(word.startswith("-") for word in extras):
        setattr(args, words_field, [*getattr(args, words_field), *extras])
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run whirr with `argv` (default: the process arguments); returns the exit code."""
    parser = build_parser()
    args = _parse(parser, argv if argv is not None else sys.argv[1:])
    from tui.commands.common import CommandError

    try:
        return int(args.func(args) or 0)
    except CommandError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:  # a read-only or full disk: one line, never a traceback
        from tui.files import write_problem

        print(f"Error: {write_problem(error)}", file=sys.stderr)
        return 1
