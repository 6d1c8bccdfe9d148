"""`whirr create NAME -f Modelfile` stores a persona made from an Ollama Modelfile (`whirr rm`, in
models.py, removes personas and models alike)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands.common import CommandError, load_context


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr create`."""
    parser = subparsers.add_parser(
        "create",
        help="create a persona from a Modelfile",
        description="Check an Ollama Modelfile and store it as a persona: FROM may name a whirr "
        "model, an imported model, another persona or a GGUF path (relative to the Modelfile).",
    )
    parser.add_argument("name", help="persona name (NAME or NAME:TAG)")
    parser.add_argument("-f", "--file", default="Modelfile", help="the Modelfile (default: ./Modelfile)")
    parser.set_defaults(func=create_command)


def create_command(args: argparse.Namespace) -> int:
    """Check the Modelfile, resolve its FROM, and store the persona."""
    from tui.modelfile import ParseError, parse
    from tui.models.personas import PersonaError, create_persona, normalize_name, prepare_modelfile
    from tui.models.library import ModelNotFound

    context = load_context()
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    try:
        name = normalize_name(args.name)
        modelfile = prepare_modelfile(parse(data), path.resolve().parent)
    except ParseError as error:
        raise CommandError(f"{path}:{error.line}: {error.message}") from None
    except PersonaError as error:
        raise CommandError(str(error)) from None
    for warning in modelfile.warnings:
        print(f"{path}:{warning.line}: {warning.message}")
    try:
        persona, base = create_persona(name, modelfile, context.library, context.personas)
    except (ModelNotFound, PersonaError) as error:
        raise CommandError(str(error)) from None
    print(f"created persona {persona.name} from {base.name} ({base.entry.path})")
    return 0
