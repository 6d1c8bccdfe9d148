"""The thread governor's decisions, on a scripted machine (CPU counters and a clock the test
advances), and its real counters."""

from __future__ import annotations

import time

import pytest

from tui.engine.runner.connection import SPIN_COUNT, runner_environment
from tui.engine.threads import HOLD_S, MachineLoad, ThreadGovernor


class ScriptedMachine:
    """CPU counters of a machine with `cpus` cores where other programs keep `others` cores busy."""

    def __init__(self, cpus: int) -> None:
        self.cpus = cpus
        self.now = 0.0
        self.busy = 0.0
        self.own = 0.0
        self.others = 0.0
        self.threads = cpus

    def read(self) -> tuple[float, float]:
        return self.busy, self.own

    def clock(self) -> float:
        return self.now

    def run(self, governor: ThreadGovernor, seconds: float, tok_per_s: float) -> None:
        """Generate tokens for `seconds` at `tok_per_s`, the counters moving with the time."""
        gap = 1.0 / tok_per_s
        for _ in range(int(seconds * tok_per_s)):
            self.now += gap
            ours = min(self.threads, self.cpus - self.others * 0.5) * gap
            self.own += ours
            self.busy += ours + self.others * gap
            governor.token()


def make(machine: ScriptedMachine, max_threads: int = 2) -> tuple[ThreadGovernor, list[int]]:
    applied: list[int] = []

    def apply(threads: int) -> None:
        applied.append(threads)
        machine.threads = threads

    return ThreadGovernor(max_threads, apply, load=machine, clock=machine.clock), applied  # type: ignore[arg-type]


def test_quiet_machine_keeps_every_thread() -> None:
    machine = ScriptedMachine(2)
    governor, applied = make(machine)
    governor.begin()
    machine.run(governor, 3.0, 100)
    assert applied == [] and governor.threads == 2


def test_a_client_streaming_the_tokens_does_not_cost_a_thread() -> None:
    machine = ScriptedMachine(2)
    governor, applied = make(machine)
    governor.begin()
    machine.others = 0.4  # the app's UI, or whirr serve and its HTTP client
    machine.run(governor, 3.0, 70)
    assert applied == [] and governor.threads == 2


def test_busy_machine_drops_to_the_free_cores_and_comes_back() -> None:
    machine = ScriptedMachine(2)
    governor, applied = make(machine)
    governor.begin()
    machine.others = 2.0
    machine.run(governor, 1.0, 13)
    assert applied == [1]
    machine.run(governor, 1.5, 50)  # faster after the change: kept
    assert governor.threads == 1
    machine.others = 0.0
    machine.run(governor, 1.5, 60)
    assert governor.threads == 2 and applied == [1, 2]


def test_a_change_that_made_tokens_slower_is_undone_and_held() -> None:
    machine = ScriptedMachine(2)
    governor, applied = make(machine)
    governor.begin()
    machine.others = 1.0
    machine.run(governor, 0.6, 80)
    assert applied == [1]
    machine.run(governor, 0.6, 40)  # half the rate with one thread: undo
    assert applied == [1, 2] and "undo" in governor.changes[-1][2]
    machine.run(governor, HOLD_S - 2, 80)  # held, although the load still says one thread
    assert applied == [1, 2]
    machine.run(governor, 3, 80)
    assert applied == [1, 2, 1]


def test_max_threads_is_never_exceeded() -> None:
    machine = ScriptedMachine(8)
    governor, applied = make(machine, max_threads=4)
    governor.begin()
    machine.run(governor, 3.0, 100)
    assert governor.threads == 4 and applied == []


def test_machine_load_reads_real_counters() -> None:
    load = MachineLoad()
    busy, own = load.read()
    burn_until = time.process_time() + 0.1  # several of the kernel's 10 ms accounting ticks
    while time.process_time() < burn_until:
        pass
    busy2, own2 = load.read()
    assert load.cpus >= 1 and busy2 >= busy and own2 > own


def test_runners_spin_briefly_unless_the_user_chose_how_openmp_waits(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert runner_environment()["GOMP_SPINCOUNT"] == SPIN_COUNT
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # GOMP_SPINCOUNT would override it
    assert "GOMP_SPINCOUNT" not in runner_environment()
    monkeypatch.delenv("OMP_WAIT_POLICY")
    monkeypatch.setenv("GOMP_SPINCOUNT", "50000")
    assert runner_environment()["GOMP_SPINCOUNT"] == "50000"
