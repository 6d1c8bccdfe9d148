"""Personas: `whirr create` from a Modelfile, then list/show/run them like models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.engine.base import ChatMessage
from tui.modelfile import parse
from tui.models.library import Library
from tui.models.personas import PersonaStore, resolve_target
from tui.paths import resolve_paths

PIRATE = '''FROM smollm2:135m
PARAMETER temperature 0
PARAMETER seed 3
PARAMETER num_predict 10
SYSTEM """You are a pirate. Answer like a pirate."""
MESSAGE user Hello
MESSAGE assistant Arr, ahoy matey!
'''


def whirr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.fixture
def pirate_file(tmp_path: Path) -> Path:
    path = tmp_path / "Modelfile"
    path.write_text(PIRATE)
    return path


def test_create_list_show_and_run_a_persona(whirr_home: Path, pirate_file: Path) -> None:
    created = whirr("create", "pirate", "-f", str(pirate_file))
    assert created.returncode == 0, created.stderr
    assert "created persona pirate:latest from smollm2:135m" in created.stdout
    listing = whirr("list").stdout
    assert any(line.startswith("pirate:latest") and "persona of smollm2:135m" in line for line in listing.splitlines())
    shown = whirr("show", "pirate", "--modelfile").stdout
    assert parse(shown) == parse(PIRATE)
    assert "You are a pirate." in whirr("show", "pirate").stdout


@pytest.mark.model
def test_persona_answers_with_its_system_prompt_and_few_shot(whirr_home: Path, pirate_file: Path, starter_path: Path) -> None:
    assert whirr("create", "pirate", "-f", str(pirate_file)).returncode == 0
    target = resolve_target("pirate", Library(resolve_paths()), PersonaStore(resolve_paths()))
    assert target.entry.path == starter_path
    assert target.conversation(target.system, [], "Who are you?") == [
        ChatMessage("system", "You are a pirate. Answer like a pirate."),
        ChatMessage("user", "Hello"),
        ChatMessage("assistant", "Arr, ahoy matey!"),
        ChatMessage("user", "Who are you?"),
    ]
    persona_answer = whirr("run", "pirate", "Who are you?")
    assert persona_answer.returncode == 0, persona_answer.stderr
    plain = whirr("run", "smollm2:135m", "Who are you?", "--temperature", "0", "--seed", "3", "--num-predict", "10")
    assert persona_answer.stdout.strip() and persona_answer.stdout != plain.stdout


def test_persona_of_a_persona_inherits_and_overrides(whirr_home: Path, pirate_file: Path, tmp_path: Path) -> None:
    assert whirr("create", "pirate", "-f", str(pirate_file)).returncode == 0
    captain = tmp_path / "Captain"
    captain.write_text("FROM pirate\nSYSTEM You are the captain.\nPARAMETER num_predict 4\n")
    assert whirr("create", "captain:v2", "-f", str(captain)).returncode == 0
    target = resolve_target("captain:v2", Library(resolve_paths()), PersonaStore(resolve_paths()))
    assert target.system == "You are the captain."
    assert target.parameters == {"repeat_penalty": 1.1, "temperature": 0.0, "seed": 3, "num_predict": 4}  # the starter's own, then each layer
    assert target.messages == (ChatMessage("user", "Hello"), ChatMessage("assistant", "Arr, ahoy matey!"))


def test_relative_from_path_is_resolved_against_the_modelfile(whirr_home: Path, tmp_path: Path, starter_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "small.gguf").symlink_to(starter_path)
    (folder / "Modelfile").write_text("FROM ./small.gguf\nSYSTEM Be kind.\n")
    result = whirr("create", "kind", "-f", "Modelfile", cwd=folder)
    assert result.returncode == 0, result.stderr
    persona = PersonaStore(resolve_paths()).get("kind")
    assert persona is not None and persona.base == str(folder / "small.gguf")


@pytest.mark.parametrize(
    ("modelfile", "message"),
    [
        ("FROM nothing-here\n", "model 'nothing-here' not found"),
        ("SYSTEM hi\n", ":1: no FROM line"),
        ("FROM smollm2:135m\nPARAMETER top_k many\n", ":2: invalid int value [many]"),
        ("FROM smollm2:135m\nTEMPLATE {{ .System }}{{ printf \"%s\" .Prompt }}\n", "invalid TEMPLATE"),
        ("FROM smollm2:135m\nADAPTER ./missing-lora.gguf\n", "adapter file not found"),
    ],
)
def test_bad_modelfiles_are_refused(whirr_home: Path, tmp_path: Path, modelfile: str, message: str) -> None:
    path = tmp_path / "Modelfile"
    path.write_text(modelfile)
    result = whirr("create", "bad", "-f", str(path))
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert PersonaStore(resolve_paths()).get("bad") is None


def test_a_loop_of_personas_is_refused_and_the_old_one_kept(whirr_home: Path, pirate_file: Path, tmp_path: Path) -> None:
    assert whirr("create", "pirate", "-f", str(pirate_file)).returncode == 0
    loop = tmp_path / "Loop"
    loop.write_text("FROM pirate\n")
    result = whirr("create", "pirate", "-f", str(loop))
    assert result.returncode == 1 and "based on itself" in result.stderr
    assert PersonaStore(resolve_paths()).get("pirate").modelfile == parse(PIRATE)


def test_a_persona_cannot_take_a_models_name(whirr_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "Modelfile"
    path.write_text("FROM smollm2:135m\n")
    result = whirr("create", "smollm2:135m", "-f", str(path))
    assert result.returncode == 1 and "already a model name" in result.stderr


def test_unreadable_persona_file_is_skipped_not_deleted(whirr_home: Path) -> None:
    store = PersonaStore(resolve_paths())
    store.folder.mkdir(parents=True)
    junk = store.folder / "junk@latest.json"
    junk.write_text("{not json")
    assert store.list() == [] and junk.exists()


def test_rm_removes_a_persona_and_nothing_else(whirr_home: Path, pirate_file: Path, starter_path: Path) -> None:
    assert whirr("create", "pirate", "-f", str(pirate_file)).returncode == 0
    removed = whirr("rm", "pirate")
    assert removed.returncode == 0 and "deleted 'pirate'" in removed.stdout
    assert PersonaStore(resolve_paths()).get("pirate") is None
    again = whirr("rm", "pirate", "smollm2:135m")
    assert again.returncode == 1 and "no model or persona named 'pirate'" in again.stderr
    assert "'smollm2:135m' is whirr's built-in model and cannot be removed" in again.stderr
    assert starter_path.exists()


def test_the_engine_manager_runs_a_persona_on_its_base_model(whirr_home: Path, starter_path: Path) -> None:
    from tui.engine.manager import EngineManager

    paths = resolve_paths()
    PersonaStore(paths).save("pirate", parse(PIRATE))
    manager = EngineManager(Library(paths), PersonaStore(paths))
    target = manager.target_for("pirate")
    assert target.name == "pirate:latest" and target.system == "You are a pirate. Answer like a pirate."
    engine = manager.engine_for("pirate")
    assert engine.model_path == starter_path and engine.adapter is None
    assert manager.engine_for("smollm2:135m") is engine  # same file, same adapter: one engine


def test_an_unsaved_persona_with_an_adapter_gets_its_own_engine(whirr_home: Path, tmp_path: Path, starter_path: Path) -> None:
    from tui.engine.manager import EngineManager
    from tui.models.personas import draft_target, prepare_modelfile

    paths = resolve_paths()
    lora = tmp_path / "lora.gguf"
    lora.write_bytes(b"GGUF")  # never loaded here: only which engine the draft is given
    library, personas = Library(paths), PersonaStore(paths)
    manager = EngineManager(library, personas)
    draft = prepare_modelfile(parse("FROM smollm2:135m\nADAPTER ./lora.gguf\n"), tmp_path)
    engine = manager.engine_for_target(draft_target(draft, library, personas))
    assert engine.model_path == starter_path and engine.adapter == lora
    assert manager.engine_for("smollm2:135m") is not engine
