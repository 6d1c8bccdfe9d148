"""`whirr bench`: tokens/s and time to first token through a runner, in process, through
llama-cpp-python's own paths and a real Ollama server; quiet and on a busy machine."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from tui.commands.common import CommandError, add_option_flags, load_context, options_from_flags, resolve_usable


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr bench`."""
    parser = subparsers.add_parser(
        "bench",
        help="measure tokens/s: runner, in-process, llama-cpp-python's paths, Ollama",
        description="Generate the same tokens from the same prompt through a runner process (as the app "
        "and `whirr run` do), whirr's in-process engine on the calling thread and on a worker thread, "
        "llama-cpp-python's raw generate() loop and create_chat_completion(stream=True), and a real "
        "Ollama server with --ollama, interleaved; print tokens/s, first/second-half rates, ratios, time "
        "to first token, the pipe's synthetic token rate, and with --busy the rates under one busy loop per core.",
    )
    parser.add_argument("model", nargs="?", help="model name or .gguf path (default: from config)")
    parser.add_argument("--tokens", type=int, default=256, help="tokens per run (default 256)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per path, interleaved (default 3)")
    parser.add_argument("--text", choices=("prose", "bytes"), default="prose",
                        help="prose: an English story; bytes: CJK and emoji, many partial-UTF-8 tokens")
    parser.add_argument("--prompt", help="use this prompt instead of --text's")
    parser.add_argument("--paths", default="runner,whirr,raw-generate",
                        help="comma-separated paths to measure, from: runner (a runner process, what whirr "
                        "uses), whirr (in process, main thread: the baseline), whirr-thread (in process, "
                        "a worker thread; with an OpenMP build of llama.cpp its idle workers slow the runs "
                        "that follow, so measure it on its own), raw-generate, chat-completion-stream, "
                        "ollama (added by --ollama)")
    parser.add_argument("--busy", action="store_true",
                        help="also run every path with one CPU-bound busy loop per core, interleaved")
    parser.add_argument("--pipe", type=int, default=50_000, metavar="N",
                        help="synthetic tokens sent through a runner's pipe to measure it (0: skip; default 50000)")
    parser.add_argument("--ollama", metavar="URL", help="also measure an Ollama server (e.g. http://127.0.0.1:11434)")
    parser.add_argument("--ollama-model", default="smol", help="the model's name on that server (default smol)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    add_option_flags(parser)
    parser.set_defaults(func=bench_command)


def bench_command(args: argparse.Namespace) -> int:
    """Run the benchmark and print the table (or JSON)."""
    from tui.commands.chat import start_meter
    from tui.engine.benchmark import PATHS, PROMPTS, Engines, benchmark
    from tui.engine.llama import LlamaEngine
    from tui.engine.runner.client import RunnerEngine
    from tui.logs import setup_logging

    context = load_context()
    setup_logging(context.paths)
    paths = tuple(p.strip() for p in args.paths.split(",") if p.strip())
    if args.ollama and "ollama" not in paths:
        paths += ("ollama",)
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise SystemExit(f"whirr bench: error: argument --paths: unknown path(s) {unknown}; choose from {list(PATHS)}")
    if "ollama" in paths and not args.ollama:
        raise CommandError("the ollama path needs --ollama URL")
    target = resolve_usable(context, args.model or context.config.default_model)
    entry = target.entry
    options = options_from_flags(args, target.options(context.config.options))
    if args.temperature is None:
        options = options.updated(temperature=0.0)
    if args.seed is None:
        options = options.updated(seed=42)
    if args.num_ctx is None:
        options = options.updated(num_ctx=max(options.num_ctx, args.tokens + 512))
    runner = RunnerEngine(entry.path, entry.name, keep_alive=-1)
    engines = Engines(LlamaEngine(entry.path, entry.name), runner,
                      (args.ollama, args.ollama_model) if args.ollama else None)

    def progress(round_index: int, run, busy: bool) -> None:
        if not args.json:
            condition = "busy" if busy else "quiet"
            print(f"  round {round_index + 1}: {run.path:<24}{condition:<6}{run.rate():8.1f} tok/s", file=sys.stderr)

    try:
        pipe_rate = max(runner.pipe_rate(args.pipe) for _ in range(3)) if args.pipe else None
        meter = start_meter(context.config)
        results = benchmark(engines, options, args.tokens, args.rounds, args.prompt or PROMPTS[args.text], paths,
                            progress, meter, busy=args.busy)
    finally:
        runner.unload()
    summary = _summary(results)
    if pipe_rate is not None:
        summary["pipe_synthetic_tokens_per_s"] = pipe_rate
    if args.json:
        print(json.dumps({"model": entry.name, "tokens": args.tokens, "rounds": args.rounds,
                          "text": "custom" if args.prompt else args.text,
                          "results": [asdict(r) for r in results], "summary": summary}, indent=2))
        return 0
    print(f"model {entry.name}, {args.tokens} tokens x {args.rounds} rounds; tok/s = 1 / median time between tokens, medians over rounds")
    print(f"{'path':<24}{'load':<7}{'tokens':>7}{'tok/s':>9}{'1st half':>10}{'2nd half':>10}{'TTFT ms':>9}{'J/token':>9}")
    for r in results:
        joules = f"{r.joules_per_token:>9.3f}" if r.joules_per_token is not None else f"{'n/a':>9}"
        print(f"{r.path:<24}{'busy' if r.busy else 'quiet':<7}{r.tokens:>7}{r.rate:>9.1f}{r.first_half_rate:>10.1f}"
              f"{r.second_half_rate:>10.1f}{r.ttft_ms:>9.1f}{joules}")
    for key, value in summary.items():
        if key.endswith("_ms"):
            print(f"{key}: {value:+.2f} ms")
        elif key.endswith("_per_s"):
            print(f"{key}: {value:,.0f}")
        else:
            print(f"{key}: {value:.3f}")
    if "chat-completion-stream" in paths:
        print("(chat-completion-stream counts chunks, which merge tokens held back for partial UTF-8)")
    if "ollama" in paths:
        print("(ollama stops at its end of turn: it cannot ignore EOS, so it may generate fewer tokens)")
    print(f"energy (J/token, whirr's share): {results[0].energy_method}")
    return 0


def _summary(results: list) -> dict[str, float]:
    """Ratios between paths (quiet), and each path's busy rate over its quiet rate."""
    quiet = {r.path: r for r in results if not r.busy}
    busy = {r.path: r for r in results if r.busy}
    summary: dict[str, float] = {}
    pairs = [("runner", "whirr"), ("whirr", "raw-generate"), ("runner", "ollama"), ("whirr-thread", "raw-generate"),
             ("whirr", "chat-completion-stream")]
    for a, b in pairs:
        if a in quiet and b in quiet:
            key = b.replace("-", "_")
            summary[f"{a.replace('-', '_')}_vs_{key}_rate"] = quiet[a].rate / quiet[b].rate
            summary[f"{a.replace('-', '_')}_ttft_minus_{key}_ms"] = quiet[a].ttft_ms - quiet[b].ttft_ms
    if "whirr" in quiet:
        summary["whirr_second_vs_first_half"] = quiet["whirr"].second_half_rate / quiet["whirr"].first_half_rate
    for path, result in busy.items():
        summary[f"{path.replace('-', '_')}_busy_vs_quiet_rate"] = result.rate / quiet[path].rate
    return summary
