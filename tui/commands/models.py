"""`whirr list`, `whirr show`, `whirr rm` and `whirr cp`: the models and personas there are,
what is inside one, removing them and giving them another name."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands.common import CommandError, load_context, resolve_usable
from tui.format import human_age, human_size

if TYPE_CHECKING:
    from tui.models.personas import RunTarget


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr list`, `whirr show`, `whirr rm` and `whirr cp`."""
    listing = subparsers.add_parser("list", aliases=["ls"], help="list models", description="List every model whirr can run.")
    listing.set_defaults(func=list_command)
    show = subparsers.add_parser("show", help="show a model's details", description="Show what a model's GGUF header says.")
    show.add_argument("model", help="model name or path to a .gguf file")
    what = show.add_mutually_exclusive_group()
    what.add_argument("--template", action="store_true", help="print only the chat template")
    what.add_argument("--modelfile", action="store_true", help="print the Modelfile (a persona's own, or one for the model)")
    show.set_defaults(func=show_command)
    remove = subparsers.add_parser(
        "rm",
        help="remove a model or persona",
        description="Remove personas and models: files in whirr's models folder are deleted; models "
        "imported from other tools (Ollama, LM Studio, the Hugging Face cache) or added by path are "
        "only forgotten, their files stay where they are. SERVER/MODEL asks, then deletes the model "
        "on that Ollama server.",
    )
    remove.add_argument("names", nargs="+", metavar="NAME", help="model or persona name(s)")
    remove.set_defaults(func=remove_command)
    copy = subparsers.add_parser(
        "cp", help="copy a model or persona", description="Give a model another name (no file is copied), copy a persona, or add a GGUF file by path (read in place)."
    )
    copy.add_argument("source", help="model or persona name, or a .gguf file to add by path")
    copy.add_argument("destination", help="the new name")
    copy.set_defaults(func=copy_command)


def list_command(args: argparse.Namespace) -> int:
    """Print the model table (personas included), broken files with their problem."""
    import hashlib

    from tui.modelfile import write
    from tui.models.personas import persona_problem

    context = load_context()
    library = context.library
    rows = [("NAME", "ID", "SIZE", "SOURCE", "MODIFIED")]
    for persona in context.personas.list():
        digest = hashlib.sha256(write(persona.modelfile).encode()).hexdigest()[:12]
        modified = human_age(persona.created)
        problem = persona_problem(persona.name, library, context.personas)
        if problem:
            modified += f"   unusable: {problem}"
        rows.append((persona.name, digest, "-", f"persona of {persona.base}", modified))
    for entry in library.list():
        modified = human_age(entry.modified)
        if entry.problem:
            modified += f"   unusable: {entry.problem}"
        rows.append((entry.name, entry.id, human_size(entry.size), entry.source, modified))
    rows[1:] = sorted(rows[1:])
    from tui.commands.remote import list_rows

    rows += list_rows(library, human_age)
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("    ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "    " + row[4])
    print_warnings(library.warnings)
    return 0


def print_warnings(warnings: list[str]) -> None:
    """The library's one-line warnings (an unreadable registry file), on stderr."""
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def remove_command(args: argparse.Namespace) -> int:
    """Remove each name: a persona, else a model (delete whirr's own files, forget imported ones)."""
    from tui.models.library import LibraryError, ModelNotFound

    from tui.commands import remote
    from tui.servers import split_remote

    context = load_context()
    library = context.library
    problems = []
    for name in args.names:
        if context.personas.remove(name):
            print(f"deleted '{name}'")
            continue
        on_server = split_remote(name, library.servers)
        if on_server is not None:
            try:
                print(remote.remove(*on_server, confirm=remote.ask_on_terminal))
            except CommandError as error:
                problems.append(str(error))
            continue
        try:
            entry = library.named(name)
            outcome = library.remove(name)
        except ModelNotFound as error:
            problems.append(f"no model or persona named '{name}'" + (
                f" (did you mean {', '.join(repr(s) for s in error.suggestions)}?)" if error.suggestions else ""))
            continue
        except LibraryError as error:
            problems.append(str(error))
            continue
        except OSError as error:
            problems.append(f"cannot delete '{name}': {error.strerror} ({error.filename})")
            continue
        if outcome == "deleted":
            print(f"deleted '{name}'")
        else:
            where = "" if entry.alias_of else f"; its file stays at {entry.path}"
            print(f"forgot '{name}' (not whirr's file, nothing deleted{where})")
    print_warnings(library.warnings)
    if problems:
        raise CommandError("; ".join(problems))
    return 0


def copy_command(args: argparse.Namespace) -> int:
    """Copy a persona under a new name, or give a model another name (an alias: no file is copied)."""
    from tui.models.personas import PersonaError, normalize_name
    from tui.models.library import LibraryError, ModelNotFound

    context = load_context()
    library = context.library
    persona = context.personas.get(args.source)
    try:
        if persona is not None:
            destination = normalize_name(args.destination)
            taken = {entry.name for entry in library.list()} | {p.name for p in context.personas.list()}
            if destination in taken:
                raise CommandError(f"'{destination}' already exists")
            context.personas.save(destination, persona.modelfile)
        else:
            if context.personas.get(args.destination) is not None:
                raise CommandError(f"'{args.destination}' is already a persona")
            if args.source.endswith(".gguf") and Path(args.source).expanduser().is_file():
                entry = library.add_file(args.source, args.destination)
                print(f"added '{entry.name}': {entry.path} (read in place, not copied)")
                return 0
            library.copy(args.source, args.destination)
    except (PersonaError, LibraryError, ModelNotFound) as error:
        raise CommandError(str(error)) from None
    print(f"copied '{args.source}' to '{args.destination}'")
    return 0


def describe_model(target: "RunTarget") -> str:
    """The `whirr show` text for a model or persona."""
    entry = target.entry
    info = entry.info
    if info is None:  # a persona over a remote model: the server knows the model
        lines = ["  Model", f"    {'remote':<20}{entry.name} (`whirr show {entry.name}` asks {entry.server})"]
    else:
        template = "found (tokenizer.chat_template)" if info.chat_template else "not found (ChatML is used)"
        lines = [
            "  Model",
            f"    {'architecture':<20}{info.architecture}",
            f"    {'parameters':<20}{info.parameters_human} ({info.parameter_count:,})",
            f"    {'context length':<20}{info.context_length}",
            f"    {'embedding length':<20}{info.embedding_length}",
            f"    {'quantization':<20}{info.quantization}",
            f"    {'chat template':<20}{template}",
            f"    {'file':<20}{entry.path}",
            f"    {'size':<20}{human_size(entry.size)}",
        ]
    if target.persona is not None:
        lines += ["", "  Persona", f"    {'name':<20}{target.name}", f"    {'based on':<20}{target.persona.base}"]
        if target.template is not None:
            lines.append(f"    {'template':<20}from the Modelfile")
        if target.adapter is not None:
            lines.append(f"    {'adapter':<20}{target.adapter}")
    if target.parameters:
        lines += ["", "  Parameters"] + [f"    {k:<20}{v}" for k, v in target.parameters.items()]
    if target.system:
        lines += ["", "  System", *(f"    {line}" for line in target.system.splitlines())]
    licenses = [*target.licenses] or ([info.license] if info is not None and info.license else [])
    if licenses:
        lines += ["", "  License", *(f"    {line}" for text in licenses for line in text.splitlines()[:3])]
    return "\n".join(lines)


def show_command(args: argparse.Namespace) -> int:
    """Print a model's details, its chat template, or its Modelfile."""
    context = load_context()
    target = resolve_usable(context, args.model)
    if target.entry.server and target.persona is None:
        from tui.commands import remote
        from tui.servers import split_remote

        on_server = split_remote(target.entry.name, context.library.servers)
        assert on_server is not None
        return remote.show_command(*on_server, template=args.template, modelfile=args.modelfile)
    info = target.entry.info
    if args.template:
        print(target.template or (info.chat_template if info is not None else "") or "")
    elif args.modelfile:
        from tui.models.personas import modelfile_for

        print(modelfile_for(target), end="")
    else:
        print(describe_model(target))
    return 0
