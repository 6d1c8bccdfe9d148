"""The interactive loop of `whirr run`, with `ollama run`'s prompt and slash commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.commands.chat import Chat

HELP = """Available Commands:
  /set parameter NAME VALUE   Set a parameter (Ollama's names: temperature, num_ctx, stop, ...)
  /set system TEXT            Set the system prompt
  /show info                  Show details for this model
  /show parameters            Show the parameters that differ from the defaults
  /clear                      Clear the conversation
  /bye                        Exit
  /?, /help                   Help for a command

Use \"\"\" to begin a multi-line message, and \"\"\" again to end it.
Ctrl+C stops an answer; Ctrl+D or /bye exits."""


def read_message(read=input) -> str | None:
    """Read one message at `>>> `; triple quotes span lines. None at end of input."""
    try:
        line = read(">>> ")
    except EOFError:
        return None
    if not line.lstrip().startswith('"""'):
        return line
    text = line.lstrip()[3:]
    if text.endswith('"""') and text:
        return text[:-3]
    lines = [text] if text else []
    while True:
        try:
            line = read("... ")
        except EOFError:
            return "\n".join(lines)
        if line.rstrip().endswith('"""'):
            lines.append(line.rstrip()[:-3])
            return "\n".join(lines).rstrip("\n")
        lines.append(line)


def interactive(chat: "Chat", verbose: bool) -> int:
    """Chat until /bye or end of input."""
    from tui.commands.chat import print_stats, write_text

    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    while True:
        try:
            message = read_message()
        except KeyboardInterrupt:
            print("\nUse Ctrl + d or /bye to exit.")
            continue
        if message is None:
            print()
            return 0
        if not message.strip():
            continue
        if message.startswith("/"):
            if handle_command(chat, message.strip()):
                return 0
            continue
        result = chat.ask(message, write_text)
        done = result.done
        print("\n" if done.text and not done.text.endswith("\n") else "")
        if done.stats.finish_reason == "error":
            print(f"Error: {done.stats.error}", file=sys.stderr)
        elif verbose:
            print_stats(done.stats, result.energy)


def handle_command(chat: "Chat", line: str) -> bool:
    """Run one slash command; returns True when the loop should end."""
    words = line.split(maxsplit=3)
    command = words[0].lower()
    if command in ("/bye", "/exit"):
        return True
    if command in ("/?", "/help"):
        print(HELP)
    elif command == "/clear":
        chat.history.clear()
        print("Cleared session context")
    elif command == "/set":
        _set(chat, line)
    elif command == "/show":
        _show(chat, words[1] if len(words) > 1 else "")
    else:
        print(f"Unknown command '{words[0]}'. Type /? for help")
    return False


def _set(chat: "Chat", line: str) -> None:
    from tui.engine.options import ParameterError, option_note, parse_parameter

    parts = line.split(maxsplit=2)
    what = parts[1].lower() if len(parts) > 1 else ""
    if what == "system" and len(parts) == 3:
        chat.system = parts[2].strip().strip('"')
        print("Set system message.")
        return
    if what == "parameter":
        rest = parts[2].split(maxsplit=1) if len(parts) == 3 else []
        if len(rest) != 2:
            print("Usage: /set parameter NAME VALUE")
            return
        name, raw = rest
        try:
            value = parse_parameter(name, raw)
        except ParameterError as error:
            print(f"Couldn't set parameter: {error}")
            return
        if name == "stop":
            value = (*chat.options.stop, value)
        chat.options = chat.options.updated(**{name: value})
        print(f"Set parameter '{name}' to '{raw}'")
        note = option_note(name, value)
        if note:
            print(f"Note: {note}")
        return
    print("Usage: /set parameter NAME VALUE | /set system TEXT")


def _show(chat: "Chat", what: str) -> None:
    from tui.commands.models import describe_model

    if what == "info":
        print(describe_model(chat.target))
    elif what == "parameters":
        changed = chat.options.to_parameters()
        print("\n".join(f"{k:<20}{v}" for k, v in changed.items()) or "All parameters are at their defaults.")
    elif what == "system":
        print(chat.system or "No system message was specified.")
    else:
        print("Usage: /show info | /show parameters | /show system")
