"""`whirr list` / `rm` / `cp` over every source, running an Ollama-store model, and the memory
fit refusal with `--force`, as a user runs them (subprocesses, real files, the real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import STORE_SOURCES
from tui.paths import resolve_paths

PIRATE = "FROM smollm2:135m\nSYSTEM Arr.\n"


def _rows(listing: str) -> dict[str, str]:
    """NAME -> SOURCE, read by the header's column positions."""
    header, *lines = listing.splitlines()
    start, end = header.index("SOURCE"), header.index("MODIFIED")
    return {line.split()[0]: line[start:end].strip() for line in lines}


def test_list_shows_every_source(run_whirr, stores) -> None:
    result = run_whirr("list")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["NAME", "ID", "SIZE", "SOURCE", "MODIFIED"]
    rows = _rows(result.stdout)
    assert rows == STORE_SOURCES
    line = next(line for line in result.stdout.splitlines() if line.startswith("tinypirate:latest"))
    assert " MB " in line


@pytest.mark.model
def test_an_ollama_model_answers_with_its_own_template_system_and_parameters(run_whirr, stores, starter_path) -> None:
    ollama = run_whirr("run", "tinypirate", "Hello")
    assert ollama.returncode == 0, ollama.stderr
    # The same file with the same settings given by hand answers the same (temperature 0, seed 7);
    # by path, since the built-in name carries the starter's own repeat_penalty.
    by_hand = run_whirr(
        "run", str(starter_path), "Hello", "--system", stores.system, "--temperature", "0", "--seed", "7",
        "--num-predict", "12",
    )
    assert by_hand.returncode == 0, by_hand.stderr
    assert ollama.stdout.strip() and ollama.stdout == by_hand.stdout


def test_show_an_ollama_model_prints_its_layers(run_whirr, stores) -> None:
    shown = run_whirr("show", "tinypirate")
    assert shown.returncode == 0, shown.stderr
    assert stores.system in shown.stdout and "num_predict" in shown.stdout
    assert stores.template == run_whirr("show", "tinypirate", "--template").stdout.removesuffix("\n")


def test_rm_deletes_owned_files_and_forgets_imported_ones(run_whirr, stores, place_starter) -> None:
    paths = resolve_paths()
    owned = paths.models_dir / "mine.Q4_1.gguf"
    place_starter(owned)
    size = stores.ollama_blob.stat().st_size
    assert run_whirr("create", "pirate", "-f", str(_modelfile(paths.data_dir))).returncode == 0

    removed = run_whirr("rm", "pirate", "mine:q4_1", "tinypirate", "lmstudio-community/smollm2-135m-instruct-gguf:q4_1")
    assert removed.returncode == 0, removed.stderr
    lines = removed.stdout.splitlines()
    assert lines[:2] == ["deleted 'pirate'", "deleted 'mine:q4_1'"]
    assert lines[2] == f"forgot 'tinypirate' (not whirr's file, nothing deleted; its file stays at {stores.ollama_blob})"
    assert lines[3].startswith("forgot 'lmstudio-community/smollm2-135m-instruct-gguf:q4_1'")
    assert not owned.exists()
    for path in (stores.ollama_blob, stores.lmstudio_file):
        assert path.stat().st_size == size
    names = set(_rows(run_whirr("list").stdout))
    assert "tinypirate:latest" not in names and "someone/tiny:q4" in names

    refused = run_whirr("rm", "smollm2:135m", "nosuch")
    assert refused.returncode == 1
    assert "'smollm2:135m' is whirr's built-in model and cannot be removed" in refused.stderr
    assert "no model or persona named 'nosuch'" in refused.stderr


def test_cp_makes_an_alias_or_copies_a_persona(run_whirr, stores) -> None:
    copied = run_whirr("cp", "tinypirate", "captain")
    assert copied.returncode == 0 and copied.stdout == "copied 'tinypirate' to 'captain'\n"
    assert run_whirr("show", "captain", "--template").stdout.removesuffix("\n") == stores.template
    assert run_whirr("create", "pirate", "-f", str(_modelfile(resolve_paths().data_dir))).returncode == 0
    assert run_whirr("cp", "pirate", "parrot").returncode == 0
    rows = _rows(run_whirr("list").stdout)
    assert rows["captain:latest"] == "ollama" and rows["parrot:latest"] == "persona of smollm2:135m"
    taken = run_whirr("cp", "smollm2:135m", "parrot")
    assert taken.returncode == 1 and "'parrot' is already a persona" in taken.stderr
    forgotten = run_whirr("rm", "captain")
    assert forgotten.stdout == "forgot 'captain' (not whirr's file, nothing deleted)\n"
    assert stores.ollama_blob.is_file()


@pytest.mark.model
def test_cp_adds_a_gguf_file_by_path_and_rm_only_forgets_it(run_whirr, tmp_path: Path, place_starter, greedy) -> None:  # noqa: ANN001
    loose = tmp_path / "elsewhere" / "tiny.gguf"
    place_starter(loose)
    added = run_whirr("cp", str(loose), "tiny")
    assert added.returncode == 0, added.stderr
    assert added.stdout == f"added 'tiny:latest': {loose} (read in place, not copied)\n"
    assert _rows(run_whirr("list").stdout)["tiny:latest"] == "file"
    answer = run_whirr("run", "tiny", "Hi", *greedy)
    assert answer.returncode == 0 and answer.stdout.strip()
    assert run_whirr("rm", "tiny").returncode == 0
    assert "tiny:latest" not in _rows(run_whirr("list").stdout) and loose.is_file()
    missing = run_whirr("cp", str(tmp_path / "nope.gguf"), "nope")
    assert missing.returncode == 1 and "model '" in missing.stderr


@pytest.mark.model
def test_a_model_that_does_not_fit_is_refused_unless_forced(run_whirr, huge_model, greedy) -> None:
    refused = run_whirr("run", huge_model, "hi", *greedy)
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: model 'huge:q4_1' does not fit in memory: needs 1.0 TB, ")
    assert refused.stderr.rstrip().endswith(
        "available; try a smaller quantization or a smaller context (num_ctx), or run with --force to load it anyway")
    forced = run_whirr("run", huge_model, "hi", *greedy, "--num-predict", "4", "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.strip()


def _modelfile(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder.parent / "Modelfile"
    path.write_text(PIRATE)
    return path


@pytest.mark.model
def test_a_split_model_runs_like_the_whole_file(run_whirr, split_starter, greedy) -> None:
    folder = resolve_paths().models_dir
    folder.mkdir(parents=True)
    for part in split_starter:
        (folder / part.name).symlink_to(part)
    split = run_whirr("run", "split:q4_1", "Name a colour.", *greedy, "--num-predict", "12")
    whole = run_whirr("run", "smollm2:135m", "Name a colour.", *greedy, "--num-predict", "12")
    assert split.returncode == 0, split.stderr
    assert split.stdout.strip() and split.stdout == whole.stdout


def test_rm_removes_an_alias_of_any_model_even_the_built_in(run_whirr, stores) -> None:
    for source, alias in (("smollm2:135m", "tiny"), ("tinypirate", "matey")):
        assert run_whirr("cp", source, alias).returncode == 0
        removed = run_whirr("rm", alias)
        assert removed.returncode == 0, removed.stderr
        assert removed.stdout.startswith(f"forgot '{alias}'")
        assert f"{alias}:latest" not in _rows(run_whirr("list").stdout)
    kept = run_whirr("rm", "smollm2:135m")
    assert kept.returncode == 1 and "built-in model and cannot be removed" in kept.stderr
    assert "smollm2:135m" in _rows(run_whirr("list").stdout)


def test_unknown_names_suggest_only_close_ones(run_whirr, stores) -> None:
    typo = run_whirr("run", "smollm3", "hi")
    assert typo.returncode == 1 and "did you mean 'smollm2:135m'" in typo.stderr
    other = run_whirr("run", "gemma3:1b", "hi")
    assert other.returncode == 1 and "not found" in other.stderr and "did you mean" not in other.stderr
    prefix = run_whirr("rm", "tinypi")
    assert "'tinypirate:latest'?)" in prefix.stderr


def test_a_persona_whose_model_was_removed_is_listed_as_unusable(run_whirr, place_starter, tmp_path: Path) -> None:  # noqa: ANN001
    model = resolve_paths().models_dir / "Tiny-Model.Q4_1.gguf"
    place_starter(model)
    (tmp_path / "Modelfile").write_text("FROM tiny-model:q4_1\nSYSTEM Arr.\n")
    assert run_whirr("create", "pirate", "-f", str(tmp_path / "Modelfile")).returncode == 0
    (tmp_path / "Captain").write_text("FROM pirate\nSYSTEM Captain.\n")
    assert run_whirr("create", "captain", "-f", str(tmp_path / "Captain")).returncode == 0
    assert "unusable" not in run_whirr("list").stdout
    model.unlink()
    listing = run_whirr("list").stdout
    for name in ("pirate:latest", "captain:latest"):
        line = next(line for line in listing.splitlines() if line.startswith(name))
        assert "unusable: " in line and "tiny-model:q4_1" in line, line
