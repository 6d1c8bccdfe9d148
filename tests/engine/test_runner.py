"""The runner process with the real starter model: answers, cancels (also during a long
prompt), KV reuse, threads under a busy machine, a runner killed mid-answer, the parent killed,
keep_alive, the registry, and the pipe's throughput."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.runnerkit import gone_within
from tui.engine.base import ChatMessage, ChatRequest, DoneEvent, StatusEvent, TokenEvent
from tui.engine.llama import LlamaEngine
from tui.engine.loading import physical_cores
from tui.engine.options import Options
from tui.engine.runner.client import RunnerEngine
from tui.engine.runner.registry import loaded_models
from tui.meters.processes import WHIRR_PROCESSES

pytestmark = pytest.mark.model

GREEDY = Options(temperature=0.0, seed=7, num_predict=24, num_ctx=1024)
QUESTION = [ChatMessage("user", "What is the capital of France?")]
LONG = Options(temperature=0.0, seed=7, num_predict=2000, num_ctx=2048)


@pytest.fixture
def runner(starter_path: Path, tmp_path: Path):
    engine = RunnerEngine(starter_path, "smollm2:135m", model_id="abc", registry=tmp_path / "runners")
    yield engine
    engine.unload()


async def collect(engine: RunnerEngine, request: ChatRequest, stop_after: int | None = None,
                  on_event=None) -> tuple[list, DoneEvent]:
    events = []
    stream = engine.chat(request)
    async for event in stream:
        events.append(event)
        if on_event is not None:
            on_event(event, stream)
        if stop_after is not None and sum(isinstance(e, TokenEvent) for e in events) == stop_after:
            stream.cancel()
    assert isinstance(events[-1], DoneEvent)
    return events, events[-1]


async def test_answers_like_the_in_process_engine(runner: RunnerEngine, starter_path: Path) -> None:
    events, done = await collect(runner, ChatRequest(QUESTION, GREEDY))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert "".join(t.text for t in tokens) == done.text
    assert sum(t.tokens for t in tokens) == done.stats.eval_count == 24
    assert done.stats.finish_reason == "length" and done.stats.load_duration > 0
    assert any(isinstance(e, StatusEvent) and e.state == "loading" and e.percent == 100 for e in events)
    in_process = LlamaEngine(starter_path, "smollm2:135m")
    try:
        expected = (await collect(in_process, ChatRequest(QUESTION, GREEDY)))[1].text  # type: ignore[arg-type]
    finally:
        in_process.unload()
    assert done.text == expected
    assert runner.loaded and runner.pid in WHIRR_PROCESSES.pids
    assert runner.count_tokens(QUESTION, GREEDY) == done.stats.prompt_eval_count


async def test_cancel_mid_answer_keeps_the_runner(runner: RunnerEngine) -> None:
    await asyncio.to_thread(runner.load, LONG)
    pid = runner.pid
    request = ChatRequest([ChatMessage("user", "Tell me a very long story.")], LONG, ignore_eos=True)
    events, done = await collect(runner, request, stop_after=3)
    assert done.stats.finish_reason == "cancelled"
    assert 3 <= done.stats.eval_count <= 5  # within a token or two of the cancel
    assert done.text.startswith("".join(e.text for e in events if isinstance(e, TokenEvent))[:5])
    assert runner.pid == pid
    _, again = await collect(runner, ChatRequest(QUESTION, GREEDY))
    assert again.stats.finish_reason == "length"


async def test_cancel_during_a_long_prompt(runner: RunnerEngine) -> None:
    wide = Options(temperature=0.0, seed=7, num_predict=1, num_ctx=4096)
    await asyncio.to_thread(runner.load, wide)
    pid = runner.pid
    prompt = "Here is a list of words: " + " ".join(f"word{i}" for i in range(900)) + ". Repeat them."
    cancelled_at = []

    def cancel_on_prompt(event, stream) -> None:
        if isinstance(event, StatusEvent) and event.state == "prompt":
            cancelled_at.append(time.perf_counter())
            stream.cancel()

    _, done = await collect(runner, ChatRequest([ChatMessage("user", prompt)], wide), on_event=cancel_on_prompt)
    assert cancelled_at, done.stats.error
    stopped_after = time.perf_counter() - cancelled_at[0]
    assert done.stats.finish_reason == "cancelled" and done.stats.eval_count == 0
    assert runner.pid == pid  # the abort callback stopped it, not a kill
    _, full = await collect(runner, ChatRequest([ChatMessage("user", prompt)], wide))
    assert full.stats.prompt_eval_count > 2000 and full.stats.prompt_cached_count < 100
    assert stopped_after < min(0.5, full.stats.prompt_eval_duration / 2)


async def test_second_turn_reuses_the_kv_cache(runner: RunnerEngine) -> None:
    _, first = await collect(runner, ChatRequest(QUESTION, GREEDY, conversation_id="a"))
    history = [*QUESTION, ChatMessage("assistant", first.text), ChatMessage("user", "And of Spain?")]
    _, second = await collect(runner, ChatRequest(history, GREEDY, conversation_id="a"))
    assert second.stats.prompt_cached_count >= first.stats.prompt_eval_count
    assert second.stats.prompt_eval_count < second.stats.prompt_cached_count


@pytest.mark.skipif(physical_cores() < 2, reason="needs two cores to have a thread to give up")
async def test_threads_drop_under_a_busy_machine(runner: RunnerEngine) -> None:
    await asyncio.to_thread(runner.load, LONG)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(psutil.cpu_count() or 2)]
    try:
        request = ChatRequest([ChatMessage("user", "Tell me a story.")], LONG.updated(num_predict=120), ignore_eos=True)
        _, done = await collect(runner, request)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    assert done.stats.finish_reason == "length"
    drops = [threads for threads, why in runner.runner_info()["thread_changes"] if "other programs use" in why]
    assert drops and min(drops) < physical_cores()


async def test_a_runner_killed_mid_answer_keeps_the_partial_answer(runner: RunnerEngine) -> None:
    await asyncio.to_thread(runner.load, LONG)
    pid = runner.pid
    assert pid is not None
    request = ChatRequest([ChatMessage("user", "Tell me a very long story.")], LONG, ignore_eos=True)

    def kill_after_tokens(event, _stream) -> None:
        if isinstance(event, TokenEvent) and not kill_after_tokens.done:
            kill_after_tokens.done = True
            os.kill(pid, signal.SIGKILL)

    kill_after_tokens.done = False
    events, done = await collect(runner, request, on_event=kill_after_tokens)
    shown = "".join(e.text for e in events if isinstance(e, TokenEvent))
    assert done.stats.finish_reason == "error"
    assert done.stats.error == "the model process stopped: signal 9"
    assert done.text == shown and shown
    assert not runner.loaded
    _, again = await collect(runner, ChatRequest(QUESTION, GREEDY))
    assert again.stats.finish_reason == "length" and runner.pid not in (None, pid)


def test_runners_die_with_their_parent_even_by_kill_9(starter_path: Path, tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from tui.engine.options import Options
            from tui.engine.runner.client import RunnerEngine
            engine = RunnerEngine({str(starter_path)!r})
            engine.load(Options(num_ctx=256))
            print(engine.pid, flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        runner_pid = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert psutil.pid_exists(runner_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert gone_within(runner_pid, 2.0)
    finally:
        parent.kill()


async def test_keep_alive_zero_unloads_after_the_answer(runner: RunnerEngine, tmp_path: Path) -> None:
    _, done = await collect(runner, ChatRequest(QUESTION, GREEDY, keep_alive=-1))
    pid = runner.pid
    [entry] = loaded_models(tmp_path / "runners")
    assert (entry.name, entry.model_id, entry.until, entry.context) == ("smollm2:135m", "abc", None, 1024)
    await collect(runner, ChatRequest(QUESTION, GREEDY, keep_alive=0))
    assert pid is not None and gone_within(pid, 2.0)  # the runner exits once the answer is out
    deadline = time.monotonic() + 2.0
    while runner.loaded:
        assert time.monotonic() < deadline, "the client still counts the model as loaded"
        await asyncio.sleep(0.01)
    assert loaded_models(tmp_path / "runners") == []


def test_keep_alive_expires(starter_path: Path, tmp_path: Path) -> None:
    engine = RunnerEngine(starter_path, registry=tmp_path, keep_alive=0.5)
    engine.load(Options(num_ctx=256))
    pid = engine.pid
    [entry] = loaded_models(tmp_path)
    assert entry.until is not None and entry.until - time.time() < 1
    assert pid is not None and gone_within(pid, 3.0) and not engine.loaded


def test_unload_ends_the_runner(runner: RunnerEngine) -> None:
    runner.load(Options(num_ctx=256))
    pid = runner.pid
    assert pid is not None
    runner.unload()
    assert gone_within(pid, 2.0) and runner.pid is None


def test_the_pipe_carries_20000_tokens_a_second(runner: RunnerEngine) -> None:
    rates = [runner.pipe_rate(20_000) for _ in range(3)]
    assert max(rates) >= 20_000, rates


async def test_a_runner_that_ignores_a_cancel_is_killed_and_replaced(runner: RunnerEngine) -> None:
    await asyncio.to_thread(runner.load, LONG)
    pid = runner.pid
    assert pid is not None
    request = ChatRequest([ChatMessage("user", "Tell me a very long story.")], LONG, ignore_eos=True)
    cancelled_at = []

    def freeze_then_cancel(event, stream) -> None:
        if isinstance(event, TokenEvent) and not cancelled_at:
            os.kill(pid, signal.SIGSTOP)  # a runner stuck in llama.cpp: it cannot hear the cancel
            cancelled_at.append(time.monotonic())
            stream.cancel()

    events, done = await collect(runner, request, on_event=freeze_then_cancel)
    waited = time.monotonic() - cancelled_at[0]
    assert done.stats.finish_reason == "cancelled"
    assert done.text == "".join(e.text for e in events if isinstance(e, TokenEvent)) and done.text
    assert 2.0 <= waited < 3.5 and gone_within(pid, 1.0)
    _, again = await collect(runner, ChatRequest(QUESTION, GREEDY))
    assert again.stats.finish_reason == "length" and runner.pid not in (None, pid)
