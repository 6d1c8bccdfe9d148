"""whirr's process group: this process plus its runners, counted together and never backwards."""

from __future__ import annotations

import subprocess
import sys
import time

from tui.meters.probe import Probe
from tui.meters.processes import WHIRR_PROCESSES, ProcessGroup

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\nimport sys; sys.stdin.read()"


def test_a_child_counts_while_it_runs_and_after_it_ends() -> None:
    group = ProcessGroup()
    alone_cpu, alone_rss = group.read()
    child = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE)
    try:
        group.add(child.pid)
        assert group.pids[1:] == (child.pid,)
        cpu, rss = group.read()
        deadline = time.monotonic() + 30
        while cpu - alone_cpu < 0.25:  # the child burns 0.3 s of CPU, then waits for stdin
            assert time.monotonic() < deadline, "the child's CPU time never showed"
            time.sleep(0.01)
            cpu, rss = group.read()
        assert rss > alone_rss
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait()
    after, _ = group.read()  # the child is gone: its CPU time stays in the total
    assert after >= cpu
    group.remove(child.pid)
    assert group.read()[0] >= after and group.pids[1:] == ()


def test_the_probe_reads_whirrs_processes() -> None:
    probe = Probe.detect()
    assert probe.processes is WHIRR_PROCESSES  # what the runner client adds its runners to
    group = ProcessGroup()
    child = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE)
    try:
        alone = Probe(probe.tdp, probe.ram, processes=group).read()
        group.add(child.pid)
        together = Probe(probe.tdp, probe.ram, processes=group).read()
        assert together.rss_bytes > alone.rss_bytes and together.process_cpu_s >= alone.process_cpu_s
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait()
