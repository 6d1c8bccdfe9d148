"""`whirr modelfile parse|fmt`, run as a user runs it: `python -m tui` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.modelfile import parse

# Every run gets its own WHIRR_HOME (the subprocess inherits it).
pytestmark = pytest.mark.usefixtures("whirr_home")

MODELFILE = """# A persona
FROM llama3.2
PARAMETER temperature 1
PARAMETER stop <|eot_id|>
PARAMETER stop "### User: "
PARAMETER mirostat 1
SYSTEM \"\"\"
You are "Mario" from super mario bros.
\"\"\"
MESSAGE user Is Toronto in Canada?
MESSAGE assistant yes
LICENSE MIT
"""


def whirr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


@pytest.fixture
def modelfile(tmp_path: Path) -> Path:
    path = tmp_path / "Modelfile"
    path.write_text(MODELFILE, encoding="utf-8")
    return path


def test_parse_prints_ollamas_commands_as_json(modelfile: Path) -> None:
    result = whirr("modelfile", "parse", str(modelfile))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"name": "model", "args": "llama3.2"},
        {"name": "temperature", "args": "1"},
        {"name": "stop", "args": "<|eot_id|>"},
        {"name": "stop", "args": "### User: "},
        {"name": "system", "args": '\nYou are "Mario" from super mario bros.\n'},
        {"name": "message", "args": "user: Is Toronto in Canada?"},
        {"name": "message", "args": "assistant: yes"},
        {"name": "license", "args": "MIT"},
    ]
    assert result.stderr == f"{modelfile}:6: warning: parameter mirostat is deprecated\n"


def test_fmt_prints_the_canonical_form(modelfile: Path) -> None:
    result = whirr("modelfile", "fmt", str(modelfile))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "FROM llama3.2\nPARAMETER temperature 1\nPARAMETER stop <|eot_id|>\n"
        'PARAMETER stop "### User: "\nSYSTEM """\nYou are "Mario" from super mario bros.\n"""\n'
        "MESSAGE user Is Toronto in Canada?\nMESSAGE assistant yes\nLICENSE MIT\n"
    )
    assert "deprecated" in result.stderr
    assert parse(result.stdout) == parse(MODELFILE)


@pytest.mark.parametrize("action", ["parse", "fmt"])
@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("FROM x\nPARAMETER temprature 0.7\n", 2, "unknown parameter 'temprature'"),
        ("FROM x\n\nPARAMETER num_ctx big\n", 3, "invalid int value [big]"),
        ("FROM x\nMESSAGE narrator hi\n", 2, 'message role must be one of "system", "user", or "assistant"'),
        ('FROM x\nSYSTEM """never closed\n', 2, "unexpected EOF"),
        ("PARAMETER temperature 1\n", 1, "no FROM line"),
    ],
)
def test_an_invalid_file_is_one_error_line_and_exit_1(
    tmp_path: Path, action: str, text: str, line: int, message: str
) -> None:
    path = tmp_path / "Modelfile"
    path.write_text(text, encoding="utf-8")
    result = whirr("modelfile", action, str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"Error: {path}:{line}: {message}\n"


@pytest.mark.parametrize("action", ["parse", "fmt"])
def test_a_missing_or_unreadable_file_is_one_error_line(tmp_path: Path, action: str) -> None:
    for path, reason in ((tmp_path / "absent", "No such file or directory"), (tmp_path, "Is a directory")):
        result = whirr("modelfile", action, str(path))
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == f"Error: cannot read {path}: {reason}\n"


def test_utf16_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "Modelfile"
    path.write_bytes(b"\xff\xfe" + "FROM base\nSYSTEM 你好👋\n".encode("utf-16-le"))
    result = whirr("modelfile", "parse", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[1] == {"name": "system", "args": "你好👋"}
