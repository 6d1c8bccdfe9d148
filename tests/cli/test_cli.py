"""The `whirr` command line, run as a subprocess with the real starter model."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from pathlib import Path

from tui import __version__


def test_version_and_help_for_every_command(run_whirr, greedy) -> None:
    assert run_whirr("--version").stdout.strip() == f"whirr {__version__}"
    top = run_whirr("--help")
    assert top.returncode == 0
    for command in ("run", "list", "show", "bench", "modelfile"):
        assert command in top.stdout
        result = run_whirr(command, "--help")
        assert result.returncode == 0 and "usage: whirr " + command in result.stdout


@pytest.mark.model
def test_one_shot_answer_is_deterministic(run_whirr, greedy) -> None:
    args = ["run", "smollm2:135m", "Name", "a", "colour.", *greedy, "--num-predict", "12"]
    first, second = run_whirr(*args), run_whirr(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() and first.stdout == second.stdout
    assert first.stderr == ""


@pytest.mark.model
def test_prompt_from_stdin_and_verbose_statistics(run_whirr, greedy) -> None:
    result = run_whirr("run", "--verbose", *greedy, "--num-predict", "8", input="Say hello.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    for label in (
        "total duration:", "load duration:", "prompt eval count:", "prompt eval duration:",
        "prompt eval rate:", "eval count:", "eval duration:", "eval rate:",
    ):
        assert label in result.stderr
    assert "eval count:           8 token(s)" in result.stderr
    energy = next(line for line in result.stderr.splitlines() if line.startswith("energy:"))
    assert "J" in energy and "estimated: TDP model" in energy
    assert any(line.startswith("energy per token:") and "J/token" in line for line in result.stderr.splitlines())


def test_unknown_model_suggests_and_exits_1(run_whirr, greedy) -> None:
    result = run_whirr("run", "smolm2:135m", "hi")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: model 'smolm2:135m' not found")
    assert "smollm2:135m" in result.stderr and "Traceback" not in result.stderr


def test_invalid_option_names_the_option(run_whirr, greedy) -> None:
    result = run_whirr("run", "smollm2:135m", "hi", "--temperature", "hot")
    assert result.returncode == 2
    assert "argument --temperature: invalid float value [hot]" in result.stderr
    result = run_whirr("run", "smollm2:135m", "hi", "--num-ctx", "-5")
    assert result.returncode == 2 and "argument --num-ctx: num_ctx must be >= 1, got -5" in result.stderr


@pytest.mark.model
def test_prompt_longer_than_context_names_both_counts(run_whirr, greedy) -> None:
    # llama.cpp pads the context to a multiple of 256 tokens.
    result = run_whirr("run", "smollm2:135m", *greedy[:4], "--num-ctx", "100", "word " * 300)
    assert result.returncode == 1
    assert "tokens but the context is 256 tokens" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_and_show(run_whirr, greedy, whirr_home: Path, starter_path: Path) -> None:
    models = whirr_home / "data" / "models"
    models.mkdir(parents=True)
    (models / "junk.gguf").write_text("not a model")
    result = run_whirr("list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ID", "SIZE", "SOURCE", "MODIFIED"]
    assert any(line.startswith("smollm2:135m") and "98 MB" in line for line in lines)
    assert any(line.startswith("junk:latest") and "unusable: not a GGUF file" in line for line in lines)
    show = run_whirr("show", "smollm2:135m")
    assert show.returncode == 0
    for expected in ("architecture        llama", "parameters          135M", "context length      8192",
                     "embedding length    576", "quantization        Q4_1", "chat template       found",
                     str(starter_path)):
        assert expected in show.stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"GGUF" + bytes(20), "unsupported GGUF version 0"), (b"", "empty file"), (b"GG", "not a GGUF file (only 2 bytes)"),
     (b"<html>not a model</html>", "wrong magic bytes")],
)
def test_running_a_broken_file_is_a_one_line_error(run_whirr, tmp_path: Path, content: bytes, problem: str) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(content)
    result = run_whirr("run", str(broken), "hi")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot be used" in result.stderr
    assert problem in result.stderr, result.stderr


@pytest.mark.model
def test_run_a_gguf_file_by_path(run_whirr, greedy, whirr_home: Path, starter_path: Path) -> None:
    result = run_whirr("run", str(starter_path), "Hi", *greedy, "--num-predict", "4")
    assert result.returncode == 0 and result.stdout.strip()


@pytest.mark.model
def test_batch_writes_jsonl(run_whirr, greedy, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text('Say one.\n{"prompt": "Say two."}\n\nSay three.\n')
    output = tmp_path / "answers.jsonl"
    result = run_whirr("run", "smollm2:135m", "--batch", str(prompts), "--output", str(output), *greedy, "--num-predict", "6")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["prompt"] for r in records] == ["Say one.", "Say two.", "Say three."]
    assert all(r["response"] and r["stats"]["eval_count"] == 6 for r in records)


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("prompts.jsonl", '{"prompt": "ok"}\n{"text": "no prompt"}\n', 2, 'a JSON line needs a string "prompt" field'),
        ("prompts.jsonl", '{"prompt": "ok"}\n\n"prompt": "no braces"}\n', 3, "not valid JSON (Extra data at column 9)"),
        ("prompts.txt", '{"prompt": "first"}\nplain words\n', 2, "not valid JSON (Expecting value at column 1)"),
        ("prompts.jsonl", '["a list"]\n', 1, 'a JSON line needs a string "prompt" field'),
        ("prompts.txt", 'plain\n{"prompt": oops}\n', 2, "not valid JSON"),
    ],
)
def test_batch_with_bad_jsonl_line_names_it(run_whirr, tmp_path: Path, name: str, text: str, line: int, message: str) -> None:
    prompts = tmp_path / name
    prompts.write_text(text)
    result = run_whirr("run", "smollm2:135m", "--batch", str(prompts))
    assert result.returncode == 1 and f"{prompts}:{line}: {message}" in result.stderr, result.stderr


@pytest.mark.model
def test_ctrl_c_stops_the_answer_keeps_it_and_exits_130(whirr_command, greedy, whirr_home: Path) -> None:
    process = subprocess.Popen(
        [*whirr_command, "run", "smollm2:135m", "Write a long story.", *greedy, "--num-predict", "2000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    first = process.stdout.read(20)  # the answer is streaming
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    rest, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert len(first) == 20 and "Traceback" not in stderr
    assert len(first + rest) < 2000 * 2


def _stat(screen: str, label: str) -> int:
    line = next(line for line in screen.splitlines() if line.startswith(label + ":"))
    return int(line.split(":")[1].split()[0])


@pytest.mark.model
def test_interactive_chat_keeps_history_and_slash_commands(terminal, greedy) -> None:
    chat = terminal("run", "smollm2:135m", "--verbose", *greedy, "--num-predict", "8")
    chat.expect(">>> ")
    chat.send("/set parameter num_predict 4")
    assert "Set parameter 'num_predict' to '4'" in chat.expect(">>> ")
    chat.send("/set parameter top_k lots")
    assert "invalid int value [lots]" in chat.expect(">>> ")
    chat.send("/set system You are terse.")
    assert "Set system message." in chat.expect(">>> ")
    chat.send("/show info")
    assert "quantization        Q4_1" in chat.expect(">>> ")
    chat.send('"""First line')
    chat.expect("... ")
    chat.send('second line"""')
    first = chat.expect(">>> ")
    assert _stat(first, "eval count") == 4
    chat.send("Tell me more.")
    second = chat.expect(">>> ")
    # The second turn's prompt holds the first exchange, which the KV cache already has.
    assert _stat(second, "prompt cache count") >= _stat(first, "prompt eval count")
    chat.send("/show parameters")
    assert "num_predict         4" in chat.expect(">>> ")
    chat.send("/clear")
    assert "Cleared session context" in chat.expect(">>> ")
    chat.send("Hi")
    cleared = chat.expect(">>> ")
    assert _stat(cleared, "prompt eval count") + _stat(cleared, "prompt cache count") < _stat(first, "prompt eval count") + 10
    chat.send("/bye")
    assert chat.close() == 0


@pytest.mark.model
def test_bench_measures_every_path_as_json(run_whirr) -> None:
    paths = ["runner", "whirr", "whirr-thread", "raw-generate", "chat-completion-stream"]
    result = run_whirr("bench", "--tokens", "12", "--rounds", "1", "--json", "--pipe", "2000", "--paths", ",".join(paths))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    results = {r["path"]: r for r in report["results"]}
    assert set(results) == set(paths)
    for path in ("runner", "whirr", "whirr-thread", "raw-generate"):
        assert results[path]["tokens"] == 12 and results[path]["rate"] > 0 and results[path]["ttft_ms"] > 0
        assert results[path]["joules_per_token"] > 0 and "estimated" in results[path]["energy_method"]
    assert {"runner_vs_whirr_rate", "runner_ttft_minus_whirr_ms", "whirr_vs_raw_generate_rate",
            "whirr_ttft_minus_raw_generate_ms", "whirr_thread_vs_raw_generate_rate"} <= set(report["summary"])
    assert report["summary"]["pipe_synthetic_tokens_per_s"] > 0


def test_bench_spreads_merged_tokens_evenly() -> None:
    from tui.engine.benchmark import Run

    run = Run("x")
    run.arrived(1, 1.0)
    run.arrived(3, 1.3)  # three tokens held back as one piece of text
    run.arrived(1, 1.4)
    assert run.token_times == pytest.approx([1.0, 1.1, 1.2, 1.3, 1.4])
    assert run.rate() == pytest.approx(10.0)
