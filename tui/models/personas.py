"""Personas: a Modelfile stored under a name, run on top of its base model.

`whirr create NAME -f Modelfile` and the editor's Save both go through `create_persona`: it
checks the file, resolves FROM (a whirr model, an imported model, a GGUF path, or another
persona) and stores the Modelfile in whirr's data folder. A `RunTarget` is what a name means
at answer time: the GGUF to load plus the persona's system prompt, template, parameters,
few-shot messages and adapter, layered over its base. `draft_target` is the same for an
unsaved Modelfile, and `modelfile_for` gives any name's Modelfile as `whirr show` prints it.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.engine.base import ChatMessage
from tui.engine.options import Options, options_from_parameters
from tui.files import write_atomically
from tui.modelfile.document import Command, Modelfile
from tui.modelfile.parser import parse
from tui.modelfile.prompt import template_error
from tui.modelfile.writer import write
from tui.models.library import Library, ModelEntry, ModelNotFound
from tui.paths import Paths

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*(?::[a-zA-Z0-9][a-zA-Z0-9._-]*)?$")


class PersonaError(ValueError):
    """A persona that cannot be created, found or resolved; the text says why."""


def normalize_name(name: str) -> str:
    """Ollama's convention: a name without a tag means NAME:latest."""
    if not _NAME.match(name):
        raise PersonaError(f"invalid name '{name}': use letters, digits, '.', '_' and '-', with an optional ':tag'")
    return name.lower() if ":" in name else f"{name.lower()}:latest"


@dataclass(frozen=True)
class Persona:
    """A stored Modelfile under a name."""

    name: str
    modelfile: Modelfile
    created: float

    @property
    def base(self) -> str:
        """What FROM names: a model, another persona, or an absolute GGUF path."""
        return self.modelfile.base_model or ""


class PersonaStore:
    """Personas as JSON files in whirr's data folder (one per persona)."""

    def __init__(self, paths: Paths) -> None:
        self.folder = paths.personas_dir

    def _file(self, name: str) -> Path:
        return self.folder / (name.replace(":", "@") + ".json")

    def get(self, name: str) -> Persona | None:
        """The persona called `name` (tag optional), or None."""
        try:
            path = self._file(normalize_name(name))
        except PersonaError:
            return None
        return self._read(path) if path.is_file() else None

    def list(self) -> list[Persona]:
        """Every readable persona, by name (an unreadable file is skipped, never deleted)."""
        personas = [self._read(path) for path in sorted(self.folder.glob("*.json"))]
        return [p for p in personas if p is not None]

    def save(self, name: str, modelfile: Modelfile) -> Persona:
        """Store (or replace) a persona atomically."""
        persona = Persona(normalize_name(name), modelfile, time.time())
        record = {"name": persona.name, "modelfile": write(modelfile), "created": persona.created}
        write_atomically(self._file(persona.name), json.dumps(record, indent=2))
        return persona

    def remove(self, name: str) -> bool:
        """Delete a persona; False if there was none."""
        persona = self.get(name)
        if persona is None:
            return False
        self._file(persona.name).unlink()
        return True

    def _read(self, path: Path) -> Persona | None:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            return Persona(record["name"], parse(record["modelfile"]), float(record["created"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class RunTarget:
    """What answering with a name means: the GGUF to load and the persona layers over it."""

    name: str
    entry: ModelEntry
    persona: Persona | None = None
    system: str | None = None
    template: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    messages: tuple[ChatMessage, ...] = ()
    adapter: Path | None = None
    licenses: tuple[str, ...] = ()

    def options(self, base: Options) -> Options:
        """`base` (config defaults) with this target's parameters on top."""
        return options_from_parameters(self.parameters, base)

    def conversation(self, system: str | None, history: list[ChatMessage], prompt: str | None = None) -> list[ChatMessage]:
        """System prompt, few-shot MESSAGEs, the history, then the new prompt if given."""
        messages = [ChatMessage("system", system)] if system else []
        messages += [*self.messages, *history]
        if prompt is not None:
            messages.append(ChatMessage("user", prompt))
        return messages


def model_target(entry: ModelEntry) -> RunTarget:
    """What a model (not a persona) runs: the model with its own defaults (an Ollama model's
    template, system, parameters, messages, adapter and license layers); personas layer on top."""
    defaults = entry.defaults
    if defaults is None:
        return RunTarget(entry.name, entry)
    return RunTarget(
        name=entry.name,
        entry=entry,
        system=defaults.system,
        template=defaults.template,
        parameters=defaults.parameters,
        messages=tuple(defaults.messages),
        adapter=Path(defaults.adapter) if defaults.adapter else None,
        licenses=tuple(defaults.licenses),
    )


def _layer(base: RunTarget, name: str, persona: Persona) -> RunTarget:
    """Apply a persona's Modelfile over what its FROM resolved to (Ollama's inheritance).

    Over a remote model (`SERVER/MODEL`), SYSTEM, PARAMETER and MESSAGE are applied here before
    sending; TEMPLATE and ADAPTER are refused: the server renders prompts and loads files itself.
    """
    modelfile = persona.modelfile
    server = base.entry.server
    if server and modelfile.template is not None:
        raise PersonaError(
            f"persona '{name}': TEMPLATE cannot be used with the remote model '{base.entry.name}' "
            f"({server} renders its own chat template; whirr sends it messages, not a prompt)"
        )
    if server and modelfile.adapter:
        raise PersonaError(f"persona '{name}': ADAPTER cannot be used with the remote model '{base.entry.name}' "
                           f"(the adapter file is on this machine, the model on {server})")
    parameters = {**base.parameters, **modelfile.parameters}
    adapter = Path(modelfile.adapter) if modelfile.adapter else base.adapter
    return RunTarget(
        name=name,
        entry=base.entry,
        persona=persona,
        system=modelfile.system if modelfile.system is not None else base.system,
        template=modelfile.template if modelfile.template is not None else base.template,
        parameters=parameters,
        messages=tuple(modelfile.messages) or base.messages,
        adapter=adapter,
        licenses=(*base.licenses, *modelfile.licenses),
    )


def resolve_target(name: str, library: Library, personas: PersonaStore) -> RunTarget:
    """Resolve a persona name, model name or GGUF path to a RunTarget.

    A model that is not a persona runs with its own defaults (model_target).
    Raises ModelNotFound (with suggestions) or PersonaError (a broken FROM chain).
    """
    seen: list[str] = []

    def resolve(wanted: str) -> RunTarget:
        persona = personas.get(wanted) if not Path(wanted).suffix == ".gguf" else None
        if persona is None:
            try:
                return model_target(library.resolve(wanted))
            except ModelNotFound as error:
                if seen:
                    raise PersonaError(f"persona '{seen[-1]}' is based on '{wanted}', which is not found") from None
                extra = [p.name for p in personas.list() if p.name.split(":")[0] == wanted.split(":")[0]]
                raise ModelNotFound(wanted, extra or error.suggestions) from None
        if persona.name in seen:
            raise PersonaError(f"persona '{persona.name}' is based on itself ({' -> '.join([*seen, persona.name])})")
        seen.append(persona.name)
        return _layer(resolve(persona.base), persona.name, persona)

    return resolve(name)


def prepare_modelfile(modelfile: Modelfile, folder: Path) -> Modelfile:
    """FROM and ADAPTER paths made absolute, relative to the Modelfile's folder (as Ollama does)."""

    def absolute(value: str) -> str:
        path = Path(value).expanduser()
        looks_like_path = value.startswith((".", "/", "~")) or path.suffix in (".gguf", ".bin", ".safetensors")
        if looks_like_path and not path.is_absolute():
            path = Path(os.path.normpath(folder / path))  # keep symlinks: the user named this path
        return str(path) if looks_like_path else value

    commands = [
        Command(c.name, absolute(c.args), c.line) if c.name in ("model", "adapter") else c
        for c in modelfile.commands
    ]
    return Modelfile(commands, modelfile.warnings)


def resolve_usable(name: str, library: Library, personas: PersonaStore) -> RunTarget:
    """`resolve_target`, refusing a model whose file cannot be used (PersonaError says why)."""
    target = resolve_target(name, library, personas)
    entry = target.entry
    if not entry.usable:
        raise PersonaError(f"model '{entry.name}' cannot be used: {entry.problem} ({entry.path})")
    return target


def persona_problem(name: str, library: Library, personas: PersonaStore) -> str:
    """Why persona `name` cannot run now ('' when it can): its FROM chain ends at no model (the
    model was removed) or at a file that cannot be used. Listings mark such personas unusable."""
    try:
        resolve_usable(name, library, personas)
    except (ModelNotFound, PersonaError) as error:
        return str(error)
    return ""


def check_template(template: str | None) -> None:
    """Refuse a TEMPLATE that cannot render (a Go construct outside the subset, bad Jinja)."""
    problem = template_error(template)
    if problem:
        raise PersonaError(problem)


def draft_target(modelfile: Modelfile, library: Library, personas: PersonaStore, name: str = "draft") -> RunTarget:
    """What an unsaved Modelfile would run: its layers over what its FROM resolves to.

    Raises ModelNotFound or PersonaError (unusable base, bad TEMPLATE), as saving it would.
    """
    check_template(modelfile.template)
    base = resolve_usable(modelfile.base_model or "", library, personas)
    return _layer(base, name, Persona(name, modelfile, 0.0))


def create_persona(
    name: str, modelfile: Modelfile, library: Library, personas: PersonaStore
) -> tuple[Persona, RunTarget]:
    """Check a parsed Modelfile and store it as persona `name` (the one way personas are made).

    FROM and ADAPTER paths must already be absolute (`prepare_modelfile`). Returns the stored
    persona and what its FROM runs. Raises PersonaError or ModelNotFound; nothing changes then.
    """
    name = normalize_name(name)
    if any(entry.name == name for entry in library.list()):
        raise PersonaError(f"'{name}' is already a model name; choose another name for the persona")
    base = resolve_usable(modelfile.base_model or "", library, personas)
    check_template(modelfile.template)
    if modelfile.adapter and not Path(modelfile.adapter).is_file():
        raise PersonaError(f"adapter file not found: {modelfile.adapter}")
    previous = personas.get(name)
    persona = personas.save(name, modelfile)
    try:
        resolve_usable(name, library, personas)  # a FROM chain that leads back to this name is a loop
    except (PersonaError, ModelNotFound):
        if previous is not None:
            personas.save(name, previous.modelfile)
        else:
            personas.remove(name)
        raise
    return persona, base


def modelfile_for(target: RunTarget) -> str:
    """The Modelfile `whirr show --modelfile` prints: a persona's own, or FROM + TEMPLATE for a model."""
    header = f'# Modelfile generated by "whirr show"\n# To build a new Modelfile based on this, use:\n# FROM {target.name}\n\n'
    if target.persona is not None:
        return header + write(target.persona.modelfile)
    commands = [Command("model", str(target.entry.path))]
    if target.entry.info is not None and target.entry.info.chat_template:
        commands.append(Command("template", target.entry.info.chat_template))
    commands += [Command("license", text) for text in target.licenses]
    return header + write(Modelfile(commands))
