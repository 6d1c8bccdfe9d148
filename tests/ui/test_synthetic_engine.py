"""The synthetic engine the UI benchmark and tests use: real ChatStream, fixed rate, one lock."""

from __future__ import annotations

import asyncio
import time

from tui.engine.base import ChatEvent, ChatRequest, ChatStream, DoneEvent, ChatMessage, StatusEvent, TokenEvent
from tui.engine.options import Options
from tui.engine.synthetic import SyntheticEngine, split_tokens

REQUEST = ChatRequest([ChatMessage("user", "hi")])


def test_split_tokens_joins_back_to_the_text() -> None:
    text = "Hello, world!\n\n```py\nx = 1\n```  done"
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    assert len(pieces) > 8


async def test_streams_every_piece_at_the_given_rate() -> None:
    text = " ".join(["word"] * 200)
    engine = SyntheticEngine(text, tokens_per_second=1000)
    started = time.perf_counter()
    events = [event async for event in engine.chat(REQUEST)]
    elapsed = time.perf_counter() - started
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert "".join(tokens) == done.text == text
    assert done.stats.eval_count == len(tokens) == 200
    assert 0.15 < elapsed < 1.0  # 200 tokens at 1,000/s


async def test_cancel_stops_within_a_token_and_still_finishes() -> None:
    engine = SyntheticEngine("word " * 10_000, tokens_per_second=500)
    stream = engine.chat(REQUEST)
    seen = 0
    async for event in stream:
        if isinstance(event, TokenEvent):
            seen += 1
            if seen == 20:
                stream.cancel()
        elif isinstance(event, DoneEvent):
            assert event.stats.finish_reason == "cancelled"
            assert event.stats.eval_count <= seen + 1


async def test_a_second_request_queues_and_says_so() -> None:
    engine = SyntheticEngine("word " * 50, tokens_per_second=500)
    first, second = engine.chat(REQUEST), engine.chat(REQUEST)
    second_events = asyncio.create_task(_collect(second))
    await first.result()
    events = await second_events
    assert StatusEvent("queued") in events
    assert isinstance(events[-1], DoneEvent) and events[-1].stats.finish_reason == "stop"


async def test_num_predict_limits_the_answer() -> None:
    engine = SyntheticEngine("a b c d e f", tokens_per_second=10_000)
    done = await engine.chat(ChatRequest([ChatMessage("user", "x")], Options(num_predict=3))).result()
    assert done.text == "a b c"


async def _collect(stream: ChatStream) -> list[ChatEvent]:
    return [event async for event in stream]
