"""whirr's process group: this process plus its runners, counted together and never backwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from tui.meters.probe import Probe
from tui.meters.processes import WHIRR_PROCESSES, ProcessGroup

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\nimport sys; sys.stdin.read()"


def test_a_child_counts_while_it_runs_and_after_it_ends() -> None:
    group = ProcessGroup()
    alone = group.read()
    child = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE)
    try:
        group.add(child.pid)
        assert group.pids[1:] == (child.pid,)
        reading = group.read()
        deadline = time.monotonic() + 30
        while reading.cpu_s_by_pid.get(child.pid, 0.0) < 0.25:  # it burns 0.3 s of CPU, then waits for stdin
            assert time.monotonic() < deadline, "the child's CPU time never showed"
            time.sleep(0.01)
            reading = group.read()
        assert reading.rss_bytes > alone.rss_bytes
        assert reading.cpu_s - alone.cpu_s >= 0.25 and set(reading.cpu_s_by_pid) == {os.getpid(), child.pid}
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait()
    after = group.read().cpu_s  # the child is gone: its CPU time stays in the total
    assert after >= reading.cpu_s
    group.remove(child.pid)
    assert group.read().cpu_s >= after and group.pids[1:] == ()


def test_watched_processes_count_from_when_they_are_watched() -> None:
    group = ProcessGroup(include_self=False)
    assert group.pids == () and group.read().cpu_s == 0.0
    child = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while sum(psutil.Process(child.pid).cpu_times()[:2]) < 0.29:  # burnt before it is watched
            assert time.monotonic() < deadline, "the child never burnt its CPU time"
            time.sleep(0.01)
        group.watch([child.pid])
        assert group.pids == (child.pid,)
        watched = group.read()
        assert watched.cpu_s < 0.1 and watched.rss_bytes > 0, "the time before watching is not counted"
        group.watch([])
        assert group.pids == () and group.read().cpu_s == watched.cpu_s  # retired: never backwards
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait()


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
