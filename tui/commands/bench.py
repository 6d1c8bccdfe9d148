"""`whirr bench`: tokens/s and time to first token of whirr's engine vs llama-cpp-python's paths."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from tui.commands.common import add_option_flags, load_context, options_from_flags, resolve_usable


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr bench`."""
    parser = subparsers.add_parser(
        "bench",
        help="measure tokens/s against llama-cpp-python's own paths",
        description="Generate the same tokens from the same prompt through whirr's engine, "
        "on the calling thread (as the CLI runs it) and on a worker thread (as the app runs it), "
        "llama-cpp-python's raw generate() loop and create_chat_completion(stream=True), "
        "interleaved, and print tokens/s, first/second-half rates, ratios and time to first token.",
    )
    parser.add_argument("model", nargs="?", help="model name or .gguf path (default: from config)")
    parser.add_argument("--tokens", type=int, default=256, help="tokens per run (default 256)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per path, interleaved (default 3)")
    parser.add_argument("--text", choices=("prose", "bytes"), default="prose",
                        help="prose: an English story; bytes: CJK and emoji, many partial-UTF-8 tokens")
    parser.add_argument("--prompt", help="use this prompt instead of --text's")
    parser.add_argument("--paths", default="whirr,raw-generate,chat-completion-stream",
                        help="comma-separated paths to measure, from: whirr, whirr-thread (the app's "
                        "worker thread; with an OpenMP build of llama.cpp its idle workers slow the "
                        "runs that follow, so measure it on its own), raw-generate, chat-completion-stream")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    add_option_flags(parser)
    parser.set_defaults(func=bench_command)


def bench_command(args: argparse.Namespace) -> int:
    """Run the benchmark and print the table (or JSON)."""
    from tui.commands.chat import start_meter
    from tui.engine.benchmark import PATHS, PROMPTS, benchmark
    from tui.engine.llama import LlamaEngine
    from tui.logs import setup_logging

    context = load_context()
    setup_logging(context.paths)
    paths = tuple(p.strip() for p in args.paths.split(",") if p.strip())
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise SystemExit(f"whirr bench: error: argument --paths: unknown path(s) {unknown}; choose from {list(PATHS)}")
    target = resolve_usable(context, args.model or context.config.default_model)
    entry = target.entry
    options = options_from_flags(args, target.options(context.config.options))
    if args.temperature is None:
        options = options.updated(temperature=0.0)
    if args.seed is None:
        options = options.updated(seed=42)
    if args.num_ctx is None:
        options = options.updated(num_ctx=max(options.num_ctx, args.tokens + 512))
    engine = LlamaEngine(entry.path, entry.name)

    def progress(round_index: int, run) -> None:
        if not args.json:
            print(f"  round {round_index + 1}: {run.path:<24} {run.rate():8.1f} tok/s", file=sys.stderr)

    meter = start_meter(context.config)
    results = benchmark(
        engine, options, args.tokens, args.rounds, args.prompt or PROMPTS[args.text], paths, progress, meter
    )
    by_path = {r.path: r for r in results}
    raw = by_path.get("raw-generate")
    whirr = by_path.get("whirr")
    summary = {}
    if raw and whirr:
        summary = {
            "whirr_vs_raw_rate": whirr.rate / raw.rate,
            "whirr_ttft_minus_raw_ms": whirr.ttft_ms - raw.ttft_ms,
            "whirr_second_vs_first_half": whirr.second_half_rate / whirr.first_half_rate,
        }
    stream = by_path.get("chat-completion-stream")
    if stream and whirr:
        summary["whirr_vs_chat_completion_rate"] = whirr.rate / stream.rate
    threaded = by_path.get("whirr-thread")
    if threaded and raw:
        summary["whirr_thread_vs_raw_rate"] = threaded.rate / raw.rate
    if args.json:
        print(json.dumps({"model": entry.name, "tokens": args.tokens, "rounds": args.rounds,
                          "text": "custom" if args.prompt else args.text,
                          "results": [asdict(r) for r in results], "summary": summary}, indent=2))
        return 0
    print(f"model {entry.name}, {args.tokens} tokens x {args.rounds} rounds; tok/s = 1 / median time between tokens, medians over rounds")
    print(f"{'path':<24}{'tokens':>7}{'tok/s':>9}{'1st half':>10}{'2nd half':>10}{'TTFT ms':>9}{'J/token':>9}")
    for r in results:
        joules = f"{r.joules_per_token:>9.3f}" if r.joules_per_token is not None else f"{'n/a':>9}"
        print(f"{r.path:<24}{r.tokens:>7}{r.rate:>9.1f}{r.first_half_rate:>10.1f}"
              f"{r.second_half_rate:>10.1f}{r.ttft_ms:>9.1f}{joules}")
    for key, value in summary.items():
        unit = " ms" if key.endswith("_ms") else ""
        print(f"{key}: {value:+.2f}{unit}" if unit else f"{key}: {value:.3f}")
    if stream:
        print("(chat-completion-stream counts chunks, which merge tokens held back for partial UTF-8)")
    print(f"energy (J/token, whirr's share): {results[0].energy_method}")
    return 0
