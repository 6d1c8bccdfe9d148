"""What a remote answer costs this machine per token: the Ollama engine (httpx, NDJSON) and the
OpenAI engine (the openai client, server-sent events) against a local server that streams a
fixed answer as fast as it can, next to the floor of reading the same NDJSON lines with httpx.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/remote_stream.py [--tokens 5000] [--rounds 3]

Prints tokens per second and microseconds of this process's CPU per token for each (the best
of the rounds; the stand-in server runs in the same process, so its CPU is counted too). A
remote answer must never be slowed by whirr: the exit status is 1 when an engine costs more than
LIMIT_US per token. Measured on the 2-core development machine: the Ollama engine costs about
what reading the lines costs (~25 µs/token); the OpenAI engine ~200 µs/token, nearly all of it
the openai client building a typed object per chunk — still 2,000 tokens/s, ten times what a
server streams one answer at.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tui.engine.base import ChatMessage, ChatRequest, DoneEvent, EventSink, TokenEvent
from tui.engine.remote import remote_engine
from tui.servers import Server

LIMIT_US = 500.0


def make_handler(tokens: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            openai = self.path.startswith("/v1/")
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream" if openai else "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(tokens):
                if openai:
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                             "choices": [{"index": 0, "delta": {"content": " word"}, "finish_reason": None}]}
                    self._chunk(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                else:
                    self._chunk(json.dumps({"model": "m", "message": {"role": "assistant", "content": " word"}, "done": False}).encode() + b"\n")
            if openai:
                last = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self._chunk(b"data: " + json.dumps(last).encode() + b"\n\ndata: [DONE]\n\n")
            else:
                self._chunk(json.dumps({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True,
                                        "done_reason": "stop", "eval_count": tokens}).encode() + b"\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


class Counter(EventSink):
    """Counts tokens; keeps the DoneEvent."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = 0
        self.done: DoneEvent | None = None

    def put(self, event: Any) -> None:
        if isinstance(event, TokenEvent):
            self.tokens += 1
        elif isinstance(event, DoneEvent):
            self.done = event


def measure(run: Any) -> tuple[int, float, float]:
    """(tokens, wall seconds, CPU seconds of this process) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    tokens = run()
    return tokens, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.tokens))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    request = ChatRequest([ChatMessage("user", "go")])

    def engine_run(kind: str, base: str) -> Any:
        engine = remote_engine(Server("bench", kind, base), "m")  # type: ignore[arg-type]

        def run() -> int:
            sink = Counter()
            engine.answer_here(request, sink)
            assert sink.done is not None and not sink.done.stats.error, sink.done
            return sink.tokens

        return run

    def floor() -> int:
        count = 0
        with httpx.stream("POST", url + "/api/chat", json={}) as response:
            for line in response.iter_lines():
                if line:
                    json.loads(line)
                    count += 1
        return count - 1

    ways = {"httpx NDJSON lines (floor)": floor, "Ollama engine": engine_run("ollama", url), "OpenAI engine": engine_run("openai", url + "/v1")}
    worst = 0.0
    print(f"{'':<28}{'tokens/s':>12}{'µs CPU/token':>16}")
    for name, run in ways.items():
        best = min((measure(run) for _ in range(args.rounds)), key=lambda r: r[2])
        tokens, wall, cpu = best
        per_token = cpu / tokens * 1e6
        print(f"{name:<28}{tokens / wall:>12,.0f}{per_token:>16,.1f}")
        if name != "httpx NDJSON lines (floor)":
            worst = max(worst, per_token)
    server.shutdown()
    print(f"(the server runs in this process too: its CPU is included; limit {LIMIT_US:.0f} µs/token)")
    return 0 if worst <= LIMIT_US else 1


if __name__ == "__main__":
    raise SystemExit(main())
