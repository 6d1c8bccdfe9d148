"""`whirr serve` without answering: the address rules, the API key, CORS, the access log, Ollama's
and OpenAI's error shapes, the listing endpoints, and the request parsers."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import Served, free_port, home_environment, start_server
from tests.engine.test_keepalive import ACCEPTED, REFUSED
from tui.server.inputs import ApiError, parse_options
from tui.engine.options import Options


def serve(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `whirr serve` expecting it to stop at once (an error)."""
    return subprocess.run(
        [sys.executable, "-m", "tui", "serve", *args],
        env=env or home_environment(root), capture_output=True, text=True, timeout=60,
    )


def test_a_taken_port_is_one_line_naming_it_and_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(tmp_path, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: port {port} on 127.0.0.1 is already in use (another whirr serve, or Ollama?); choose another with --port\n"
    )


def test_the_network_needs_host_and_a_key_or_no_auth(tmp_path: Path) -> None:
    env = home_environment(tmp_path)
    refused = serve(tmp_path, "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode == 1
    assert "warning: serving http://0.0.0.0:" in refused.stderr
    assert "Error: 0.0.0.0 is not a loopback address: set an API key (--api-key or WHIRR_API_KEY) or pass --no-auth" in refused.stderr

    from_env = serve(tmp_path, env={**env, "WHIRR_HOST": "0.0.0.0:9"})
    assert from_env.returncode == 1
    assert "needs an explicit --host 0.0.0.0" in from_env.stderr

    bad_port = serve(tmp_path, env={**env, "WHIRR_HOST": "127.0.0.1:http"})
    assert bad_port.returncode == 1 and "invalid port in '127.0.0.1:http'" in bad_port.stderr


def test_whirr_host_sets_the_address(tmp_path: Path) -> None:
    port = free_port()
    env = {**home_environment(tmp_path), "WHIRR_HOST": f"127.0.0.1:{port}"}
    served = start_server(tmp_path, env=env, port=free_port())  # --port wins over WHIRR_HOST's port
    try:
        assert httpx.get(served.url + "/api/version").json() == {"version": "0.24.0"}
    finally:
        served.stop()


def test_an_api_key_guards_everything_but_root(tmp_path: Path) -> None:
    served = start_server(tmp_path, "--api-key", "sesame")
    try:
        assert httpx.get(served.url + "/").text == "Ollama is running"
        denied = httpx.get(served.url + "/api/tags")
        assert denied.status_code == 401
        assert denied.json() == {"error": "unauthorized: send the server's API key as 'Authorization: Bearer KEY'"}
        denied_v1 = httpx.get(served.url + "/v1/models", headers={"Authorization": "Bearer wrong"})
        assert denied_v1.status_code == 401
        assert denied_v1.json()["error"]["type"] == "authentication_error"
        allowed = httpx.get(served.url + "/api/tags", headers={"Authorization": "Bearer sesame"})
        assert allowed.status_code == 200
    finally:
        served.stop()


def test_cors_allows_loopback_origins_and_the_ones_given(tmp_path: Path) -> None:
    served = start_server(tmp_path, "--origins", "https://app.example.com,chrome-extension://*")
    try:
        def allowed(origin: str) -> str | None:
            response = httpx.options(
                served.url + "/api/chat",
                headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            )
            return response.headers.get("access-control-allow-origin")

        assert allowed("http://localhost:3000") == "http://localhost:3000"
        assert allowed("http://127.0.0.1") == "http://127.0.0.1"
        assert allowed("https://app.example.com") == "https://app.example.com"
        assert allowed("chrome-extension://abcdef") == "chrome-extension://abcdef"
        assert allowed("https://evil.example.com") is None
        assert allowed("http://localhost.evil.com") is None
    finally:
        served.stop()


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Served:
    """A server that answers no chats in these tests."""
    served = start_server(tmp_path_factory.mktemp("idle"))
    yield served
    served.stop()


def test_errors_have_each_apis_shape(idle: Served) -> None:
    url = idle.url
    cases = [
        (httpx.post(url + "/api/chat", content=b"{not json"), 400, "invalid JSON: "),
        (httpx.post(url + "/api/chat", content=b""), 400, "missing request body"),
        (httpx.post(url + "/api/chat", content=b"[1, 2]"), 400, "the request body must be a JSON object, not an array"),
        (httpx.post(url + "/api/chat", json={"messages": []}), 400, "model is required"),
        (httpx.post(url + "/api/chat", json={"model": 7}), 400, "invalid value for 'model': expected a string, got a number"),
        (httpx.post(url + "/api/chat", json={"model": "nope"}), 404, "model 'nope' not found"),
        (httpx.post(url + "/api/chat", json={"model": "smollm2:135m", "messages": "hi"}), 400, "invalid value for 'messages'"),
        (httpx.post(url + "/api/chat", json={"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}],
                                            "options": {"num_ctx": -5}}), 400, 'invalid option: num_ctx must be >= 1, got -5'),
        (httpx.post(url + "/api/chat", json={"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}],
                                            "options": {"temperature": "hot"}}), 400, 'option "temperature" must be of type float32'),
        (httpx.post(url + "/api/generate", json={"model": "smollm2:135m", "prompt": "x", "keep_alive": "soon"}), 400,
         'time: invalid duration "soon"'),
        (httpx.post(url + "/api/generate", json={"model": "smollm2:135m", "prompt": "x", "raw": True, "system": "s"}), 400,
         "raw mode does not support template, system, or context"),
        (httpx.post(url + "/api/chat", json={"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}],
                                            "format": 5}), 400, "invalid format: 5"),
        (httpx.post(url + "/api/show", json={"model": "nope"}), 404, "model 'nope' not found"),
        (httpx.request("DELETE", url + "/api/delete", json={"model": "nope"}), 404, "model 'nope' not found"),
        (httpx.request("DELETE", url + "/api/delete", json={"model": "smollm2:135m"}), 400, "whirr's built-in model and cannot be removed"),
        (httpx.post(url + "/api/copy", json={"source": "nope", "destination": "x"}), 404, 'model "nope" not found'),
        (httpx.post(url + "/api/pull", json={"model": "llama3.2"}), 400, "whirr pulls GGUF models from Hugging Face"),
        (httpx.get(url + "/api/nothing"), 404, "404 page not found"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, (response.request.url, response.text)
        error = response.json()["error"]
        assert isinstance(error, str) and message in error, (error, message)

    missing = httpx.post(url + "/v1/chat/completions", json={"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    assert missing.status_code == 404
    assert missing.json() == {"error": {"message": "model 'nope' not found", "type": "invalid_request_error",
                                        "param": "model", "code": "model_not_found"}}
    unknown = httpx.get(url + "/v1/models/nope:1b")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    wrong = httpx.post(url + "/v1/chat/completions", json={"model": "smollm2:135m", "messages": [], "stream": True})
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "messages"


def test_a_body_over_the_limit_is_refused(idle: Served) -> None:
    big = b'{"model": "smollm2:135m", "prompt": "' + b"a" * (33 * 1024 * 1024) + b'"}'
    response = httpx.post(idle.url + "/api/generate", content=big, timeout=60)
    assert response.status_code == 413
    assert response.json() == {"error": "request body too large: over 32 MB"}
    chunked = httpx.post(idle.url + "/api/generate", content=iter([big[i:i + (1 << 20)] for i in range(0, len(big), 1 << 20)]), timeout=60)
    assert chunked.status_code == 413  # no Content-Length: counted while reading


def test_listing_shows_models_and_personas(idle: Served) -> None:
    created = httpx.post(idle.url + "/api/create", json={"model": "pirate", "from": "smollm2:135m", "system": "Arr.",
                                                       "parameters": {"temperature": 0.2, "stop": ["<|im_end|>"]}, "stream": False})
    assert created.status_code == 200 and created.json() == {"status": "success"}
    tags = httpx.get(idle.url + "/api/tags").json()["models"]
    by_name = {m["name"]: m for m in tags}
    assert set(by_name) == {"pirate:latest", "smollm2:135m"}
    starter = by_name["smollm2:135m"]
    assert starter["details"] == {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                                  "parameter_size": "135M", "quantization_level": "Q4_1"}
    assert len(starter["digest"]) == 64 and starter["modified_at"].endswith("Z")
    assert by_name["pirate:latest"]["details"]["parent_model"] == "smollm2:135m"

    shown = httpx.post(idle.url + "/api/show", json={"model": "pirate"}).json()
    assert shown["system"] == "Arr."
    lines = shown["parameters"].splitlines()
    assert 'temperature                    0.2' in lines and 'stop                           "<|im_end|>"' in lines
    assert shown["capabilities"] == ["completion"]
    assert shown["model_info"]["llama.context_length"] == 8192
    assert shown["model_info"]["whirr.embedding.pooling"].startswith("mean of the token vectors")
    assert "FROM smollm2:135m" in shown["modelfile"] and 'SYSTEM "Arr."' in shown["modelfile"] or "SYSTEM Arr." in shown["modelfile"]

    models = httpx.get(idle.url + "/v1/models").json()
    assert models["object"] == "list"
    assert {(m["id"], m["owned_by"]) for m in models["data"]} == {("pirate:latest", "persona"), ("smollm2:135m", "built-in")}
    assert httpx.get(idle.url + "/v1/models/pirate").json()["id"] == "pirate:latest"
    assert httpx.get(idle.url + "/api/ps").json() == {"models": []}

    copied = httpx.post(idle.url + "/api/copy", json={"source": "pirate", "destination": "corsair"})
    assert copied.status_code == 200
    assert httpx.request("DELETE", idle.url + "/api/delete", json={"model": "pirate"}).status_code == 200
    assert httpx.request("DELETE", idle.url + "/api/delete", json={"model": "corsair"}).status_code == 200
    assert [m["name"] for m in httpx.get(idle.url + "/api/tags").json()["models"]] == ["smollm2:135m"]


def test_the_access_log_has_a_line_per_request_and_never_the_prompt(idle: Served) -> None:
    httpx.post(idle.url + "/api/chat", json={"model": "missing-model", "messages": [{"role": "user", "content": "SECRET-PROMPT"}]})
    httpx.get(idle.url + "/api/version")
    log = idle.wait_for_log("GET /api/version status=200 duration=")
    assert 'POST /api/chat model="missing-model" status=404 duration=' in log
    assert "SECRET-PROMPT" not in log


def test_keep_alive_fields_are_read_as_ollama_reads_them(idle: Served) -> None:
    """Every form through real HTTP: an accepted keep_alive gets as far as the model lookup (404,
    as Ollama does for an unknown model), a refused one is a 400 with Ollama's text."""
    with httpx.Client(base_url=idle.url) as client:
        for path, field in (("/api/generate", "prompt"), ("/api/chat", "messages")):
            for value, _ in ACCEPTED:
                reply = client.post(path, json={"model": "nope", field: "hi" if field == "prompt" else [], "keep_alive": value})
                assert (reply.status_code, reply.json()) == (404, {"error": "model 'nope' not found"}), (path, value)
            for value, message in REFUSED:
                reply = client.post(path, json={"model": "nope", "keep_alive": value})
                assert (reply.status_code, reply.json()) == (400, {"error": message}), (path, value)
            missing = client.post(path, json={"model": "nope", "keep_alive": None})  # null: the server's keep_alive
            assert missing.status_code == 404


def test_a_bad_keepalive_for_serve_is_one_line(tmp_path: Path) -> None:
    env = home_environment(tmp_path)
    flag = serve(tmp_path, "--port", str(free_port()), "--keepalive", "soon")
    assert (flag.returncode, flag.stderr) == (
        1, "Error: invalid --keepalive 'soon': time: invalid duration \"soon\" (use a duration like 5m, 1h30m, 300ms, or seconds)\n"
    )
    from_env = serve(tmp_path, "--port", str(free_port()), env={**env, "WHIRR_KEEP_ALIVE": "5x"})
    assert (from_env.returncode, from_env.stderr) == (
        1, "Error: invalid WHIRR_KEEP_ALIVE '5x': time: unknown unit \"x\" in duration \"5x\" (use a duration like 5m, 1h30m, 300ms, "
        "or seconds)\n"
    )


def test_options_are_typed_as_ollama_types_them() -> None:
    base = Options()
    options = parse_options({"temperature": 0, "num_ctx": 2048.0, "stop": ["x"], "use_mmap": False, "nonsense": 1}, base)
    assert (options.temperature, options.num_ctx, options.stop, options.use_mmap) == (0.0, 2048, ("x",), False)
    assert isinstance(options.num_ctx, int)
    for bad in ({"num_ctx": "big"}, {"stop": "x"}, {"use_mmap": 1}, {"num_ctx": 0}, {"top_k": -1}, {"temperature": float("nan")}):
        with pytest.raises(ApiError) as raised:
            parse_options(bad, base)
        assert raised.value.status == 400
    with pytest.raises(ApiError):
        parse_options([1], base)
