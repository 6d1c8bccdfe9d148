"""One setting, one rule: every entry point accepts and refuses the same option values, with
Ollama's ranges, and says when whirr rounds a value. The defaults table in the README is the
code's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tui.cli import build_parser, main
from tui.commands.common import load_context, options_from_flags, resolve_usable
from tui.commands.interactive import handle_command
from tui.commands.chat import Chat
from tui.config import load_config
from tui.engine.llama import LlamaEngine
from tui.engine.options import OPTION_FIELDS, Options, ParameterError, option_help, option_range, option_type, parse_parameter
from tui.modelfile import ParseError, parse
from tui.paths import resolve_paths
from tui.screens.session_dialog import parse_settings

README = Path(__file__).parents[1] / "README.md"

# (option, text) pairs every entry point must refuse, and the words of the refusal.
REFUSED = [
    ("temperature", "-1", "temperature must be >= 0, got -1"),
    ("num_ctx", "0", "num_ctx must be >= 1, got 0"),
    ("top_p", "1.5", "top_p must be between 0 and 1, got 1.5"),
    ("num_predict", "-3", "num_predict must be >= -2, got -3"),
    ("num_gpu", "-2", "num_gpu must be >= -1, got -2"),
    ("temperature", "inf", "temperature must be a finite number"),
]
ROUNDED = ("num_ctx", "1000", "num_ctx 1000 is rounded up to 1024")
FLAGS = {"temperature": "--temperature", "num_ctx": "--num-ctx", "num_predict": "--num-predict", "num_gpu": "--num-gpu"}


def _chat() -> Chat:
    context = load_context()
    target = resolve_usable(context, "smollm2:135m")
    engine = LlamaEngine(target.entry.path, target.name, info=target.entry.info, file_size=target.entry.size)
    return Chat(target, engine, Options(), "")


@pytest.mark.parametrize(("name", "text", "message"), REFUSED)
def test_every_entry_point_refuses_the_same_values(
    whirr_home: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str
) -> None:
    # the one rule
    with pytest.raises(ParameterError, match=re.escape(message)):
        parse_parameter(name, text)
    # a Modelfile PARAMETER line
    with pytest.raises(ParseError, match=re.escape(message)):
        parse(f"FROM smollm2:135m\nPARAMETER {name} {text}\n")
    # the session dialog
    settings, errors = parse_settings("", {name: text}, "", Options())
    assert settings is None and message in errors[name]
    # interactive /set
    chat = _chat()
    handle_command(chat, f"/set parameter {name} {text}")
    assert message in capsys.readouterr().out and chat.options == Options()
    # config.toml's [options]
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(f"[options]\n{name} = {text if text != 'inf' else 'inf'}\n")
    config, warnings = load_config(paths)
    assert getattr(config.options, name) == getattr(Options(), name)
    assert len(warnings) == 1 and message in warnings[0]
    # a CLI flag (argparse refuses it before anything runs)
    if name in FLAGS:
        with pytest.raises(SystemExit):
            main(["run", "smollm2:135m", FLAGS[name], text, "hi"])
        assert message in capsys.readouterr().err


def test_every_entry_point_says_when_a_value_is_rounded(whirr_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, text, note = ROUNDED
    assert any(note in w.message for w in parse(f"FROM x\nPARAMETER {name} {text}\n").warnings)
    chat = _chat()
    handle_command(chat, f"/set parameter {name} {text}")
    assert note in capsys.readouterr().out and chat.options.num_ctx == 1000
    paths = resolve_paths()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(f"[options]\n{name} = {text}\n")
    config, warnings = load_config(paths)
    assert config.options.num_ctx == 1000 and len(warnings) == 1 and note in warnings[0]
    args = build_parser().parse_args(["run", "smollm2:135m", "--num-ctx", text])
    assert options_from_flags(args, Options()).num_ctx == 1000
    assert note in capsys.readouterr().err


def test_values_at_the_edges_of_each_range_are_accepted() -> None:
    for name in OPTION_FIELDS:
        low, high = option_range(name)
        kind = option_type(name)
        for edge in (low, high):
            if edge is not None:
                assert parse_parameter(name, str(kind(edge))) == kind(edge)


def _readme_defaults() -> dict[str, tuple[str, str, str]]:
    """The README's defaults table: option -> (type, default, accepted)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- options table: generated from tui/engine/options.py -->", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip("|").split("|") for line in section.strip().splitlines()[2:]]
    return {cells[0].strip(" `"): tuple(c.strip(" `") for c in cells[1:4]) for cells in rows}


def options_table() -> str:
    """The README's table, generated from Options: name, type, default, range, meaning."""
    lines = ["| option | type | default | accepted | meaning |", "|---|---|---|---|---|"]
    defaults = Options()
    for name in OPTION_FIELDS:
        kind = option_type(name).__name__.replace("tuple", "list of str")
        default = getattr(defaults, name)
        shown = "[]" if default == () else str(default).lower() if isinstance(default, bool) else str(default)
        low, high = option_range(name)
        accepted = "any" if low is None and high is None else f"{low:g} to {high:g}" if high is not None else f">= {low:g}"
        lines.append(f"| `{name}` | {kind} | {shown} | {accepted} | {option_help(name)} |")
    return "\n".join(lines)


def test_the_readme_table_is_the_code_s() -> None:
    text = README.read_text(encoding="utf-8")
    marker = "<!-- options table: generated from tui/engine/options.py -->\n"
    assert marker in text, "README.md lost its options table"
    assert text.split(marker, 1)[1].startswith(options_table() + "\n"), (
        "README.md's options table differs from tui/engine/options.py; the table should read:\n" + options_table()
    )


def test_defaults_are_ollamas_default_options() -> None:
    """Ollama's api/types.go DefaultOptions() at commit fb30760 (August 2026)."""
    ollama = {
        "num_predict": -1, "num_keep": 4, "temperature": 0.8, "top_k": 40, "top_p": 0.9, "typical_p": 1.0,
        "repeat_last_n": 64, "repeat_penalty": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0,
        "seed": -1, "num_batch": 512, "num_gpu": -1, "num_thread": 0,
    }
    defaults = Options()
    assert {name: getattr(defaults, name) for name in ollama} == ollama
    assert defaults.num_ctx == 4096  # OLLAMA_CONTEXT_LENGTH unset, a machine with little VRAM


def test_the_config_validator_stays_light() -> None:
    """msgspec was chosen over pydantic because config.toml is read by `whirr list` too
    (measured here: msgspec about 10 ms to import, pydantic about 40 ms plus about 70 ms to build
    the models). The time itself is a benchmark's business; this checks the choice holds."""
    import subprocess
    import sys

    code = (
        "import sys; from tui.config import config_from_dict; "
        "config_from_dict({'options': {'temperature': 0.5}, 'meters_panel': 'on', 'model_dirs': ['/a']}); "
        "print(sorted(m for m in ('pydantic', 'msgspec') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "['msgspec']"
