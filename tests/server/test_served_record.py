"""The server's registry entry (what the app's meters panel reads): written when it changes, at
most four times a second, and removed when the server stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tui.config import load_config
from tui.engine.runner.registry import served_dir, serving
from tui.meters.processes import ProcessGroup
from tui.meters.sample import Sample
from tui.paths import resolve_paths
from tui.server.served import ServedRecord
from tui.server.service import Service


def reading(t: float) -> Sample:
    """A reading at time `t` (only its time matters to the entry)."""
    return Sample(t=t, cpu_busy_s=0.0, cpu_total_s=0.0, process_cpu_s=0.0, rss_bytes=0, ram_used_bytes=0,
                  ram_total_bytes=1, rapl_uj=None, gpus=())


def test_written_on_change_at_most_four_times_a_second_and_removed_at_exit(whirr_home: Path) -> None:
    paths = resolve_paths()
    service = Service(paths, load_config(paths)[0])
    group = ProcessGroup()
    record = ServedRecord(service, served_dir(paths), "127.0.0.1:11434", processes=group)
    file = served_dir(paths) / f"{os.getpid()}.json"
    record.on_sample(reading(10.0))
    written = file.stat().st_ino
    [entry] = serving(served_dir(paths))
    assert (entry.address, entry.answers, entry.tokens, entry.answering, entry.rate) == ("127.0.0.1:11434", 0, 0, 0, 0.0)
    assert entry.pids == (os.getpid(),)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        group.add(child.pid)  # a runner started
        record.on_sample(reading(10.1))
        assert file.stat().st_ino == written, "0.1 s after the last write is too soon"
        record.on_sample(reading(10.3))
        assert json.loads(file.read_text())["pids"] == [os.getpid(), child.pid]
        written = file.stat().st_ino
        record.on_sample(reading(10.8))
        assert file.stat().st_ino == written, "nothing changed: nothing written"
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait()
    record.close()
    assert not file.exists()
    record.on_sample(reading(11.5))
    assert not file.exists(), "a sample after the server stopped writes nothing"
