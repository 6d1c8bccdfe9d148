"""`whirr ps`: the models loaded now, like `ollama ps`."""

from __future__ import annotations

import argparse
import time

from tui.commands.common import load_context


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr ps`."""
    parser = subparsers.add_parser(
        "ps",
        help="list the models loaded now",
        description="List the models whirr's runner processes hold in memory (from the app, "
        "`whirr run` or `whirr serve`): name, id, memory, processor, context and when "
        "keep_alive unloads them.",
    )
    parser.set_defaults(func=ps_command)


def until_text(until: float | None, now: float | None = None) -> str:
    """When a model unloads, as Ollama prints it: '4 minutes from now', 'Forever'."""
    if until is None:
        return "Forever"
    seconds = until - (now if now is not None else time.time())
    if seconds < 1:
        return "Stopping..."
    if seconds < 60:
        return "Less than a minute from now"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        count = int(seconds // size)
        if count == 1:
            return f"About {'an' if unit == 'hour' else 'a'} {unit} from now"
        if count > 1:
            return f"{count} {unit}s from now"
    return "Less than a minute from now"


def ps_command(args: argparse.Namespace) -> int:
    """Print the loaded models' table."""
    from tui.engine.runner.registry import loaded_models, registry_dir
    from tui.format import human_size

    context = load_context()
    rows = [("NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL")]
    for model in loaded_models(registry_dir(context.paths)):
        rows.append((model.name, model.model_id or "-", human_size(model.memory_bytes), model.processor,
                     str(model.context), until_text(model.until)))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("    ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "    " + row[5])
    return 0
