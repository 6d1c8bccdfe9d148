"""`whirr ps`: the models loaded now, like `ollama ps`."""

from __future__ import annotations

import argparse

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


def ps_command(args: argparse.Namespace) -> int:
    """Print the loaded models' table."""
    from tui.engine.runner.registry import loaded_models, registry_dir
    from tui.format import columns, human_size, human_until

    context = load_context()
    rows = [("NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL")]
    for model in loaded_models(registry_dir(context.paths)):
        rows.append((model.name, model.model_id or "-", human_size(model.memory_bytes), model.processor,
                     str(model.context), human_until(model.until)))
    for line in columns(rows):
        print(line)
    return 0
