"""Models found in place: Ollama's store, LM Studio, the Hugging Face cache, whirr's own folder
(downloads, partial files), split GGUFs, config locations, and what the user adds or removes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tui.config import Config
from tui.models.library import Library, LibraryError, ModelNotFound, NotOwned
from tui.models.sources import StoreLocations, group_parts, hf_name, ollama_name
from tests.helpers import STORE_SOURCES
from tui.paths import resolve_paths


def test_every_store_is_listed_with_its_source_and_name(stores, starter_path: Path) -> None:
    entries = {entry.name: entry for entry in Library(resolve_paths()).list()}
    assert {name: entry.source for name, entry in entries.items()} == STORE_SOURCES
    size = starter_path.stat().st_size
    for entry in entries.values():
        assert entry.usable and entry.size == size and entry.info is not None and entry.parts == (entry.path,)
        assert not entry.owned
    assert entries["tinypirate:latest"].path == stores.ollama_blob
    assert entries["lmstudio-community/smollm2-135m-instruct-gguf:q4_1"].path == stores.lmstudio_file
    hf = entries["hf.co/huggingfacetb/smollm2-135m-instruct-gguf:q4_1"]
    assert hf.path == stores.hf_snapshot_file and stores.hf_commit in str(hf.path)


def test_ollama_layers_become_the_defaults(stores) -> None:
    entry = Library(resolve_paths()).resolve("tinypirate")
    defaults = entry.defaults
    assert defaults is not None
    assert defaults.base_model == str(stores.ollama_blob)
    assert defaults.template == stores.template and defaults.system == stores.system
    assert defaults.parameters == {**dict(stores.params), "temperature": 0.0}
    manifest = stores.ollama / "manifests" / "registry.ollama.ai" / "library" / "tinypirate" / "latest"
    assert entry.id == hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]  # Ollama's list ID


def test_ollama_names_like_ollama() -> None:
    assert ollama_name("registry.ollama.ai", "library", "llama3.2", "3b") == "llama3.2:3b"
    assert ollama_name("registry.ollama.ai", "someone", "tiny", "q4") == "someone/tiny:q4"
    assert ollama_name("hf.co", "org", "repo", "Q4_K_M") == "hf.co/org/repo:Q4_K_M"
    assert hf_name("Org/Repo-GGUF", "repo-Q4_K_M.gguf") == "hf.co/org/repo-gguf:q4_k_m"


def test_broken_ollama_manifests_are_listed_with_their_problem(stores) -> None:
    manifests = stores.ollama / "manifests" / "registry.ollama.ai" / "library"
    (manifests / "junk").mkdir()
    (manifests / "junk" / "latest").write_text("{not json")
    (manifests / "gone").mkdir()
    text = (manifests / "tinypirate" / "latest").read_text().replace(stores.ollama_blob.name[7:], "0" * 64)
    (manifests / "gone" / "latest").write_text(text)
    entries = {e.name: e for e in Library(resolve_paths()).list()}
    assert entries["junk:latest"].problem.startswith("unreadable Ollama manifest")
    assert entries["gone:latest"].problem == f"Ollama blob missing: sha256-{'0' * 64}"


def test_unrenderable_ollama_template_falls_back_to_the_gguf_template(stores) -> None:
    manifest = stores.ollama / "manifests" / "registry.ollama.ai" / "library" / "tinypirate" / "latest"
    data = json.loads(manifest.read_text())
    template = next(layer for layer in data["layers"] if layer["mediaType"].endswith(".template"))
    blob = stores.ollama / "blobs" / template["digest"].replace(":", "-")
    blob.unlink()  # Ollama's blobs are content-addressed; this test store may bend that rule
    blob.write_text("{{ range $i, $m := .Messages }}{{ $m.Content }}{{ end }}")  # outside whirr's subset
    entry = Library(resolve_paths()).resolve("tinypirate:latest")
    assert entry.defaults is not None and entry.defaults.template is None and entry.defaults.system == stores.system


def test_whirr_folder_downloads_and_partial_files(whirr_home: Path, starter_path: Path, place_starter) -> None:
    paths = resolve_paths()
    repo = paths.models_dir / "hf.co" / "SomeOrg" / "Some-Repo-GGUF"
    place_starter(repo / "some-repo-Q4_1.gguf")
    (repo / "some-repo-Q8_0.gguf.part").write_bytes(b"GGUF partial")
    (repo / "other.gguf.incomplete").write_bytes(b"GGUF partial")
    (paths.models_dir / ".hidden.gguf").write_bytes(b"GGUF")
    place_starter(paths.models_dir / "mine.Q4_1.gguf")
    entries = {e.name: e for e in Library(paths).list()}
    assert set(entries) == {"smollm2:135m", "hf.co/someorg/some-repo-gguf:q4_1", "mine:q4_1"}
    assert entries["hf.co/someorg/some-repo-gguf:q4_1"].source == "downloaded"
    assert entries["mine:q4_1"].source == "whirr"
    assert entries["mine:q4_1"].owned and entries["hf.co/someorg/some-repo-gguf:q4_1"].owned


def test_split_gguf_is_one_model_with_the_size_of_all_parts(whirr_home: Path, starter_path: Path, split_starter) -> None:
    paths = resolve_paths()
    folder = paths.models_dir
    folder.mkdir(parents=True)
    for part in split_starter:
        (folder / part.name).symlink_to(part)
    (folder / "half-Q4_1-00001-of-00002.gguf").symlink_to(split_starter[0])
    entries = {e.name: e for e in Library(paths).list()}
    split = entries["split:q4_1"]
    assert split.usable and split.parts == tuple(folder / p.name for p in split_starter)
    assert split.size == sum(p.stat().st_size for p in split_starter) and split.path.name.endswith("-00001-of-00002.gguf")
    # The parameters are counted over both parts: the same model as the unsplit file.
    assert split.info is not None and split.info.parameter_count == 134_515_008
    assert entries["half:q4_1"].problem == "incomplete split model: part(s) 2 of 2 missing"
    assert group_parts([folder / "big-Q8_0-00002-of-00003.gguf"])[0][1] == (
        "incomplete split model: part(s) 1, 3 of 3 missing")


def test_a_broken_part_makes_the_split_model_unusable(whirr_home: Path, split_starter) -> None:
    folder = resolve_paths().models_dir
    folder.mkdir(parents=True)
    (folder / split_starter[0].name).symlink_to(split_starter[0])
    (folder / split_starter[1].name).write_bytes(split_starter[1].read_bytes()[:1_000_000])
    entry = Library(resolve_paths()).resolve("split:q4_1")
    assert entry.problem.startswith("part 2: truncated: the file is 1,000,000 bytes")


def test_config_locations_override_the_environment(stores, tmp_path: Path, starter_path: Path, place_starter) -> None:
    elsewhere = tmp_path / "elsewhere"
    place_starter(elsewhere / "pub" / "repo" / "thing-Q4_1.gguf")
    config = Config(lmstudio_models=str(elsewhere), ollama_models=str(tmp_path / "none"), hf_cache=str(tmp_path / "none"))
    names = {e.name: e.source for e in Library.from_config(resolve_paths(), config).list()}
    assert names == {"smollm2:135m": "built-in", "pub/repo:q4_1": "lmstudio"}
    locations = StoreLocations.from_settings()
    assert locations.ollama == stores.ollama and locations.lmstudio == (stores.lmstudio,)
    assert locations.hf_cache == stores.hf_cache


def test_config_rejects_mistyped_store_keys() -> None:
    from tui.config import config_from_dict

    assert config_from_dict({"ollama_models": "/x"})[0].ollama_models == "/x"
    config, problems = config_from_dict({"hf_cache": 3, "ollama_models": "/x"})
    assert (config.hf_cache, config.ollama_models) == ("", "/x")
    assert problems == ["hf_cache: expected str, got int; using the default"]


def test_add_file_copy_and_remove(whirr_home: Path, stores, tmp_path: Path, starter_path: Path, place_starter) -> None:
    library = Library(resolve_paths())
    loose = tmp_path / "loose" / "Loose-Model.Q4_1.gguf"
    place_starter(loose)
    added = library.add_file(loose)
    assert (added.name, added.source, added.path, added.owned) == ("loose-model:q4_1", "file", loose, False)
    assert library.add_file(loose) == added  # adding twice changes nothing
    alias = library.copy("tinypirate", "captain")
    assert (alias.name, alias.alias_of, alias.source, alias.defaults) == (
        "captain:latest", "tinypirate:latest", "ollama", library.resolve("tinypirate").defaults)
    with pytest.raises(LibraryError, match="'captain:latest' is already a model name"):
        library.copy("smollm2:135m", "captain")
    with pytest.raises(LibraryError, match="invalid model name"):
        library.copy("smollm2:135m", "bad name!")
    # A new instance reads what was stored.
    again = {e.name for e in Library(resolve_paths()).list()}
    assert {"loose-model:q4_1", "captain:latest"} <= again

    size = stores.ollama_blob.stat().st_size
    assert library.remove("captain") == "forgotten"
    assert library.remove("tinypirate") == "forgotten"
    assert library.remove("loose-model:q4_1") == "forgotten"
    assert library.remove("lmstudio-community/smollm2-135m-instruct-gguf:q4_1") == "forgotten"
    assert library.remove("hf.co/huggingfacetb/smollm2-135m-instruct-gguf:q4_1") == "forgotten"
    for path in (stores.ollama_blob, loose, stores.lmstudio_file, stores.hf_snapshot_file):
        assert path.stat().st_size == size  # nothing outside whirr's folder is deleted
    names = {e.name for e in library.list()}
    assert names == {"smollm2:135m", "someone/tiny:q4", "hf.co/org/repo:q4_1"}
    with pytest.raises(NotOwned, match="built-in"):
        library.remove("smollm2:135m")
    with pytest.raises(ModelNotFound):
        library.remove("tinypirate")
    assert library.add_file(loose).name == "loose-model:q4_1"  # adding again brings it back


def test_remove_deletes_owned_files_and_their_aliases(whirr_home: Path, starter_path: Path, place_starter) -> None:
    paths = resolve_paths()
    repo = paths.models_dir / "hf.co" / "org" / "repo"
    place_starter(repo / "repo-Q4_1.gguf")
    library = Library(paths)
    library.copy("hf.co/org/repo:q4_1", "short")
    assert library.remove("hf.co/org/repo:q4_1") == "deleted"
    assert not (paths.models_dir / "hf.co").exists() and paths.models_dir.is_dir()
    assert {e.name for e in library.list()} == {"smollm2:135m"}
    assert library.registry.aliases() == {}
    assert starter_path.is_file()


def test_corrupt_registry_is_reported_and_kept_aside(whirr_home: Path) -> None:
    paths = resolve_paths()
    paths.data_dir.mkdir(parents=True)
    (paths.data_dir / "library.json").write_text("{broken")
    library = Library(paths)
    assert [e.name for e in library.list()] == ["smollm2:135m"]
    assert len(library.warnings) == 1 and "library.json is invalid" in library.warnings[0]
    aside = [p.name for p in paths.data_dir.iterdir() if p.name.startswith("library.json.bad-")]
    assert len(aside) == 1 and (paths.data_dir / aside[0]).read_text() == "{broken"
    library.copy("smollm2:135m", "small")
    assert Library(paths).resolve("small").alias_of == "smollm2:135m"


def test_tests_never_read_the_real_home(whirr_home: Path) -> None:
    locations = StoreLocations.from_settings()
    assert all(str(p).startswith(str(whirr_home.parent)) for p in (locations.ollama, *locations.lmstudio, locations.hf_cache))


def test_ollama_defaults_apply_under_personas(stores) -> None:
    from tui.engine.options import Options
    from tui.modelfile import parse
    from tui.models.personas import PersonaStore, resolve_target

    paths = resolve_paths()
    personas = PersonaStore(paths)
    plain = resolve_target("tinypirate", Library(paths), personas)
    assert (plain.system, plain.template) == (stores.system, stores.template)
    assert plain.options(Options()).num_predict == 12
    personas.save("parrot", parse("FROM tinypirate\nSYSTEM Squawk.\nPARAMETER num_predict 5\n"))
    layered = resolve_target("parrot", Library(paths), personas)
    assert (layered.system, layered.template, layered.parameters["num_predict"]) == ("Squawk.", stores.template, 5)
    assert layered.parameters["seed"] == 7 and layered.entry.path == stores.ollama_blob
