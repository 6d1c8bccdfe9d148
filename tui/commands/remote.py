"""What `whirr list`, `show`, `pull` and `rm` do for remote models (`SERVER/MODEL`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from tui.commands.common import CommandError
from tui.format import human_size

if TYPE_CHECKING:
    from tui.models.library import Library
    from tui.servers import Server

BAR_WIDTH = 20


def list_rows(library: "Library", age: Callable[[float], str]) -> list[tuple[str, ...]]:
    """`whirr list` rows for every server's models (NAME, ID, SIZE, SOURCE, MODIFIED); a server
    that did not answer within the listing timeout is one row saying so."""
    if not library.servers:
        return []
    from tui.models.remote import remote_listings

    rows: list[tuple[str, ...]] = []
    for listing in remote_listings(library):
        server = listing.server
        if not listing.reachable:
            rows.append((f"{server.name}/", "-", "-", server.name, f"unreachable: {listing.error}"))
            continue
        for entry in listing.entries:
            modified = age(entry.modified) if entry.modified else "-"
            rows.append((entry.name, entry.id, human_size(entry.size) if entry.size else "-", entry.source, modified))
    return rows


def describe_remote(server: "Server", model: str) -> str:
    """The `whirr show` text: Ollama's /api/show (details, capabilities, parameters), or
    an OpenAI-compatible server's /v1/models entry."""
    lines = ["  Server", f"    {'name':<20}{server.name} ({server.kind})", f"    {'url':<20}{server.url}", ""]
    if server.kind == "ollama":
        details = show_ollama(server, model)
        info, facts = details.get("model_info") or {}, details.get("details") or {}
        architecture = info.get("general.architecture") or facts.get("family", "")
        context = next((v for k, v in info.items() if k.endswith(".context_length")), None)
        lines += ["  Model", f"    {'architecture':<20}{architecture}", f"    {'parameters':<20}{facts.get('parameter_size', '')}"]
        if context:
            lines.append(f"    {'context length':<20}{context}")
        lines.append(f"    {'quantization':<20}{facts.get('quantization_level', '')}")
        if details.get("capabilities"):
            lines += ["", "  Capabilities", *(f"    {c}" for c in details["capabilities"])]
        if details.get("parameters"):
            lines += ["", "  Parameters", *(f"    {line}" for line in str(details["parameters"]).splitlines())]
        return "\n".join(lines)
    from tui.models.remote import fetch_models

    try:
        entries = {e.name: e for e in fetch_models(server, timeout=5.0)}
    except RuntimeError as error:
        raise CommandError(str(error)) from None
    entry = entries.get(f"{server.name}/{model}")
    if entry is None:
        raise CommandError(f"model '{server.name}/{model}' not found on {server.name} ({server.url})")
    lines += ["  Model", f"    {'id':<20}{model}"]
    if entry.details:
        lines.append(f"    {'owned by':<20}{entry.details}")
    lines.append(f"    {'note':<20}an OpenAI-compatible server says no more about its models")
    return "\n".join(lines)


def show_ollama(server: "Server", model: str) -> dict[str, Any]:
    """Ollama's /api/show for a model, or CommandError saying why not."""
    from tui.engine.base import EngineError
    from tui.engine.remote.ollama_api import show_model

    try:
        return show_model(server, model)
    except EngineError as error:
        raise CommandError(str(error)) from None


def show_command(server: "Server", model: str, template: bool, modelfile: bool) -> int:
    """`whirr show SERVER/MODEL [--template | --modelfile]`."""
    if template or modelfile:
        if server.kind != "ollama":
            raise CommandError(f"{server.name} is an OpenAI-compatible server: it does not share templates or Modelfiles")
        details = show_ollama(server, model)
        print(details.get("template" if template else "modelfile", ""))
        return 0
    print(describe_remote(server, model))
    return 0


def pull_line(progress: dict[str, Any]) -> str:
    """One progress line as `ollama pull` prints it: `pulling 0123456789ab  50% ▕██   ▏ 500 B/1.0 KB`."""
    status = str(progress.get("status", ""))
    total, done = progress.get("total"), progress.get("completed") or 0
    if not total:
        return status
    fraction = min(max(done / total, 0.0), 1.0)
    filled = int(fraction * BAR_WIDTH)
    name = status.removeprefix("pulling ")[:12]
    return f"pulling {name} {fraction * 100:3.0f}% ▕{'█' * filled}{' ' * (BAR_WIDTH - filled)}▏ {human_size(done)}/{human_size(total)}"


def pull_command(server: "Server", model: str, out: TextIO = sys.stderr) -> int:
    """`whirr pull SERVER/MODEL`: the Ollama server pulls it, and its progress is shown here."""
    from tui.engine.base import EngineError
    from tui.engine.remote.ollama_api import pull_model

    if server.kind != "ollama":
        raise CommandError(f"{server.name} is an OpenAI-compatible server: pull models there with its own tools")
    tty, last = out.isatty(), ""
    try:
        for progress in pull_model(server, model):
            line = pull_line(progress)
            if line == last:
                continue
            if tty and last.startswith("pulling ") and line.startswith("pulling "):
                out.write(f"\r{line}\x1b[K")
            else:
                out.write(("\n" if tty and last else "") + line + ("" if tty else "\n"))
            out.flush()
            last = line
    except EngineError as error:
        if tty and last:
            out.write("\n")
        raise CommandError(str(error)) from None
    if tty and last:
        out.write("\n")
    print(f"run it with: whirr run {server.name}/{model}")
    return 0


def remove(server: "Server", model: str, confirm: Callable[[str], bool]) -> str:
    """Delete a model on its server once `confirm(question)` says yes; returns what was done."""
    from tui.engine.base import EngineError
    from tui.engine.remote.ollama_api import delete_model

    name = f"{server.name}/{model}"
    if server.kind != "ollama":
        raise CommandError(f"{server.name} is an OpenAI-compatible server: remove '{model}' there with its own tools")
    if not confirm(f"Delete {model} on {server.name} ({server.url})? Its files on that machine are deleted. [y/N] "):
        return f"kept '{name}'"
    try:
        delete_model(server, model)
    except EngineError as error:
        raise CommandError(str(error)) from None
    return f"deleted '{name}' on {server.name}"


def ask_on_terminal(question: str) -> bool:
    """Ask on stderr, read the answer from stdin: only 'y' or 'yes' agree."""
    print(question, end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")
