"""`whirr create NAME -f Modelfile` stores a persona made from an Ollama Modelfile; `whirr rm` removes it."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands.common import CommandError, load_context


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr create` and `whirr rm`."""
    parser = subparsers.add_parser(
        "create",
        help="create a persona from a Modelfile",
        description="Check an Ollama Modelfile and store it as a persona: FROM may name a whirr "
        "model, an imported model, another persona or a GGUF path (relative to the Modelfile).",
    )
    parser.add_argument("name", help="persona name (NAME or NAME:TAG)")
    parser.add_argument("-f", "--file", default="Modelfile", help="the Modelfile (default: ./Modelfile)")
    parser.set_defaults(func=create_command)
    remove = subparsers.add_parser("rm", help="remove a persona", description="Remove a persona (model files are never deleted here).")
    remove.add_argument("names", nargs="+", metavar="NAME", help="persona name(s)")
    remove.set_defaults(func=remove_command)


def remove_command(args: argparse.Namespace) -> int:
    """Remove personas by name; a name that is not a persona is an error (nothing else is touched)."""
    context = load_context()
    missing = []
    for name in args.names:
        if context.personas.remove(name):
            print(f"deleted '{name}'")
        else:
            missing.append(name)
    if missing:
        raise CommandError(f"no persona named {', '.join(repr(n) for n in missing)} (whirr rm removes personas)")
    return 0


def create_command(args: argparse.Namespace) -> int:
    """Check the Modelfile, resolve its FROM, and store the persona."""
    from tui.modelfile import ParseError, parse
    from tui.modelfile.personas import PersonaError, create_persona, normalize_name, prepare_modelfile
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
