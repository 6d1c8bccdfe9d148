"""Which thread policy and OpenMP settings a runner should use, quiet and on a busy machine.

Each configuration is a runner process (environment x thread policy); every round runs each
configuration quiet, then with one CPU-bound busy loop per core, interleaved. Prints the median
tok/s per configuration and condition, and busy/quiet ratios.

    .venv/bin/python benchmarks/runner_threads.py [--tokens 200] [--rounds 3] [MODEL.gguf]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

from tui.engine.base import ChatMessage, ChatRequest, DoneEvent, EventSink, TokenEvent
from tui.engine.benchmark import PROMPTS, busy_loops
from tui.engine.loading import physical_cores
from tui.engine.options import Options
from tui.engine.runner.client import RunnerEngine
from tui.models.library import starter_model_path

ENVIRONMENTS = {
    "omp-default": {},
    "omp-passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "gomp-spin-1k": {"GOMP_SPINCOUNT": "1000"},
    "gomp-spin-10k": {"GOMP_SPINCOUNT": "10000"},
    "gomp-spin-100k": {"GOMP_SPINCOUNT": "100000"},
}


class _Rate(EventSink):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self.error = ""

    def put(self, event) -> None:
        if isinstance(event, TokenEvent):
            self.times.extend([time.perf_counter()] * event.tokens)
        elif isinstance(event, DoneEvent):
            self.error = event.stats.error

    def rate(self) -> float:
        gaps = [b - a for a, b in zip(self.times, self.times[1:]) if b > a]
        return 1.0 / statistics.median(gaps) if gaps else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="a .gguf file (default: the starter model)")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--envs", default=",".join(ENVIRONMENTS))
    parser.add_argument("--policies", default="auto,max,1", help="auto: the governor; max: all physical cores; N: fixed")
    args = parser.parse_args()
    model = Path(args.model) if args.model else starter_model_path()
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    configs = {}
    for env_name in args.envs.split(","):
        for policy in args.policies.split(","):
            threads = 0 if policy == "auto" else physical_cores() if policy == "max" else int(policy)
            engine = RunnerEngine(model, keep_alive=-1, env={**base, **ENVIRONMENTS[env_name]})
            options = Options(temperature=0.0, seed=42, num_ctx=1024, num_predict=args.tokens, num_thread=threads)
            engine.load(options)
            configs[f"{env_name}/{policy}"] = (engine, options)
    rates: dict[tuple[str, bool], list[float]] = {(name, b): [] for name in configs for b in (False, True)}
    messages = [ChatMessage("user", PROMPTS["prose"])]
    try:
        for round_index in range(args.rounds):
            for busy in (False, True):
                with busy_loops() if busy else contextlib.nullcontext():
                    for name, (engine, options) in configs.items():
                        sink = _Rate()
                        engine.reset_cache()
                        engine.answer_here(ChatRequest(messages, options, ignore_eos=True), sink)
                        if sink.error:
                            raise SystemExit(sink.error)
                        rates[name, busy].append(sink.rate())
                        print(f"round {round_index + 1} {'busy ' if busy else 'quiet'} {name:<24} {sink.rate():7.1f} tok/s",
                              file=sys.stderr)
    finally:
        for engine, _ in configs.values():
            engine.unload()
    print(f"{'configuration':<26}{'quiet':>8}{'busy':>8}{'busy/quiet':>12}")
    for name in configs:
        quiet, busy = statistics.median(rates[name, False]), statistics.median(rates[name, True])
        print(f"{name:<26}{quiet:>8.1f}{busy:>8.1f}{busy / quiet:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
