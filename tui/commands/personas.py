"""`whirr create NAME -f Modelfile` stores a persona made from an Ollama Modelfile (`whirr rm`, in
models.py, removes personas and models alike)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands.common import CommandError, load_context, resolve_usable


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
    from tui.modelfile.personas import PersonaError, normalize_name, prepare_modelfile

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
    if any(entry.name == name for entry in context.library.list()):
        raise CommandError(f"'{name}' is already a model name; choose another name for the persona")
    base = resolve_usable(context, modelfile.base_model or "")
    check_template(modelfile.template)
    if modelfile.adapter and not Path(modelfile.adapter).is_file():
        raise CommandError(f"adapter file not found: {modelfile.adapter}")
    previous = context.personas.get(name)
    context.personas.save(name, modelfile)
    try:
        resolve_usable(context, name)  # a FROM chain that leads back to this name is a loop
    except CommandError:
        if previous is not None:
            context.personas.save(name, previous.modelfile)
        else:
            context.personas.remove(name)
        raise
    print(f"created persona {name} from {base.name} ({base.entry.path})")
    return 0


def check_template(template: str | None) -> None:
    """Refuse a TEMPLATE that cannot render: a Go construct outside the subset, bad Jinja."""
    if template is None:
        return
    import jinja2

    from tui.modelfile import GoTemplate, TemplateError, template_syntax

    try:
        if template_syntax(template) == "go":
            GoTemplate(template)
        else:
            jinja2.Environment().parse(template)
    except (TemplateError, jinja2.TemplateSyntaxError) as error:
        raise CommandError(f"invalid TEMPLATE: {error}") from None
