"""Measure whirr's engines against llama-cpp-python's own paths and Ollama, interleaved in one run.

The paths generate the same number of tokens from the same prompt with the same sampling
settings: through a runner process (what the app, the CLI and `whirr serve` use), whirr's
in-process engine on the calling thread and on a worker thread streaming to an event loop, the
raw `Llama.generate()` loop (the floor: no text at all), `create_chat_completion(stream=True)`
(what most clients use), and a real Ollama server when one is given. Each run starts from an
empty KV cache; rounds rotate the order. With `busy`, every path also runs with one CPU-bound
busy loop per core, interleaved with the quiet runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psutil

from tui.engine.base import ChatEvent, ChatRequest, DoneEvent, EventSink, ChatMessage, TokenEvent
from tui.engine.llama import LlamaEngine
from tui.engine.llama_runtime import sampling_arguments
from tui.engine.options import Options
from tui.engine.runner.client import RunnerEngine
from tui.meters import EnergyMeter

PROMPTS = {
    "prose": "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle.",
    "bytes": "Répondez en chinois et avec beaucoup d'emojis 🎉🌏: 写一个关于月亮和星星的很长的故事。",
}

PATHS = ("runner", "whirr", "whirr-thread", "raw-generate", "chat-completion-stream", "ollama")


@dataclass
class Run:
    """One path's measurement: when each token arrived, relative to the request."""

    path: str
    token_times: list[float] = field(default_factory=list)
    joules_per_token: float | None = None
    energy_method: str | None = None

    def arrived(self, tokens: int, at: float) -> None:
        """`tokens` tokens' text arrived at `at`; several (held back for partial UTF-8) are
        spread evenly since the previous arrival, as they were generated one by one."""
        previous = self.token_times[-1] if self.token_times else at
        self.token_times.extend(previous + (at - previous) * (i + 1) / tokens for i in range(tokens))

    @property
    def tokens(self) -> int:
        """Tokens generated."""
        return len(self.token_times)

    @property
    def ttft(self) -> float:
        """Seconds from the request to the first token."""
        return self.token_times[0] if self.token_times else float("nan")

    def rate(self, start: int = 0, end: int | None = None) -> float:
        """Tokens per second between token `start` and token `end`: one over the median time
        between tokens, which steady per-token cost decides and brief load elsewhere does not."""
        times = self.token_times[start : end if end is not None else len(self.token_times)]
        gaps = [b - a for a, b in zip(times, times[1:])]
        if not gaps:
            return float("nan")
        return 1.0 / statistics.median(gaps)


@dataclass
class PathResult:
    """Medians over rounds for one path (`busy`: with one busy loop per core running)."""

    path: str
    busy: bool
    tokens: int
    rate: float
    first_half_rate: float
    second_half_rate: float
    ttft_ms: float
    joules_per_token: float | None
    energy_method: str | None


class _TimingSink(EventSink):
    """Records when each token's text arrives, on the thread that generates it."""

    def __init__(self, run: Run, started: float) -> None:
        super().__init__()
        self.run, self.started = run, started
        self.error = ""

    def put(self, event: ChatEvent) -> None:
        if isinstance(event, TokenEvent):
            self.run.arrived(event.tokens, time.perf_counter() - self.started)
        elif isinstance(event, DoneEvent):
            self.error = event.stats.error


def _request(messages: list[ChatMessage], options: Options, n: int) -> ChatRequest:
    return ChatRequest(messages, options.updated(num_predict=n), ignore_eos=True)


def _answer_here(path: str, engine: LlamaEngine | RunnerEngine, messages: list[ChatMessage], options: Options,
                 n: int) -> Run:
    run = Run(path)
    sink = _TimingSink(run, time.perf_counter())
    engine.answer_here(_request(messages, options, n), sink)
    if sink.error:
        raise RuntimeError(sink.error)
    return run


def _whirr_thread(engine: LlamaEngine, messages: list[ChatMessage], options: Options, n: int) -> Run:
    run = Run("whirr-thread")

    async def consume() -> None:
        started = time.perf_counter()
        async for event in engine.chat(_request(messages, options, n)):
            if isinstance(event, TokenEvent):
                run.arrived(event.tokens, time.perf_counter() - started)
            elif isinstance(event, DoneEvent) and event.stats.error:
                raise RuntimeError(event.stats.error)

    asyncio.run(consume())
    return run


def _raw(engine: LlamaEngine, messages: list[ChatMessage], options: Options, n: int) -> Run:
    llm = engine.llama
    assert llm is not None
    run = Run("raw-generate")
    started = time.perf_counter()
    tokens = engine.render_prompt(messages)
    llm.set_seed(max(options.seed, 0))
    for token in llm.generate(tokens, **sampling_arguments(options)):
        run.token_times.append(time.perf_counter() - started)
        if run.tokens >= n:
            break
    return run


def _chat_completion(engine: LlamaEngine, messages: list[ChatMessage], options: Options, n: int) -> Run:
    llm = engine.llama
    assert llm is not None
    run = Run("chat-completion-stream")
    never_end = {llm.token_eos(): -1e9}  # generate exactly n tokens, like the other paths
    sampling = sampling_arguments(options)
    sampling["temperature"] = sampling.pop("temp")
    started = time.perf_counter()
    chunks = llm.create_chat_completion(
        [{"role": m.role, "content": m.content} for m in messages],
        stream=True,
        max_tokens=n,
        seed=max(options.seed, 0),
        logit_bias=never_end,
        **sampling,
    )
    for chunk in chunks:
        if chunk["choices"][0]["delta"].get("content"):
            run.token_times.append(time.perf_counter() - started)
    # This path yields a chunk per token except where it holds back partial UTF-8; its
    # "tokens" are chunks, so its rate undercounts on byte-heavy text (noted in the output).
    return run


def ollama_run(url: str, model: str, messages: list[ChatMessage], options: Options, n: int) -> Run:
    """One streamed answer from an Ollama server's /api/chat: its chunks' arrival times (Ollama
    sends a chunk per token). It may stop before `n` tokens: Ollama cannot ignore end of turn."""
    run = Run("ollama")
    body = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "stream": True,
        "options": {"temperature": options.temperature, "seed": max(options.seed, 0), "num_predict": n,
                    "num_ctx": options.num_ctx, "top_k": options.top_k, "top_p": options.top_p},
    }
    request = urllib.request.Request(f"{url.rstrip('/')}/api/chat", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        for line in response:
            chunk = json.loads(line)
            if chunk.get("message", {}).get("content"):
                run.token_times.append(time.perf_counter() - started)
            if chunk.get("done"):
                break
    return run


@dataclass
class Engines:
    """What the paths run on: the in-process engine, a runner, an Ollama server (URL, model)."""

    local: LlamaEngine
    runner: RunnerEngine | None = None
    ollama: tuple[str, str] | None = None

    def measure(self, path: str, messages: list[ChatMessage], options: Options, n: int) -> Run:
        """One run of `path` from an empty KV cache."""
        if path == "ollama":
            assert self.ollama is not None, "the ollama path needs a server URL and model"
            return ollama_run(*self.ollama, messages, options, n)
        if path == "runner":
            assert self.runner is not None, "the runner path needs a RunnerEngine"
            self.runner.reset_cache()
            return _answer_here(path, self.runner, messages, options, n)
        self.local.reset_cache()
        if path == "whirr":
            return _answer_here(path, self.local, messages, options, n)
        return MEASURES[path](self.local, messages, options, n)


MEASURES: dict[str, Callable[[LlamaEngine, list[ChatMessage], Options, int], Run]] = {
    "whirr-thread": _whirr_thread,
    "raw-generate": _raw,
    "chat-completion-stream": _chat_completion,
}


@contextlib.contextmanager
def busy_loops(count: int | None = None) -> Iterator[None]:
    """Keep `count` CPU-bound processes running (default: one per logical core)."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(count if count is not None else psutil.cpu_count() or 1)]
    try:
        time.sleep(0.3)  # let them start spinning
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def benchmark(
    engines: Engines,
    options: Options,
    tokens: int,
    rounds: int,
    prompt: str,
    paths: tuple[str, ...] = PATHS,
    on_run: Callable[[int, Run, bool], None] | None = None,
    meter: EnergyMeter | None = None,
    busy: bool = False,
) -> list[PathResult]:
    """Run every path `rounds` times, interleaved, and return the medians per path (and per
    condition: with `busy`, each round runs every path quiet, then under one busy loop per core).

    With a `meter`, each run's energy per token (whirr's share) is measured too.
    """
    if any(p not in ("runner", "ollama") for p in paths):
        engines.local.load(options)
    if engines.runner is not None and "runner" in paths:
        engines.runner.load(options)
    messages = [ChatMessage("user", prompt)]
    conditions = (False, True) if busy else (False,)
    runs: dict[tuple[str, bool], list[Run]] = {(p, b): [] for b in conditions for p in paths}
    for round_index in range(rounds):
        order = paths[round_index % len(paths) :] + paths[: round_index % len(paths)]
        for condition in conditions:
            with busy_loops() if condition else contextlib.nullcontext():
                for path in order:
                    runner = engines.runner if path == "runner" else None
                    measurement = meter.start(lambda: runner.pid if runner else None) if meter is not None else None
                    run = engines.measure(path, messages, options, tokens)
                    if measurement is not None:
                        energy = measurement.finish(run.tokens)
                        run.joules_per_token, run.energy_method = energy.j_per_token, energy.method
                    runs[path, condition].append(run)
                    if on_run is not None:
                        on_run(round_index, run, condition)
    results = []
    for (path, condition), path_runs in runs.items():
        half = tokens // 2
        results.append(
            PathResult(
                path=path,
                busy=condition,
                tokens=round(statistics.median(r.tokens for r in path_runs)),
                rate=statistics.median(r.rate() for r in path_runs),
                first_half_rate=statistics.median(r.rate(0, half) for r in path_runs),
                second_half_rate=statistics.median(r.rate(half - 1) for r in path_runs),
                ttft_ms=statistics.median(r.ttft for r in path_runs) * 1000,
                joules_per_token=_median_or_none([r.joules_per_token for r in path_runs]),
                energy_method=path_runs[0].energy_method,
            )
        )
    return results


def _median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None
