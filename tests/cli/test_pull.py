"""`whirr pull` and `whirr search` as a user runs them, against a stand-in hub on 127.0.0.1."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from tests.helpers import whirr
from tests.hubserver import BROKEN_REPO, STARTER_FILE, STARTER_REPO, FakeHub
from tui.commands.pull import progress_line
from tui.format import human_duration
from tui.models.download import Download, Part, State

NAME = "hf.co/whirr-test/smollm2-135m-instruct-gguf:q4_1"


@pytest.mark.model
def test_pull_then_list_and_run(run_whirr, fake_hub: FakeHub, greedy: list[str], whirr_home: Path) -> None:  # noqa: ANN001
    pulled = run_whirr("pull", f"hf.co/{STARTER_REPO}:Q4_1")
    assert pulled.returncode == 0, pulled.stderr
    assert f"pulling {NAME} ({STARTER_FILE}, 98 MB)" in pulled.stderr
    assert "memory: fits at context 4096 (needs " in pulled.stderr
    assert f"pulling {STARTER_FILE} 100% ▕{'█' * 20}▏ 98 MB/98 MB" in pulled.stderr
    assert "verifying sha256 digest" in pulled.stderr
    assert pulled.stdout == f"run it with: whirr run {NAME}\n"
    assert (whirr_home / "data" / "models" / "hf.co" / STARTER_REPO / STARTER_FILE).is_file()

    listed = run_whirr("list")
    line = next(line for line in listed.stdout.splitlines() if line.startswith(NAME))
    assert "98 MB" in line and "downloaded" in line

    answered = run_whirr("run", NAME, *greedy, "--num-predict", "8", "Say hi.")
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.strip()

    again = run_whirr("pull", f"hf.co/{STARTER_REPO}:q4_1")
    assert again.returncode == 0 and "success" in again.stderr
    whole_file_transfers = fake_hub.downloads_of(STARTER_REPO, STARTER_FILE).count("")
    assert whole_file_transfers == 1  # the rest were header reads (Range bytes=0-N)


def test_pull_errors_exit_1_with_a_clear_text(run_whirr, fake_hub: FakeHub) -> None:  # noqa: ANN001
    cases = {
        "hf.co/whirr-test/Tiny-Llama-GGUF:Q2_K": "Error: whirr-test/Tiny-Llama-GGUF has no Q2_K GGUF file; available quantizations: Q4_K_M, Q8_0",
        "hf.co/whirr-test/nope": "Error: no repository 'whirr-test/nope'",
        "hf.co/just-one-part": "Error: 'hf.co/just-one-part' is not a hub model name",
        f"hf.co/{BROKEN_REPO}:Q4_1": "does not match the hub's checksum",
    }
    for name, error in cases.items():
        result = run_whirr("pull", name)
        assert result.returncode == 1, name
        assert error in result.stderr, result.stderr


def test_pull_and_search_without_a_hub(run_whirr, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    for args in (("pull", "hf.co/org/repo"), ("search", "llama")):
        result = run_whirr(*args)
        assert result.returncode == 1
        assert f"Error: cannot reach the hub at http://127.0.0.1:{port}" in result.stderr
        assert "local models still work" in result.stderr


def test_search_prints_a_table(run_whirr, fake_hub: FakeHub) -> None:  # noqa: ANN001
    result = run_whirr("search", "whirr-test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "NAME                                           DOWNLOADS    LIKES    UPDATED",
        "hf.co/whirr-test/SmolLM2-135M-Instruct-GGUF    5,200        42       2025-01-15",
        "hf.co/whirr-test/Tiny-Llama-GGUF               900          7        2025-01-15",
        "hf.co/whirr-test/broken-GGUF                   12           0        2025-01-15",
    ]


def test_progress_line() -> None:
    download = Download("hf.co/o/r:q4_1", "o/r", [Part("u", "m.gguf", 98_000_000, None)], State.RUNNING, done=41_000_000)
    assert progress_line(download, "m.gguf") == "pulling m.gguf  42% ▕████████            ▏ 41 MB/98 MB"
    download.speed = 12_000_000
    assert progress_line(download, "m.gguf").endswith("▏ 41 MB/98 MB  12 MB/s  5s")
    assert [human_duration(s) for s in (4.6, 219, 3720)] == ["5s", "3m39s", "1h2m"]


def test_ctrl_c_keeps_the_partial_and_pulling_again_resumes(terminal, fake_hub: FakeHub, whirr_home: Path) -> None:  # noqa: ANN001
    fake_hub.chunk_delay = 0.05
    session = terminal("pull", f"hf.co/{STARTER_REPO}")
    session.expect(f"\rpulling {STARTER_FILE}")  # a terminal gets one line, rewritten in place
    session.expect("MB/98 MB\x1b[K")
    session.process.send_signal(signal.SIGINT)
    session.expect(f"Run `whirr pull hf.co/{STARTER_REPO}` again to resume.")
    assert session.close() == 130
    (part,) = (whirr_home / "data" / "models" / ".partial").rglob("*.part")
    kept = part.stat().st_size
    assert kept > 0

    fake_hub.chunk_delay = 0.0
    again = whirr("pull", f"hf.co/{STARTER_REPO}")
    assert again.returncode == 0, again.stderr
    assert fake_hub.downloads_of(STARTER_REPO, STARTER_FILE)[-1] == f"bytes={kept}-"
    assert not part.exists()
