"""Where models are found, read in place: whirr's folder, extra folders, Ollama, LM Studio, HF cache.

Each finder returns `Found` records (a name, the model's files, where it came from, and for
Ollama the template/system/parameters layers as a Modelfile). Nothing here writes anywhere:
other tools' folders are only read (Ollama prunes blobs it does not own, so never write there).
Partial downloads (`*.part`, `*.incomplete`, anything not ending in `.gguf`) are never models.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tui.engine.options import ParameterError, parse_parameter
from tui.modelfile.document import Command, Modelfile
from tui.modelfile.prompt import template_problem

_QUANT_SUFFIX = re.compile(r"^(?P<base>.+?)[._-](?P<quant>I?Q\d\w*|B?F\d+)$", re.IGNORECASE)
_SPLIT = re.compile(r"^(?P<prefix>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})$")

OLLAMA_REGISTRY = "registry.ollama.ai"
OLLAMA_LIBRARY = "library"
HF_HOST = "hf.co"
_OLLAMA_MODEL = "application/vnd.ollama.image.model"
_OLLAMA_LAYER = "application/vnd.ollama.image."


@dataclass(frozen=True)
class Found:
    """A model found on disk. `parts` holds every file (one, or all parts of a split GGUF)."""

    name: str
    parts: tuple[Path, ...]
    source: str
    defaults: Modelfile | None = None
    problem: str = ""
    id: str = ""  # set when the store has its own ID (Ollama: from the manifest)

    @property
    def path(self) -> Path:
        """The file to load: the first part."""
        return self.parts[0]


@dataclass(frozen=True)
class StoreLocations:
    """Other tools' model folders to read. None or empty: that store is not read."""

    ollama: Path | None
    lmstudio: tuple[Path, ...]
    hf_cache: Path | None

    @classmethod
    def from_settings(cls, ollama_models: str = "", lmstudio_models: str = "", hf_cache: str = "") -> "StoreLocations":
        """Folders from config values; an empty value means the environment variable or the default.

        Ollama: $OLLAMA_MODELS, else ~/.ollama/models (or the Linux service's folder).
        LM Studio: $LMSTUDIO_MODELS, else ~/.lmstudio/models and ~/.cache/lm-studio/models.
        Hugging Face: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
        """
        home = Path.home()
        ollama = ollama_models or os.environ.get("OLLAMA_MODELS", "")
        if ollama:
            ollama_path: Path | None = Path(ollama).expanduser()
        else:
            candidates = [home / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")]
            ollama_path = next((p for p in candidates if p.is_dir()), candidates[0])
        lmstudio = lmstudio_models or os.environ.get("LMSTUDIO_MODELS", "")
        lmstudio_paths = (
            (Path(lmstudio).expanduser(),)
            if lmstudio
            else (home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models")
        )
        hub = hf_cache or os.environ.get("HF_HUB_CACHE", "")
        if not hub:
            hf_home = os.environ.get("HF_HOME") or str(
                Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "huggingface"
            )
            hub = str(Path(hf_home) / "hub")
        return cls(ollama_path, lmstudio_paths, Path(hub).expanduser())


def quant_tag(path: Path) -> str:
    """The tag of a GGUF file: its quantization (`q4_k_m`) or, without one, its lower-case stem."""
    stem = unsplit_stem(path.stem)
    match = _QUANT_SUFFIX.match(stem)
    return match["quant"].lower() if match else stem.lower()


def model_name_for(path: Path) -> str:
    """Name a GGUF file the way Ollama names models: `mistral-7b.Q4_K_M.gguf` -> `mistral-7b:q4_k_m`."""
    stem = unsplit_stem(path.stem)
    match = _QUANT_SUFFIX.match(stem)
    if match:
        return f"{match['base'].lower()}:{match['quant'].lower()}"
    return f"{stem.lower()}:latest"


def hf_name(repo_id: str, filename: str) -> str:
    """Ollama's name for a GGUF of a Hugging Face repo: `hf.co/org/repo:q4_k_m`."""
    return f"{HF_HOST}/{repo_id.lower()}:{quant_tag(Path(filename))}"


def unsplit_stem(stem: str) -> str:
    """A split file's name without its part number: `m-00001-of-00003` -> `m`."""
    match = _SPLIT.match(stem)
    return match["prefix"] if match else stem


def group_parts(files: list[Path]) -> list[tuple[tuple[Path, ...], str]]:
    """Group GGUF files into models: a split set (`-00001-of-00003`) is one; returns (parts, problem).

    A split set with parts missing is still listed, from its first present part, with a problem.
    """
    models: list[tuple[tuple[Path, ...], str]] = []
    splits: dict[tuple[Path, str, int], dict[int, Path]] = {}
    for path in sorted(files):
        match = _SPLIT.match(path.stem)
        if match is None:
            models.append(((path,), ""))
        else:
            key = (path.parent, match["prefix"], int(match["total"]))
            splits.setdefault(key, {})[int(match["part"])] = path
    for (_, _, total), found in splits.items():
        parts = tuple(found[n] for n in sorted(found))
        missing = [n for n in range(1, total + 1) if n not in found]
        problem = ""
        if missing:
            problem = f"incomplete split model: part(s) {', '.join(map(str, missing))} of {total} missing"
        models.append((parts, problem))
    return sorted(models, key=lambda model: model[0][0])


def gguf_files(folder: Path) -> list[Path]:
    """The complete `*.gguf` files under `folder` (never `.part`/`.incomplete` downloads)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.gguf") if p.is_file() and not p.name.startswith("."))


def folder_models(folder: Path, source: str) -> list[Found]:
    """Models in a plain folder (an extra folder from config), named from their file names."""
    return [Found(model_name_for(parts[0]), parts, source, problem=problem) for parts, problem in group_parts(gguf_files(folder))]


def whirr_models(models_dir: Path) -> list[Found]:
    """whirr's own folder: `hf.co/ORG/REPO/FILE` are downloads (`hf.co/org/repo:quant`), the rest "whirr"."""
    found = []
    hub = models_dir / HF_HOST
    for parts, problem in group_parts(gguf_files(models_dir)):
        relative = parts[0].relative_to(models_dir).parts
        if parts[0].is_relative_to(hub) and len(relative) >= 4:
            repo_id = f"{relative[1]}/{relative[2]}"
            found.append(Found(hf_name(repo_id, parts[0].name), parts, "downloaded", problem=problem))
        else:
            found.append(Found(model_name_for(parts[0]), parts, "whirr", problem=problem))
    return found


def lmstudio_models(root: Path) -> list[Found]:
    """LM Studio's folder, `publisher/repo/file.gguf`, named `publisher/repo:quant`."""
    found = []
    for parts, problem in group_parts(gguf_files(root)):
        relative = parts[0].relative_to(root).parts
        if len(relative) >= 3:
            name = f"{relative[0]}/{relative[1]}".lower() + f":{quant_tag(parts[0])}"
        else:
            name = model_name_for(parts[0])
        found.append(Found(name, parts, "lmstudio", problem=problem))
    return found


def hf_cache_models(cache_dir: Path) -> list[Found]:
    """GGUF files in the Hugging Face cache's model repos (newest revision of each file first),
    named like downloads: `hf.co/org/repo:quant`."""
    if not cache_dir.is_dir():
        return []
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        cache = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    found: list[Found] = []
    for repo in sorted(cache.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        seen: set[str] = set()
        files: list[Path] = []
        for revision in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True):
            for file in revision.files:
                relative = str(file.file_path.relative_to(revision.snapshot_path))
                if relative.endswith(".gguf") and relative not in seen:
                    seen.add(relative)
                    files.append(file.file_path)
        for parts, problem in group_parts(files):
            found.append(Found(hf_name(repo.repo_id, parts[0].name), parts, "hf-cache", problem=problem))
    return found


def ollama_models(root: Path) -> list[Found]:
    """Ollama's store: each manifest's model layer is the GGUF blob, read in place; its template,
    system, parameters, messages, license and adapter layers become the model's defaults.

    A Go TEMPLATE outside the subset whirr renders is left out (the GGUF's Jinja template is used).
    """
    manifests = root / "manifests"
    if not manifests.is_dir():
        return []
    found = []
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        relative = manifest.relative_to(manifests).parts
        if len(relative) != 4 or manifest.name.startswith("."):
            continue
        found.append(_ollama_model(root, relative, manifest))
    return found


def ollama_name(host: str, namespace: str, model: str, tag: str) -> str:
    """Ollama's short name: `llama3.2:3b`, `namespace/model:tag`, or `host/namespace/model:tag`."""
    if host == OLLAMA_REGISTRY:
        return f"{model}:{tag}" if namespace == OLLAMA_LIBRARY else f"{namespace}/{model}:{tag}"
    return f"{host}/{namespace}/{model}:{tag}"


def _ollama_model(root: Path, relative: tuple[str, ...], manifest: Path) -> Found:
    name = ollama_name(*relative).lower()
    try:
        raw = manifest.read_bytes()
        layers = json.loads(raw)["layers"]
        by_type = {layer["mediaType"]: layer["digest"] for layer in layers}
    except (OSError, ValueError, KeyError, TypeError) as error:
        return Found(name, (manifest,), "ollama", problem=f"unreadable Ollama manifest: {error}")
    ident = hashlib.sha256(raw).hexdigest()[:12]
    digest = by_type.get(_OLLAMA_MODEL)
    if digest is None:
        return Found(name, (manifest,), "ollama", problem="the Ollama manifest has no model layer", id=ident)
    blob = _blob(root, digest)
    if not blob.is_file():
        return Found(name, (blob,), "ollama", problem=f"Ollama blob missing: {blob.name}", id=ident)
    return Found(name, (blob,), "ollama", defaults=_ollama_defaults(root, blob, by_type), id=ident)


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / digest.replace(":", "-")


def _ollama_defaults(root: Path, blob: Path, by_type: dict[str, str]) -> Modelfile:
    """The layers as a Modelfile: FROM the blob, then TEMPLATE, SYSTEM, PARAMETERs, MESSAGEs..."""
    commands = [Command("model", str(blob))]

    def text(kind: str) -> str | None:
        digest = by_type.get(_OLLAMA_LAYER + kind)
        if digest is None:
            return None
        try:
            return _blob(root, digest).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    template = text("template")
    if template is not None and not template_problem(template):  # else the GGUF's own template is used
        commands.append(Command("template", template))
    for kind in ("system", "license"):
        value = text(kind)
        if value is not None:
            commands.append(Command(kind, value))
    if _OLLAMA_LAYER + "adapter" in by_type:
        commands.append(Command("adapter", str(_blob(root, by_type[_OLLAMA_LAYER + "adapter"]))))
    commands += _parameter_commands(text("params"))
    commands += _message_commands(text("messages"))
    return Modelfile(commands)


def _parameter_commands(raw: str | None) -> list[Command]:
    """The params layer (JSON) as PARAMETER commands; values whirr does not know are left out."""
    try:
        params = json.loads(raw) if raw else {}
    except ValueError:
        return []
    commands = []
    for name, value in params.items() if isinstance(params, dict) else ():
        for item in value if isinstance(value, list) else [value]:
            text = str(item).lower() if isinstance(item, bool) else str(item)
            try:
                parse_parameter(name, text)
            except ParameterError:
                continue
            commands.append(Command(name, text))
    return commands


def _message_commands(raw: str | None) -> list[Command]:
    """The messages layer (JSON list of role/content) as MESSAGE commands."""
    try:
        messages = json.loads(raw) if raw else []
    except ValueError:
        return []
    if not isinstance(messages, list):
        return []
    return [
        Command("message", f"{m['role']}: {m['content']}")
        for m in messages
        if isinstance(m, dict) and m.get("role") in ("system", "user", "assistant") and isinstance(m.get("content"), str)
    ]
