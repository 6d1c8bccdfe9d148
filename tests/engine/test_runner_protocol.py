"""Frames, request and statistics encodings and the loaded-models registry
(no model needed)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tui.engine.base import ChatMessage, ChatRequest, Stats
from tui.engine.options import Options
from tui.engine.runner.protocol import (
    HEADER,
    ProtocolError,
    encode,
    read_frame,
    request_from_dict,
    request_to_dict,
    stats_from_dict,
    stats_to_dict,
)
from tui.engine.runner.registry import LoadedModel, loaded_models, write_entry


def test_frames_round_trip_and_end_cleanly() -> None:
    messages = [{"ev": "token", "id": 1, "text": "héllo 🎉", "n": 2}, {"op": "exit"}]
    stream = io.BytesIO(b"".join(encode(m) for m in messages) + encode({"x": 1})[:5])
    assert read_frame(stream) == messages[0]
    assert read_frame(stream) == messages[1]
    assert read_frame(stream) is None  # a torn last frame reads as the end


def test_an_absurd_length_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        read_frame(io.BytesIO(HEADER.pack(2**31) + b"{}"))


def test_request_and_stats_survive_the_trip() -> None:
    request = ChatRequest(
        [ChatMessage("system", "be brief"), ChatMessage("user", "hi")],
        Options(temperature=0.0, stop=("\n\n", "END"), num_ctx=2048),
        template="{{ .Prompt }}", conversation_id="7", ignore_eos=True, keep_alive=-1.0,
        prompt="raw", context=(1, 2, 3), grammar='root ::= "a"', return_context=True,
    )
    assert request_from_dict(request_to_dict(request)) == request
    stats = Stats(eval_count=5, eval_duration=0.25, finish_reason="cancelled", error="")
    assert stats_from_dict({**stats_to_dict(stats), "from_a_newer_runner": 1}) == stats


def _entry(pid: int, started: float, name: str) -> LoadedModel:
    return LoadedModel(pid=pid, started=started, name=name, model_id="abc123", path="/m.gguf",
                       processor="100% CPU", context=4096, until=None)


def test_registry_lists_live_runners_and_drops_dead_ones(tmp_path: Path) -> None:
    me = psutil.Process()
    write_entry(tmp_path, _entry(os.getpid(), me.create_time(), "alive:1b"))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_entry(tmp_path, _entry(gone.pid, time.time(), "gone:1b"))
    write_entry(tmp_path, _entry(os.getppid(), 0.0, "reused-pid:1b"))  # a live pid, another start time
    (tmp_path / "999999.json").write_text("{not json")
    models = loaded_models(tmp_path)
    assert [m.name for m in models] == ["alive:1b"]
    assert models[0].memory_bytes > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{os.getpid()}.json"]
