"""`whirr serve` benchmark: the API against `whirr run`, /api/tags with many models, many clients
across two models, and llama-cpp-python's own server side by side (when its extra is installed).

    .venv/bin/python benchmarks/serve.py                    # every part, small settings
    .venv/bin/python benchmarks/serve.py rate tags           # some parts
    .venv/bin/python benchmarks/serve.py --tokens 200 --rounds 5 --duration 300   # the issue's floors

rate     Eval rate (tokens/s, from the final chunk's eval_count/eval_duration) and time to first
         token (client side, request sent to first token read; the model already loaded) through
         /api/chat, against `whirr run --verbose` on the same prompt and options (its time to
         first token less its load duration), rounds interleaved.
tags     /api/tags p50/p99 over --requests calls with --models models in the library.
load     --clients clients streaming /api/chat at once across two models for --duration
         seconds: errors, incomplete answers, and the server's RSS sampled every second.
llama    whirr's /v1/chat/completions against `python -m llama_cpp.server` on the same model and
         prompt, rounds interleaved: tokens/s (chunks after the first over the time between the
         first and the last) and time to first token, both measured by the client.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tui.models.library import starter_model_path  # noqa: E402

PROMPT = "Write a short story about a lighthouse keeper."
ORDER_SLACK_S = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "WHIRR_HOME": str(home), "OLLAMA_MODELS": str(home / "none"), "LMSTUDIO_MODELS": str(home / "none"),
            "HF_HUB_CACHE": str(home / "none"), "WHIRR_HOST": ""}


def wait_up(url: str, process: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"{what} did not start in {timeout:.0f} s") from None
            time.sleep(0.1)


class Server:
    """`whirr serve` on a free port with its own WHIRR_HOME."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--port", str(self.port)], env=environment(home),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_up(self.url + "/", self.process, "whirr serve")

    def stop(self) -> None:
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def options(args: argparse.Namespace) -> dict:
    return {"temperature": 0, "seed": 1, "num_predict": args.tokens, "num_ctx": 2048, "num_thread": args.threads}


def api_chat(url: str, model: str, opts: dict, prompt: str = PROMPT) -> tuple[float, float, int, bool]:
    """(eval rate, client TTFT seconds, tokens, complete) of one streamed /api/chat."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "options": opts}
    sent = time.perf_counter()
    first = None
    final: dict = {}
    with httpx.stream("POST", url + "/api/chat", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if not line:
                continue
            chunk = json.loads(line)
            if first is None and chunk.get("message", {}).get("content"):
                first = time.perf_counter() - sent
            if chunk.get("done"):
                final = chunk
    rate = final.get("eval_count", 0) / (final["eval_duration"] / 1e9) if final.get("eval_duration") else 0.0
    return rate, first or 0.0, final.get("eval_count", 0), bool(final.get("done"))


def seconds(text: str, label: str) -> float:
    """A duration `whirr run --verbose` printed (1.2s, 12.3ms, 120µs)."""
    found = re.search(label + r":\s+([\d.]+)(ms|s|µs)", text)
    return float(found.group(1)) * {"s": 1.0, "ms": 1e-3, "µs": 1e-6}[found.group(2)]


def whirr_run(home: Path, model: str, args: argparse.Namespace, prompt: str = PROMPT) -> tuple[float, float]:
    """(eval rate, TTFT seconds without the model's load) that `whirr run --verbose` reports."""
    result = subprocess.run(
        [sys.executable, "-m", "tui", "run", model, prompt, "--verbose", "--temperature", "0", "--seed", "1",
         "--num-predict", str(args.tokens), "--num-ctx", "2048", "--threads", str(args.threads)],
        env=environment(home), capture_output=True, text=True, timeout=600,
    )
    rate = float(re.search(r"eval rate:\s+([\d.]+)", result.stderr.split("prompt eval rate")[-1]).group(1))
    return rate, seconds(result.stderr, "time to first token") - seconds(result.stderr, "load duration")


def bench_rate(args: argparse.Namespace, home: Path) -> dict:
    server = Server(home)
    try:
        api_chat(server.url, args.model, options(args))  # load
        api_rates, api_ttft, run_rates, run_ttft = [], [], [], []
        for round_ in range(args.rounds):
            # A new opening word each round: the server's KV cache keeps only the chat
            # template's shared prefix, as it would for a new conversation.
            prompt = f"Round {round_ + 1}: {PROMPT}"
            rate, ttft, _tokens, _ok = api_chat(server.url, args.model, options(args), prompt)
            api_rates.append(rate)
            api_ttft.append(ttft)
            rate, ttft = whirr_run(home, args.model, args, prompt)
            run_rates.append(rate)
            run_ttft.append(ttft)
    finally:
        server.stop()
    result = {
        "api_eval_rate": statistics.median(api_rates), "run_eval_rate": statistics.median(run_rates),
        "api_ttft_ms": statistics.median(api_ttft) * 1000, "run_ttft_ms": statistics.median(run_ttft) * 1000,
    }
    result["rate_ratio"] = result["api_eval_rate"] / result["run_eval_rate"]
    print(f"rate   /api/chat {result['api_eval_rate']:.1f} tok/s, TTFT {result['api_ttft_ms']:.1f} ms (client side); "
          f"whirr run {result['run_eval_rate']:.1f} tok/s, TTFT {result['run_ttft_ms']:.1f} ms; ratio {result['rate_ratio']:.3f}")
    return result


def bench_tags(args: argparse.Namespace, home: Path) -> dict:
    starter = starter_model_path()
    folder = home / "data" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(args.models - 1):
        target = folder / f"bench-model-{index:02d}.Q4_1.gguf"
        if not target.exists():
            os.link(starter, target)
    server = Server(home)
    try:
        with httpx.Client(base_url=server.url, timeout=300) as client:
            count = len(client.get("/api/tags").json()["models"])
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                client.get("/api/tags").raise_for_status()
                times.append(time.perf_counter() - started)
    finally:
        server.stop()
    times.sort()
    result = {"models": count, "p50_ms": times[len(times) // 2] * 1000, "p99_ms": times[int(len(times) * 0.99) - 1] * 1000}
    print(f"tags   {count} models, {args.requests} requests: p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms")
    return result


def bench_load(args: argparse.Namespace, home: Path) -> dict:
    starter = starter_model_path()
    second = home / "data" / "models" / "second-model.Q4_1.gguf"
    second.parent.mkdir(parents=True, exist_ok=True)
    if not second.exists():
        os.link(starter, second)
    models = ["smollm2:135m", "second-model:q4_1"]
    server = Server(home)
    process = psutil.Process(server.process.pid)
    rss: list[int] = []
    counts = {"answers": 0, "errors": 0, "incomplete": 0}
    lock = threading.Lock()
    stop = time.monotonic() + args.duration
    opts = {**options(args), "num_predict": min(args.tokens, 32)}

    timings: dict[str, list[tuple[float, float]]] = {m: [] for m in models}

    def client(index: int) -> None:
        model = models[index % 2]
        while time.monotonic() < stop:
            sent = time.monotonic()
            try:
                _rate, _ttft, _tokens, complete = api_chat(server.url, model, opts)
                key = "answers" if complete else "incomplete"
            except httpx.HTTPError:
                key = "errors"
            with lock:
                counts[key] += 1
                timings[model].append((sent, time.monotonic()))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        rss.append(sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]))
        time.sleep(1)
    server.stop()
    warm = rss[len(rss) // 4:] or rss
    # Arrival order: among one model's requests, one sent later never finishes first. Requests
    # sent less than ORDER_SLACK_S apart are not compared: a loaded machine can delay a client
    # thread between taking the time and the request reaching the server.
    out_of_order = sum(
        1 for pairs in timings.values() for (s1, d1), (s2, d2) in zip(sorted(pairs), sorted(pairs)[1:])
        if d2 < d1 and s2 > s1 + ORDER_SLACK_S
    )
    counts["out_of_order"] = out_of_order
    result = {**counts, "rss_start_mb": rss[0] / 1e6, "rss_after_warmup_mb": warm[0] / 1e6, "rss_end_mb": rss[-1] / 1e6,
              "rss_max_mb": max(rss) / 1e6}
    print(f"load   {args.clients} clients x 2 models, {args.duration:.0f} s: {counts['answers']} answers, {counts['errors']} errors, "
          f"{counts['incomplete']} incomplete, {out_of_order} out of arrival order; RSS {result['rss_after_warmup_mb']:.0f} MB after warm-up -> {result['rss_end_mb']:.0f} MB "
          f"(max {result['rss_max_mb']:.0f} MB)")
    return result


def openai_stream(url: str, model: str, args: argparse.Namespace) -> tuple[float, float]:
    """(tokens/s after the first token, TTFT seconds) of one streamed chat completion."""
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "stream": True, "temperature": 0, "seed": 1,
            "max_tokens": args.tokens}
    sent = time.perf_counter()
    stamps = []
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and '"content":' in line and '"content":""' not in line:
                stamps.append(time.perf_counter())
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return rate, (stamps[0] - sent) if stamps else 0.0


def bench_llama(args: argparse.Namespace, home: Path) -> dict | None:
    if importlib.util.find_spec("llama_cpp.server") is None or importlib.util.find_spec("fastapi") is None:
        print("llama  skipped: llama-cpp-python's server extra is not installed (pip install 'llama-cpp-python[server]')")
        return None
    starter = starter_model_path()
    port = free_port()
    argv = ["llama_cpp.server", "--model", str(starter), "--port", str(port), "--n_ctx", "2048",
            "--n_threads", str(args.threads or psutil.cpu_count(logical=False) or 1)]
    # The same loading defaults as whirr's (no AMX buffer types where this machine faults on them).
    code = ("import runpy, sys\nfrom tui.engine.llama_runtime import machine_safe_defaults\n"
            f"sys.argv = {argv!r}\nwith machine_safe_defaults():\n    runpy.run_module('llama_cpp.server', run_name='__main__')")
    other = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(home)
    llama_url = f"http://127.0.0.1:{port}"
    try:
        wait_up(llama_url + "/v1/models", other, "llama_cpp.server")
        openai_stream(server.url, args.model, args)
        openai_stream(llama_url, "x", args)
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(openai_stream(server.url, args.model, args))
            theirs.append(openai_stream(llama_url, "x", args))
    finally:
        server.stop()
        other.terminate()
        other.wait(timeout=20)
    result = {"whirr_tok_s": statistics.median(r for r, _ in ours), "whirr_ttft_ms": statistics.median(t for _, t in ours) * 1000,
              "llama_tok_s": statistics.median(r for r, _ in theirs), "llama_ttft_ms": statistics.median(t for _, t in theirs) * 1000}
    print(f"llama  whirr {result['whirr_tok_s']:.1f} tok/s, TTFT {result['whirr_ttft_ms']:.1f} ms; "
          f"llama_cpp.server {result['llama_tok_s']:.1f} tok/s, TTFT {result['llama_ttft_ms']:.1f} ms")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", choices=["rate", "tags", "load", "llama", []], default=[])
    parser.add_argument("--model", default="smollm2:135m")
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="num_thread for every answer (0: physical cores)")
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = parser.parse_args()
    parts = args.parts or ["rate", "tags", "load", "llama"]
    figures = {}
    for part in parts:
        with tempfile.TemporaryDirectory(prefix="whirr-serve-bench-") as home:
            figures[part] = globals()[f"bench_{part}"](args, Path(home))
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
