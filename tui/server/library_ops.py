"""Changing the library through the API: pull from Hugging Face, create a persona from a
Modelfile's fields, copy and delete. Each is whirr's own operation (the one `whirr pull`,
`whirr create`, `whirr cp` and `whirr rm` use); this module only maps Ollama's requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tui.modelfile.document import Command, Modelfile
from tui.models.personas import PersonaError, create_persona, normalize_name
from tui.models.library import LibraryError, ModelNotFound, NotOwned
from tui.server.inputs import ApiError, bad_request, get
from tui.server.service import Service

HUB_HINT = "whirr pulls GGUF models from Hugging Face: use hf.co/ORG/REPO or hf.co/ORG/REPO:QUANT"


async def pull_progress(service: Service, name: str) -> AsyncIterator[dict[str, Any]]:
    """Ollama's pull progress lines for a Hugging Face download: pulling manifest, the file with
    total and completed bytes, verifying sha256 digest, writing manifest, success. Raises
    ApiError (400 for a name that is not hf.co/..., 500 for what the hub or the download says).
    Closing the iterator early (a client gone) pauses the download; pulling again resumes it."""
    from tui.models.download import ACTIVE, State
    from tui.models.hub import HubError, HubUnreachable, RepoNotFound, resolve_hf_name

    if not name.lower().startswith(("hf.co/", "huggingface.co/")):
        raise bad_request(f"cannot pull '{name}': {HUB_HINT}")
    try:
        model = await asyncio.to_thread(resolve_hf_name, name)
    except RepoNotFound as error:
        raise ApiError(404, str(error)) from None
    except (HubUnreachable, HubError) as error:
        raise ApiError(500, str(error)) from None
    yield {"status": "pulling manifest"}
    manager = service.downloads()
    loop = asyncio.get_running_loop()
    changes: asyncio.Queue[None] = asyncio.Queue()

    def changed(_download: Any) -> None:
        loop.call_soon_threadsafe(changes.put_nowait, None)

    manager.subscribe(changed)
    download = manager.add(model)
    digest = f"sha256:{model.files[0].sha256}" if model.files[0].sha256 else model.filename
    finished = False
    try:
        last: dict[str, Any] | None = None
        while True:
            state = download.state
            if download.verifying:
                line: dict[str, Any] = {"status": "verifying sha256 digest"}
            else:
                line = {"status": f"pulling {digest.removeprefix('sha256:')[:12]}", "digest": digest,
                        "total": download.total, "completed": download.done}
            if line != last:
                yield line
                last = line
            if state not in ACTIVE:
                break
            await changes.get()
        finished = True
        if download.state != State.DONE:
            raise ApiError(500, download.error or f"the download ended as {download.state.value}")
        if last is not None and "completed" in last and last["completed"] != download.total:
            yield {**last, "completed": download.total}
        if last is None or last["status"] != "verifying sha256 digest":
            yield {"status": "verifying sha256 digest"}
        yield {"status": "writing manifest"}
        service.changed()
        yield {"status": "success"}
    finally:
        manager.unsubscribe(changed)
        if not finished:
            manager.cancel(download)  # the client went away: keep the partial file to resume


def _text(value: Any) -> str:
    """A JSON parameter value as Modelfile text (true/false for booleans, as Go writes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def modelfile_from(body: dict[str, Any]) -> Modelfile:
    """The Modelfile an Ollama create request describes (from, system, template, parameters,
    messages, license). 400 for what whirr cannot make: files, quantize, remote models."""
    for unsupported, why in (
        ("files", "whirr makes personas of models it has: name one with 'from'"),
        ("quantize", "whirr does not quantize models"),
        ("remote_host", "whirr does not create remote models"),
    ):
        if body.get(unsupported):
            raise bad_request(f"'{unsupported}' is not supported: {why}", param=unsupported)
    base = get(body, "from", str, "")
    if not base:
        raise bad_request("neither 'from' nor 'files' was specified", param="from")
    if base.endswith(".gguf") and not Path(base).is_absolute():
        raise bad_request("a GGUF file in 'from' must be an absolute path", param="from")
    commands = [Command("model", base)]
    adapters = get(body, "adapters", dict, {})
    for path in adapters.values():
        if not isinstance(path, str) or not Path(path).is_absolute():
            raise bad_request("adapters must be absolute paths of LoRA files", param="adapters")
        commands.append(Command("adapter", path))
    template = get(body, "template", str)
    if template is not None:
        commands.append(Command("template", template))
    system = get(body, "system", str)
    if system is not None:
        commands.append(Command("system", system))
    for key, value in get(body, "parameters", dict, {}).items():
        for item in value if isinstance(value, list) else [value]:
            commands.append(Command(key, _text(item)))
    for index, message in enumerate(get(body, "messages", list, [])):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str) or not isinstance(message.get("content"), str):
            raise bad_request(f"invalid message {index}: expected an object with a role and a content", param="messages")
        commands.append(Command("message", f"{message['role']}: {message['content']}"))
    licenses = body.get("license")
    for text in licenses if isinstance(licenses, list) else ([licenses] if licenses else []):
        if not isinstance(text, str):
            raise bad_request("license must be a string or a list of strings", param="license")
        commands.append(Command("license", text))
    modelfile = Modelfile(commands)
    try:
        modelfile.parameters  # noqa: B018 - parses every PARAMETER, as saving it would
    except ValueError as error:
        raise bad_request(str(error), param="parameters") from None
    return modelfile


def create_persona_from(service: Service, name: str, body: dict[str, Any]) -> str:
    """Store persona `name` from an Ollama create request; returns what it is based on. Blocking."""
    modelfile = modelfile_from(body)
    try:
        _persona, base = create_persona(name, modelfile, service.library, service.personas)
    except ModelNotFound as error:
        raise ApiError(404, str(error), code="model_not_found") from None
    except PersonaError as error:
        raise bad_request(str(error)) from None
    service.changed()
    return base.name


def copy_model(service: Service, source: str, destination: str) -> None:
    """Copy a persona, or give a model another name (no file is copied). Blocking."""
    personas, library = service.personas, service.library
    try:
        persona = personas.get(source)
        if persona is not None:
            wanted = normalize_name(destination)
            if wanted in {e.name for e in library.list()} | {p.name for p in personas.list()}:
                raise bad_request(f"destination {json.dumps(destination)} already exists")
            personas.save(wanted, persona.modelfile)
        else:
            if personas.get(destination) is not None:
                raise bad_request(f"destination {json.dumps(destination)} is already a persona")
            library.copy(source, destination)
    except ModelNotFound:
        raise ApiError(404, f"model {json.dumps(source)} not found", code="model_not_found") from None
    except (PersonaError, LibraryError) as error:
        raise bad_request(str(error)) from None
    service.changed()


async def delete_model(service: Service, name: str) -> None:
    """Delete a persona, or remove a model: whirr's own files are deleted, imported ones only
    forgotten; a loaded model is unloaded first."""
    if await asyncio.to_thread(service.personas.remove, name):
        service.changed()
        return
    library = service.library
    try:
        entry = await asyncio.to_thread(library.named, name)
    except ModelNotFound:
        raise ApiError(404, f"model '{name}' not found", code="model_not_found") from None
    try:
        await service.unload(service.resolve(entry.name))
    except ApiError:
        pass  # an unusable model was never loaded
    try:
        await asyncio.to_thread(library.remove, entry.name)
    except NotOwned as error:
        raise bad_request(str(error)) from None
    except OSError as error:
        raise ApiError(500, f"cannot delete '{name}': {error.strerror} ({error.filename})") from None
    service.changed()
