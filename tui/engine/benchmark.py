"""Measure whirr's engine against llama-cpp-python's own paths, interleaved in one run.

The paths generate the same number of tokens from the same prompt with the same sampling
settings on one loaded model: whirr's engine on the calling thread (what the CLI does),
whirr's engine on a worker thread streaming to an event loop (what the app does), the raw
`Llama.generate()` loop (the floor: no text at all), and `create_chat_completion(stream=True)`
(what most clients use). Each run starts from an empty KV cache; rounds rotate the order.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tui.engine.base import ChatEvent, ChatRequest, DoneEvent, EventSink, ChatMessage, TokenEvent
from tui.engine.llama import LlamaEngine
from tui.engine.llama_runtime import sampling_arguments
from tui.engine.options import Options
from tui.meters import EnergyMeter

PROMPTS = {
    "prose": "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle.",
    "bytes": "Répondez en chinois et avec beaucoup d'emojis 🎉🌏: 写一个关于月亮和星星的很长的故事。",
}

PATHS = ("whirr", "whirr-thread", "raw-generate", "chat-completion-stream")


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
    """Medians over rounds for one path."""

    path: str
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


def _whirr(engine: LlamaEngine, messages: list[ChatMessage], options: Options, n: int) -> Run:
    run = Run("whirr")
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


MEASURES: dict[str, Callable[[LlamaEngine, list[ChatMessage], Options, int], Run]] = {
    "whirr": _whirr,
    "whirr-thread": _whirr_thread,
    "raw-generate": _raw,
    "chat-completion-stream": _chat_completion,
}


def benchmark(
    engine: LlamaEngine,
    options: Options,
    tokens: int,
    rounds: int,
    prompt: str,
    paths: tuple[str, ...] = PATHS,
    on_run: Callable[[int, Run], None] | None = None,
    meter: EnergyMeter | None = None,
) -> list[PathResult]:
    """Run every path `rounds` times, interleaved, and return the medians per path.

    With a `meter`, each run's energy per token (whirr's share) is measured too.
    """
    engine.load(options)
    messages = [ChatMessage("user", prompt)]
    runs: dict[str, list[Run]] = {path: [] for path in paths}
    for round_index in range(rounds):
        order = paths[round_index % len(paths) :] + paths[: round_index % len(paths)]
        for path in order:
            engine.reset_cache()
            measurement = meter.start() if meter is not None else None
            run = MEASURES[path](engine, messages, options, tokens)
            if measurement is not None:
                energy = measurement.finish(run.tokens)
                run.joules_per_token, run.energy_method = energy.j_per_token, energy.method
            runs[path].append(run)
            if on_run is not None:
                on_run(round_index, run)
    results = []
    for path, path_runs in runs.items():
        half = tokens // 2
        results.append(
            PathResult(
                path=path,
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
