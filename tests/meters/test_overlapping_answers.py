"""Answers written at the same time split the energy instead of each claiming all of it: each
counts its own runner's CPU time and a part of the shared process's, so together they never
exceed whirr's energy, nor the machine's, over the time they ran."""

from __future__ import annotations

import asyncio
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.engine.base import ChatMessage, ChatRequest, DoneEvent
from tui.engine.options import Options
from tui.engine.runner.client import RunnerEngine
from tui.meters import AnswerEnergy, EnergyMeter, Probe, Sample, Sampler
from tui.meters.energy import SHARED_COMPONENTS, cpu_claims, cpu_shares
from tui.meters.processes import ProcessGroup

OWN, A, B, C = 100, 200, 300, 400


def reading(t: float, busy_s: float, by_pid: dict[int, float]) -> Sample:
    """A reading at `t` with the machine's busy seconds and each process's CPU seconds."""
    return Sample(t=t, cpu_busy_s=busy_s, cpu_total_s=4 * t, process_cpu_s=sum(by_pid.values()), rss_bytes=1,
                  ram_used_bytes=1, ram_total_bytes=2, rapl_uj=None, gpus=(), cpu_s_by_pid=by_pid)


def test_each_process_is_divided_among_the_answers_that_use_it() -> None:
    before = reading(1.0, 10.0, {OWN: 1.0, A: 5.0, B: 7.0})
    after = reading(1.5, 12.0, {OWN: 1.4, A: 5.8, C: 0.3})  # B ended, C started in between
    # this process's 0.4 s is shared by both answers; A's 0.8 s is the first one's alone
    assert cpu_claims(before, after, [{OWN, A}, {OWN, B}]) == pytest.approx([1.0, 0.2])
    assert cpu_claims(before, after, [{OWN, A}, {OWN, A}]) == pytest.approx([0.6, 0.6])  # one runner, queued answers
    assert cpu_claims(before, after, [{OWN, C}]) == pytest.approx([0.7])  # a new runner: all its time
    assert cpu_claims(before, after, [{OWN}]) == pytest.approx([0.4])  # written in this process, or remotely
    assert cpu_claims(before, reading(1.5, 12.0, {OWN: 0.9}), [{OWN}]) == [0.0]  # never backwards


def test_shares_never_add_up_to_more_than_the_busy_time() -> None:
    assert cpu_shares([1.0, 0.2], busy_s=2.0) == pytest.approx([0.5, 0.1])
    skewed = cpu_shares([1.0, 0.4], busy_s=1.0)  # the kernel's counters tick separately
    assert sum(skewed) == pytest.approx(1.0) and skewed[0] == pytest.approx(2.5 * skewed[1])
    assert cpu_shares([0.0, 0.0], busy_s=0.0) == [0.0, 0.0]
    assert cpu_shares([0.3], busy_s=0.0) == [1.0]


BURN = (
    "import sys, time\n"
    "sys.stdin.readline()\n"  # burn only once told to
    "end = time.process_time() + 0.4\n"
    "while time.process_time() < end: pass\n"
    "print('burnt', flush=True)\n"
    "sys.stdin.read()\n"
)


class Stepper:
    """The sampler's clock and wait, driven by the test: each `step()` lets exactly one sample be
    taken, and the clock moves one period per sample (no wall-clock schedule)."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.now = 0.0
        self.go = threading.Semaphore(0)
        self.taken = threading.Semaphore(0)

    def clock(self) -> float:
        """The sampler's clock: one period per sample taken."""
        return self.now

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """The sampler's wait: until the test steps (True once the sampler is stopped)."""
        self.now += self.period
        self.taken.release()
        while not self.go.acquire(timeout=0.05):
            if stop.is_set():
                return True
        return stop.is_set()

    def step(self) -> None:
        """Let one sample be taken, and wait until it has been."""
        self.go.release()
        assert self.taken.acquire(timeout=10), "the sampler took no sample"


@pytest.fixture
def stepped() -> Iterator[tuple[Sampler, Stepper, ProcessGroup]]:
    """A sampler on this machine whose samples the test times, over its own process group."""
    group = ProcessGroup()
    detected = Probe.detect(cpu_tdp_watts=65.0, powercap_root=Path("/nonexistent"))
    stepper = Stepper(period=0.1)
    sampler = Sampler(Probe(detected.tdp, detected.ram, processes=group), clock=stepper.clock, wait=stepper.wait)
    sampler.start()
    assert stepper.taken.acquire(timeout=10)  # the first sample
    yield sampler, stepper, group
    sampler.stop()


def whole(probe: Probe, readings: list[Sample]) -> tuple[float, float]:
    """The machine's energy over consecutive readings, and whirr's (its processes' share of the
    CPU and RAM energy in each interval, plus the GPU's)."""
    machine = whirr = 0.0
    for before, after in zip(readings, readings[1:]):
        busy = after.cpu_busy_s - before.cpu_busy_s
        used = after.process_cpu_s - before.process_cpu_s
        share = min(used / busy, 1.0) if busy > 0 else 1.0
        for energy in probe.energy_between(before, after):
            machine += energy.joules
            whirr += energy.joules * share if energy.name in SHARED_COMPONENTS else energy.joules
    return machine, whirr


def test_two_processes_working_at_once_each_count_their_own(stepped) -> None:  # noqa: ANN001
    sampler, stepper, group = stepped
    children = [subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    try:
        for child in children:
            group.add(child.pid)
        meter = EnergyMeter(sampler)
        before = group.read()
        first = meter.start(lambda: children[0].pid)
        second = meter.start(lambda: children[1].pid)
        for child in children:
            child.stdin.write("go\n")  # type: ignore[union-attr]
            child.stdin.flush()  # type: ignore[union-attr]
        waiting = [child.stdout for child in children]
        deadline = time.monotonic() + 60
        while waiting:  # a sample every 20 ms until both have burnt their 0.4 s
            assert time.monotonic() < deadline, "the children never finished burning"
            stepper.step()
            ready, _, _ = select.select(waiting, [], [], 0.02)
            for stream in ready:
                stream.readline()  # type: ignore[union-attr]
                waiting.remove(stream)
        stepper.step()
        answers = [first.finish(1), second.finish(1)]
        after = group.read()
    finally:
        for child in children:
            child.stdin.close()  # type: ignore[union-attr]
            child.wait()
    for answer in answers:
        assert 0.38 <= answer.cpu_s < 0.6, "each answer counts its own process's 0.4 s, not the other's"
    together = answers[0].cpu_s + answers[1].cpu_s
    assert together <= after.cpu_s - before.cpu_s + 0.02, "this process's time is counted once, not twice"
    assert together >= 0.78


@pytest.fixture
def runners(starter_path: Path) -> Iterator[list[RunnerEngine]]:
    """Two runners of the starter model, loaded."""
    engines = [RunnerEngine(starter_path, f"smollm2:135m-{n}") for n in range(2)]
    for engine in engines:
        engine.load(OPTIONS)
    yield engines
    for engine in engines:
        engine.unload()


OPTIONS = Options(temperature=0.0, seed=7, num_predict=64, num_ctx=512, num_thread=1)
QUESTION = [ChatMessage("user", "Tell me a story about a lighthouse keeper.")]


@pytest.mark.model
async def test_two_real_answers_at_once_add_up_to_no_more_than_the_whole(runners: list[RunnerEngine]) -> None:
    probe = Probe.detect(cpu_tdp_watts=65.0, powercap_root=Path("/nonexistent"))
    readings: list[Sample] = []
    with Sampler(probe, hz=10) as sampler:
        meter = EnergyMeter(sampler)
        sampler.add_listener(readings.append)
        readings.append(probe.read())

        async def answer(engine: RunnerEngine) -> tuple[AnswerEnergy, float, float]:
            measurement = meter.start(lambda: engine.pid)
            began = time.monotonic()
            done = None
            async for event in engine.chat(ChatRequest(QUESTION, OPTIONS)):
                if isinstance(event, DoneEvent):
                    done = event
            assert done is not None and done.stats.eval_count > 0
            ended = time.monotonic()
            return measurement.finish(done.stats.eval_count), began, ended

        results = await asyncio.gather(*(answer(engine) for engine in runners))
        sampler.remove_listener(readings.append)
        readings.append(probe.read())
    (first, began_1, ended_1), (second, began_2, ended_2) = results
    assert began_1 < ended_2 and began_2 < ended_1, "the answers overlapped"
    for answer_energy in (first, second):
        assert answer_energy.cpu_s > 0 and answer_energy.whirr_j > 0
    machine, whirr = whole(probe, sorted(readings, key=lambda s: s.t))
    together = first.whirr_j + second.whirr_j
    assert together <= whirr * 1.05 + 0.05, f"{together:.3f} J claimed of whirr's {whirr:.3f} J"
    assert together <= machine * 1.05
    print(f"answers {first.whirr_j:.3f} J + {second.whirr_j:.3f} J = {together:.3f} J; "
          f"whirr over the whole time {whirr:.3f} J, the machine {machine:.3f} J")
