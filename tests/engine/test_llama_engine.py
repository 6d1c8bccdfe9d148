"""The in-process engine with the real starter model: answers, statistics, KV reuse,
cancellation, stop strings, context limits and queueing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import llama_cpp
import pytest

from tui.engine.base import ChatRequest, DoneEvent, ChatMessage, StatusEvent, TokenEvent
from tui.engine.llama import LlamaEngine
from tui.engine.llama_runtime import machine_safe_defaults
from tui.engine.options import Options

GREEDY = Options(temperature=0.0, seed=7, num_predict=24, num_ctx=1024)
QUESTION = [ChatMessage("user", "What is the capital of France?")]


@pytest.fixture(scope="module")
def engine(starter_path: Path) -> LlamaEngine:
    engine = LlamaEngine(starter_path, "smollm2:135m")
    engine.load(GREEDY)
    return engine


async def collect(engine: LlamaEngine, request: ChatRequest) -> tuple[list, DoneEvent]:
    events = []
    async for event in engine.chat(request):
        events.append(event)
    assert isinstance(events[-1], DoneEvent)
    return events, events[-1]


@pytest.mark.model
async def test_answer_streams_tokens_then_one_done_event(engine: LlamaEngine) -> None:
    events, done = await collect(engine, ChatRequest(QUESTION, GREEDY))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert "".join(t.text for t in tokens) == done.text
    assert sum(t.tokens for t in tokens) == done.stats.eval_count == 24
    assert done.stats.finish_reason == "length"
    assert done.stats.prompt_eval_count > 0 and done.stats.eval_duration > 0
    assert 0 < done.stats.time_to_first_token < done.stats.total_duration
    assert sum(isinstance(e, DoneEvent) for e in events) == 1


@pytest.mark.model
async def test_greedy_answer_matches_llama_cpp_chat_completion(engine: LlamaEngine, starter_path: Path) -> None:
    engine.reset_cache()
    _, done = await collect(engine, ChatRequest(QUESTION, GREEDY))
    with machine_safe_defaults():
        reference = llama_cpp.Llama(str(starter_path), n_ctx=1024, verbose=False)
    expected = reference.create_chat_completion(
        [{"role": "user", "content": QUESTION[0].content}],
        temperature=0.0, max_tokens=24, top_k=40, top_p=0.9, min_p=0.0, repeat_penalty=1.0,
    )["choices"][0]["message"]["content"]
    reference.close()
    assert done.text == expected


@pytest.mark.model
async def test_same_seed_same_answer_at_temperature(engine: LlamaEngine) -> None:
    options = GREEDY.updated(temperature=0.9, seed=123)
    first = (await collect(engine, ChatRequest(QUESTION, options)))[1].text
    second = (await collect(engine, ChatRequest(QUESTION, options)))[1].text
    assert first == second


@pytest.mark.model
async def test_second_turn_reuses_the_first_turns_tokens(engine: LlamaEngine) -> None:
    engine.reset_cache()
    _, first = await collect(engine, ChatRequest(QUESTION, GREEDY))
    assert first.stats.prompt_cached_count == 0
    second_turn = [*QUESTION, ChatMessage("assistant", first.text), ChatMessage("user", "And of Italy?")]
    _, second = await collect(engine, ChatRequest(second_turn, GREEDY))
    first_prompt = first.stats.prompt_eval_count
    assert second.stats.prompt_cached_count >= first_prompt
    assert second.stats.prompt_eval_count < first_prompt
    total = engine.count_tokens(second_turn, GREEDY)
    assert second.stats.prompt_cached_count + second.stats.prompt_eval_count == total


@pytest.mark.model
async def test_cancel_stops_within_one_token_and_keeps_the_partial_answer(engine: LlamaEngine) -> None:
    stream = engine.chat(ChatRequest(QUESTION, GREEDY.updated(num_predict=200)))
    seen = ""
    async for event in stream:
        if isinstance(event, TokenEvent):
            seen += event.text
            if event.tokens and not stream.cancelled:
                stream.cancel()
                cancelled_after = len(seen)
        elif isinstance(event, DoneEvent):
            done = event
    assert done.stats.finish_reason == "cancelled"
    assert done.text == seen and len(seen) >= cancelled_after
    # The generation thread notices the cancel before sampling the next token.
    assert done.stats.eval_count <= 2


@pytest.mark.model
async def test_stop_string_ends_the_answer_and_is_not_shown(engine: LlamaEngine) -> None:
    _, full = await collect(engine, ChatRequest(QUESTION, GREEDY))
    word = full.text.split()[2]
    _, done = await collect(engine, ChatRequest(QUESTION, GREEDY.updated(stop=(word,))))
    assert done.stats.finish_reason == "stop"
    assert done.text == full.text[: full.text.index(word)]


@pytest.mark.model
async def test_prompt_longer_than_the_context_is_a_clear_error(engine: LlamaEngine) -> None:
    long_prompt = [ChatMessage("user", "word " * 1500)]
    _, done = await collect(engine, ChatRequest(long_prompt, GREEDY))
    assert done.stats.finish_reason == "error"
    assert "tokens but the context is 1,024 tokens" in done.stats.error
    assert done.text == ""


@pytest.mark.model
async def test_old_turns_are_dropped_to_fit_the_context(engine: LlamaEngine) -> None:
    history = []
    for i in range(12):
        history += [ChatMessage("user", f"Tell me fact number {i} about the sea. " * 6), ChatMessage("assistant", "The sea is big. " * 10)]
    conversation = [ChatMessage("system", "Be brief."), *history, ChatMessage("user", "Thanks!")]
    _, done = await collect(engine, ChatRequest(conversation, GREEDY))
    assert done.stats.finish_reason != "error"
    assert done.stats.messages_dropped >= 2 and done.stats.messages_dropped % 2 == 0
    kept = [conversation[0], *conversation[1 + done.stats.messages_dropped :]]
    assert engine.count_tokens(kept, GREEDY) + 24 <= 1024


@pytest.mark.model
async def test_a_second_request_to_the_same_model_queues(engine: LlamaEngine) -> None:
    first = engine.chat(ChatRequest(QUESTION, GREEDY))
    await asyncio.sleep(0.05)
    events, done = await collect(engine, ChatRequest(QUESTION, GREEDY))
    assert events[0] == StatusEvent("queued")
    assert done.stats.finish_reason == "length"
    await first.result()


async def test_missing_model_file_is_an_error_event(tmp_path: Path) -> None:
    _, done = await collect(LlamaEngine(tmp_path / "gone.gguf"), ChatRequest(QUESTION, GREEDY))
    assert done.stats.finish_reason == "error"
    assert "model file not found" in done.stats.error


GO_CHATML = """{{ if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ .Response }}<|im_end|>
"""


@pytest.mark.model
def test_go_template_renders_like_the_ggufs_jinja(engine: LlamaEngine) -> None:
    conversation = [
        ChatMessage("system", "You are brief."),
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "What is 2+2?"),
    ]
    assert engine.render_prompt(conversation, GO_CHATML) == engine.render_prompt(conversation)


@pytest.mark.model
async def test_jinja_template_replaces_the_models(engine: LlamaEngine) -> None:
    jinja = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    tokens = engine.render_prompt(QUESTION, jinja)
    assert engine.llama.detokenize(tokens).decode() == "user: What is the capital of France?\nassistant:"
    _, done = await collect(engine, ChatRequest(QUESTION, GREEDY, template=jinja))
    assert done.stats.finish_reason in ("stop", "length") and done.stats.eval_count > 0


@pytest.mark.model
async def test_unsupported_go_template_is_a_clear_error(engine: LlamaEngine) -> None:
    _, done = await collect(engine, ChatRequest(QUESTION, GREEDY, template="{{ .System }}{{ printf \"%s\" .Prompt }}"))
    assert done.stats.finish_reason == "error"
    assert done.stats.error.startswith("unsupported TEMPLATE:") and "printf" in done.stats.error


@pytest.mark.model
async def test_returning_to_a_conversation_restores_its_kv_snapshot(engine: LlamaEngine) -> None:
    engine.reset_cache()
    tab_a = [ChatMessage("user", "Tell me about the moon.")]
    tab_b = [ChatMessage("user", "Write a haiku about rain, please, in English.")]
    _, a1 = await collect(engine, ChatRequest(tab_a, GREEDY, conversation_id="a"))
    _, b1 = await collect(engine, ChatRequest(tab_b, GREEDY, conversation_id="b"))
    assert b1.stats.prompt_cached_count < a1.stats.prompt_eval_count  # only the shared system prefix
    tab_a += [ChatMessage("assistant", a1.text), ChatMessage("user", "And the sun?")]
    _, a2 = await collect(engine, ChatRequest(tab_a, GREEDY, conversation_id="a"))
    assert a2.stats.prompt_cached_count >= a1.stats.prompt_eval_count
    # Without an id there is nothing to restore: B's turn is evaluated again from the shared prefix.
    _, b2 = await collect(engine, ChatRequest([*tab_b, ChatMessage("assistant", b1.text), ChatMessage("user", "Another.")], GREEDY))
    assert b2.stats.prompt_cached_count < b1.stats.prompt_cached_count + b1.stats.prompt_eval_count


@pytest.mark.model
def test_state_cache_keeps_within_its_budget(engine: LlamaEngine) -> None:
    from tui.engine.state_cache import StateCache

    llm = engine.llama
    engine.reset_cache()
    llm.eval(llm.tokenize(b"one two three " * 20))
    cache = StateCache()
    cache.save("x", llm)
    one = cache.size
    assert one > 0
    cache.budget_bytes = one * 2 + 10
    cache.save("y", llm)
    cache.save("z", llm)
    assert cache.size <= cache.budget_bytes and cache.size == 2 * one
    llm.reset()
    assert cache.restore_if_better("z", llm, llm.tokenize(b"one two three " * 20 + b"four"))
    assert not cache.restore_if_better("x", llm, [1, 2, 3])
