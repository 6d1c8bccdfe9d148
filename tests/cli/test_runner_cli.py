"""`whirr run` through a runner process: a model llama.cpp cannot load, `whirr ps` with --keepalive."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runnerkit import write_bad_gguf

pytestmark = pytest.mark.model


def test_a_gguf_llama_cpp_cannot_load_is_one_line(run_whirr, tmp_path: Path) -> None:
    broken = write_bad_gguf(tmp_path / "broken.gguf")
    result = run_whirr("run", str(broken), "hi")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "broken.gguf" in lines[0] or "model process stopped" in lines[0]


def test_ps_lists_the_model_an_interactive_chat_holds(run_whirr, terminal, greedy) -> None:
    assert run_whirr("ps").stdout.split() == ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]
    chat = terminal("run", "smollm2:135m", *greedy, "--num-predict", "4", "--keepalive", "10m")
    chat.expect(">>> ")
    chat.send("Hi")
    assert "loading model 100%" in chat.expect(">>> ")  # the load's progress, on the terminal
    table = run_whirr("ps").stdout.splitlines()
    assert len(table) == 2, table
    row = table[1]
    assert row.startswith("smollm2:135m") and "100% CPU" in row and "1024" in row and "minutes from now" in row
    chat.send("/bye")
    assert chat.close() == 0

