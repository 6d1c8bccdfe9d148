"""GGUF metadata from the header, model naming, listing broken files, and name resolution."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui.models.gguf_info import GGUFError, read_gguf_info
from tui.models.library import Library, ModelNotFound, model_name_for
from tui.paths import resolve_paths


def test_starter_metadata(starter_path: Path) -> None:
    info = read_gguf_info(starter_path)
    assert info.architecture == "llama"
    assert info.parameter_count == 134_515_008 and info.parameters_human == "135M"
    assert (info.context_length, info.embedding_length, info.block_count) == (8192, 576, 30)
    assert (info.head_count, info.head_count_kv, info.key_length) == (9, 3, 64)
    assert info.quantization == "Q4_1"
    assert info.chat_template and "<|im_start|>" in info.chat_template


def test_truncated_and_foreign_files_are_reported(starter_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(starter_path.read_bytes()[:5_000_000])
    with pytest.raises(GGUFError, match="truncated: the file is 5,000,000 bytes"):
        read_gguf_info(truncated)
    header_only = tmp_path / "header.gguf"
    header_only.write_bytes(starter_path.read_bytes()[:300])
    with pytest.raises(GGUFError, match="truncated"):
        read_gguf_info(header_only)
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    with pytest.raises(GGUFError, match="not a GGUF file"):
        read_gguf_info(text)


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("Mistral-7B-Instruct.Q4_K_M.gguf", "mistral-7b-instruct:q4_k_m"),
        ("phi-3-mini-f16.gguf", "phi-3-mini:f16"),
        ("tiny_IQ2_XS.gguf", "tiny:iq2_xs"),
        ("mymodel.gguf", "mymodel:latest"),
        ("big-Q8_0-00001-of-00003.gguf", "big:q8_0"),
    ],
)
def test_model_names_come_from_file_names(filename: str, name: str) -> None:
    assert model_name_for(Path(filename)) == name


@pytest.fixture
def library(whirr_home: Path, starter_path: Path) -> Library:
    paths = resolve_paths()
    paths.models_dir.mkdir(parents=True)
    (paths.models_dir / "tiny.Q4_1.gguf").symlink_to(starter_path)
    (paths.models_dir / "broken.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    (paths.models_dir / "readme.gguf").write_text("not a model")
    for part in (1, 2):
        (paths.models_dir / f"split-Q8_0-0000{part}-of-00002.gguf").write_bytes(b"x")
    return Library(paths)


def test_list_shows_builtin_owned_and_broken_models(library: Library) -> None:
    entries = {entry.name: entry for entry in library.list()}
    assert set(entries) == {"smollm2:135m", "tiny:q4_1", "broken:latest", "readme:latest", "split:q8_0"}
    assert entries["smollm2:135m"].source == "built-in" and entries["smollm2:135m"].usable
    assert entries["tiny:q4_1"].source == "whirr" and entries["tiny:q4_1"].info.quantization == "Q4_1"
    assert "truncated" in entries["broken:latest"].problem
    assert "not a GGUF" in entries["readme:latest"].problem
    assert len(entries["smollm2:135m"].id) == 12
    assert entries["smollm2:135m"].id == entries["tiny:q4_1"].id  # same bytes, same ID


def test_list_uses_the_metadata_cache(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    library.list()
    import tui.models.library as module

    def must_not_parse(path: Path):
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(module, "read_gguf_info", must_not_parse)
    assert len(library.list()) == 5


def test_changed_file_is_read_again(library: Library, starter_path: Path) -> None:
    library.list()
    broken = library.paths.models_dir / "broken.gguf"
    broken.unlink()
    shutil.copy(starter_path, broken)
    assert library.resolve("broken").usable


def test_resolve_by_name_base_name_and_path(library: Library, starter_path: Path) -> None:
    assert library.resolve("smollm2:135m").source == "built-in"
    assert library.resolve("SmolLM2").name == "smollm2:135m"
    assert library.resolve("tiny").name == "tiny:q4_1"
    direct = library.resolve(str(starter_path))
    assert direct.source == "file" and direct.path == starter_path.resolve()


def test_unknown_model_suggests_close_matches(library: Library) -> None:
    with pytest.raises(ModelNotFound) as caught:
        library.resolve("smollm:135m")
    assert str(caught.value).startswith("model 'smollm:135m' not found")
    assert "smollm2:135m" in caught.value.suggestions
