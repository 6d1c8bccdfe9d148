"""Bad input and rude clients against a real `whirr serve` with the real starter model: each gets
a JSON error or a clean cancel, requests for one model are answered in arrival order, and the
server keeps serving."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from tests.server.conftest import GREEDY, Served

pytestmark = pytest.mark.model
MODEL = "smollm2:135m"


def request_bytes(path: str, body: dict) -> bytes:
    """A raw HTTP/1.1 POST."""
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


def chat_works(server: Served) -> None:
    reply = httpx.post(server.url + "/api/chat", timeout=60, json={
        "model": MODEL, "messages": [{"role": "user", "content": "Say hi."}], "options": GREEDY, "stream": False})
    assert reply.status_code == 200, reply.text
    assert reply.json()["message"]["content"]


def test_bad_input_gets_json_errors_and_the_server_keeps_serving(server: Served) -> None:
    url = server.url
    bad = [
        httpx.post(url + "/api/chat", content=b'{"model": "smollm2:135m", "messages": [', timeout=30),
        httpx.post(url + "/api/chat", json={"model": MODEL, "messages": [{"role": "user", "content": 5}]}, timeout=30),
        httpx.post(url + "/api/chat", json={"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}, timeout=30),
        httpx.post(url + "/api/chat", json={"model": MODEL, "stream": "yes", "messages": []}, timeout=30),
        httpx.post(url + "/api/generate", json={"model": "no-such-model", "prompt": "x"}, timeout=30),
        httpx.post(url + "/api/chat", json={"model": MODEL, "messages": [{"role": "user", "content": "x"}], "options": {"num_ctx": -1}}, timeout=30),
        httpx.post(url + "/v1/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, timeout=30),
        httpx.post(url + "/v1/embeddings", json={"model": MODEL, "input": [[1, 2, 3]]}, timeout=30),
    ]
    for response in bad:
        assert 400 <= response.status_code < 500, response.text
        assert "error" in response.json()

    huge = "word " * 2_000_000  # 10 MB
    for streaming in (False, True):
        too_long = httpx.post(url + "/api/generate", timeout=300,
                              json={"model": MODEL, "prompt": huge, "stream": streaming, "options": {"num_ctx": 1024}})
        assert too_long.status_code == 500
        assert too_long.json()["error"].startswith("the prompt is ")
        assert "but the context is 1,024 tokens" in too_long.json()["error"]
    server.wait_for_log('POST /api/generate model="smollm2:135m" status=500 prompt_tokens=0 eval_tokens=0 finish=error')
    openai_too_long = httpx.post(url + "/v1/completions", timeout=300, json={"model": MODEL, "prompt": "word " * 20_000})
    assert openai_too_long.status_code == 500
    error = openai_too_long.json()["error"]
    assert error["message"].startswith("the prompt is ") and error["type"] == "api_error", error
    chat_works(server)


def test_a_hundred_clients_dropped_mid_stream_are_cancelled(server: Served) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Tell a long story."}],
            "options": {**GREEDY, "num_predict": 400}}
    sockets = []
    for _ in range(100):
        sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=60)
        sock.sendall(request_bytes("/api/chat", body))
        sockets.append(sock)
    first = sockets[0].recv(4096)  # the first answer is streaming: the others wait their turn
    assert b"200 OK" in first
    for sock in sockets:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset, not a polite close
        sock.close()
    started = time.monotonic()
    chat_works(server)  # 100 x 400 tokens were not generated first
    assert time.monotonic() - started < 60
    log = server.wait_for_log("finish=cancelled")
    assert log.count("finish=cancelled") >= 1


def test_one_models_requests_are_answered_in_arrival_order(server: Served) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    finished: list[int] = []
    lock = threading.Lock()

    def ask(index: int, sock: socket.socket) -> None:
        data = b""
        while b'"done":true' not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        with lock:
            finished.append(index)
        sock.close()

    body = {"model": MODEL, "messages": [{"role": "user", "content": "Count to ten."}], "options": {**GREEDY, "num_predict": 12}}
    threads = []
    for index in range(5):
        sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        sock.sendall(request_bytes("/api/chat", body))
        if index == 0:
            assert b"200 OK" in sock.recv(64)  # the first is answering: the rest queue behind it
        thread = threading.Thread(target=ask, args=(index, sock))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # distinct arrival times (the order is what is tested, not a wait for a result)
    for thread in threads:
        thread.join(timeout=120)
    assert finished == [0, 1, 2, 3, 4]
