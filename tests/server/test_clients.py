"""The official `ollama` and `openai` Python clients against a real `whirr serve` answering with
the real starter model (greedy, short answers)."""

from __future__ import annotations

import json
import time

import httpx
import ollama
import openai
import pytest

from tests.hubserver import STARTER_REPO
from tests.server.conftest import GREEDY, Served

pytestmark = pytest.mark.model
MODEL = "smollm2:135m"
HELLO = [{"role": "user", "content": "Say hello."}]


def test_ollama_chat_streamed_and_whole(server: Served) -> None:
    client = ollama.Client(host=server.url)
    whole = client.chat(model=MODEL, messages=HELLO, options=GREEDY)
    assert whole.done and whole.done_reason == "length"
    assert whole.message.role == "assistant" and whole.message.content
    assert whole.eval_count == 8 and whole.prompt_eval_count > 0
    assert whole.total_duration >= whole.eval_duration > 0

    chunks = list(client.chat(model=MODEL, messages=HELLO, options=GREEDY, stream=True))
    assert all(not c.done for c in chunks[:-1]) and chunks[-1].done
    assert "".join(c.message.content for c in chunks) == whole.message.content  # greedy: the same answer


def test_the_final_chunk_carries_the_energy(server: Served) -> None:
    lines = []
    with httpx.stream("POST", server.url + "/api/chat", json={"model": MODEL, "messages": HELLO, "options": GREEDY}, timeout=120) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    final = lines[-1]
    assert final["done"] is True
    assert final["energy_joules"] > 0
    assert final["energy_joules_per_token"] == pytest.approx(final["energy_joules"] / final["eval_count"], rel=1e-3)
    assert "CPU" in final["energy_method"] and ("measured" in final["energy_method"] or "estimated" in final["energy_method"])
    assert isinstance(final["total_duration"], int) and final["created_at"].endswith("Z")
    assert set(lines[0]) == {"model", "created_at", "message", "done"}


def test_ollama_generate_with_context_json_format_and_raw(server: Served) -> None:
    client = ollama.Client(host=server.url)
    first = client.generate(model=MODEL, prompt="Name a colour.", options=GREEDY)
    assert first.response and first.context and first.done_reason == "length"
    follow = client.generate(model=MODEL, prompt="And another?", context=first.context, options=GREEDY)
    assert follow.response and len(follow.context) > len(first.context)

    shaped = client.generate(model=MODEL, prompt="Give a JSON object with a name.", format="json",
                             options={**GREEDY, "num_predict": 48})
    assert shaped.response.lstrip().startswith("{")
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    typed = client.chat(model=MODEL, messages=[{"role": "user", "content": "How old is the sun? JSON."}], format=schema,
                        options={**GREEDY, "num_predict": 32})
    assert isinstance(json.loads(typed.message.content)["age"], int)

    raw = client.generate(model=MODEL, prompt="<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", raw=True, options=GREEDY)
    assert raw.response and not raw.context


def test_ollama_list_show_ps_load_and_unload(server: Served) -> None:
    client = ollama.Client(host=server.url)
    assert MODEL in [m.model for m in client.list().models]
    shown = client.show(MODEL)
    assert shown.details.family == "llama" and "completion" in shown.capabilities
    assert shown.modelinfo["llama.context_length"] == 8192

    client.generate(model=MODEL, keep_alive="1m")  # an empty prompt loads the model
    loaded = client.ps().models
    assert [m.model for m in loaded] == [MODEL]
    assert loaded[0].size > loaded[0].size_vram == 0 and loaded[0].context_length > 0
    unloaded = client.chat(model=MODEL, messages=[], keep_alive=0)
    assert unloaded.done_reason == "unload"
    assert client.ps().models == []

    client.generate(model=MODEL, prompt="Hi", options=GREEDY, keep_alive=1)  # unloaded a second after
    deadline = time.monotonic() + 30
    while client.ps().models:
        assert time.monotonic() < deadline, "keep_alive 1 did not unload the model"
        time.sleep(0.1)


def test_ollama_embed_and_embeddings(server: Served) -> None:
    client = ollama.Client(host=server.url)
    embedded = client.embed(model=MODEL, input=["the cat sat", "a dog ran"])
    assert len(embedded.embeddings) == 2 and len(embedded.embeddings[0]) == 576
    assert sum(x * x for x in embedded.embeddings[0]) == pytest.approx(1.0, rel=1e-4)
    assert embedded.embeddings[0] != embedded.embeddings[1]
    again = client.embed(model=MODEL, input="the cat sat")
    assert again.embeddings[0] == pytest.approx(embedded.embeddings[0], abs=1e-5)
    short = client.embed(model=MODEL, input="the cat sat", dimensions=64)
    assert len(short.embeddings[0]) == 64
    with pytest.raises(ollama.ResponseError) as too_long:
        client.embed(model=MODEL, input="word " * 400, truncate=False, options={"num_ctx": 256})
    assert too_long.value.status_code == 400
    cut = client.embed(model=MODEL, input="word " * 400, options={"num_ctx": 256})
    assert cut.prompt_eval_count == 256
    legacy = client.embeddings(model=MODEL, prompt="the cat sat")
    assert len(legacy.embedding) == 576 and sum(x * x for x in legacy.embedding) != pytest.approx(1.0)


def test_ollama_pull_create_copy_delete(server: Served) -> None:
    client = ollama.Client(host=server.url)
    name = f"hf.co/{STARTER_REPO}:Q4_1"
    statuses = [p.status for p in client.pull(name, stream=True)]
    assert statuses[0] == "pulling manifest"
    progress = [p for p in client.pull(name, stream=True) if p.completed is not None]
    assert progress and progress[-1].completed == progress[-1].total == 98_362_432 or progress[-1].total > 0
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    pulled = "hf.co/whirr-test/smollm2-135m-instruct-gguf:q4_1"
    assert pulled in [m.model for m in client.list().models]

    created = client.create(model="terse", from_=pulled, system="Answer in one word.", parameters={"temperature": 0})
    assert created.status == "success"
    answer = client.chat(model="terse", messages=HELLO, options={"num_predict": 4, "seed": 1})
    assert answer.message.content
    assert client.copy("terse", "terse2").status == "success"
    assert "Answer in one word." in client.show("terse2").modelfile
    for gone in ("terse", "terse2", pulled):
        assert client.delete(gone).status == "success"
    assert not (server.home / "data" / "models" / "hf.co" / STARTER_REPO).exists()
    with pytest.raises(ollama.ResponseError) as missing:
        client.show("terse")
    assert missing.value.status_code == 404


def test_openai_chat_streamed_and_whole(server: Served) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused")
    whole = client.chat.completions.create(model=MODEL, messages=HELLO, temperature=0, seed=1, max_tokens=8)
    assert whole.choices[0].message.content and whole.choices[0].finish_reason == "length"
    assert whole.usage.completion_tokens == 8 and whole.usage.total_tokens > 8
    assert whole.usage.model_extra["energy_joules"] > 0

    stream = client.chat.completions.create(model=MODEL, messages=HELLO, temperature=0, seed=1, max_tokens=8, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 8
    assert chunks[-2].choices[0].finish_reason == "length"


def test_openai_completions_models_and_embeddings(server: Served) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused")
    completion = client.completions.create(model=MODEL, prompt="The capital of France is", temperature=0, seed=1, max_tokens=6)
    assert completion.choices[0].text and completion.usage.completion_tokens <= 6
    assert MODEL in [m.id for m in client.models.list()]
    assert client.models.retrieve(MODEL).owned_by == "built-in"
    embedded = client.embeddings.create(model=MODEL, input=["the cat sat", "a dog ran"])  # base64 on the wire
    assert [len(d.embedding) for d in embedded.data] == [576, 576]
    floats = client.embeddings.create(model=MODEL, input="the cat sat", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(embedded.data[0].embedding, abs=1e-5)
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope:1b")
