"""The answer pipeline without an app: the real starter model streams, saves, finishes and
cancels through it; errors become outcomes."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from tui.chat.pipeline import AnswerPipeline, Outcome, count_context, describe_error, load_model
from tui.engine.base import ChatMessage, ChatRequest, EngineError
from tui.engine.llama import LlamaEngine
from tui.engine.options import Options

GREEDY = Options(temperature=0.0, seed=7, num_predict=12, num_ctx=1024)
QUESTION = [ChatMessage("user", "What is the capital of France?")]


@pytest.fixture(scope="module")
def engine(starter_path: Path) -> LlamaEngine:
    return LlamaEngine(starter_path, "smollm2:135m")


class Recorder:
    """Everything a pipeline tells its caller, in order."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.statuses: list[str] = []
        self.saves: list[str] = []
        self.finished: list[Outcome] = []
        self.started = 0

    def pipeline(self, request: ChatRequest, **kwargs: object) -> AnswerPipeline:
        return AnswerPipeline(
            request,
            on_token=self.tokens.append,
            on_status=lambda state, detail: self.statuses.append(state),
            on_start=self.start,
            save=self.saves.append,
            finish=self.finished.append,
            **kwargs,  # type: ignore[arg-type]
        )

    def start(self) -> None:
        self.started += 1


@pytest.mark.model
async def test_prepare_loads_once_and_counts_the_context(starter_path: Path) -> None:
    engine = LlamaEngine(starter_path, "smollm2:135m")
    loads: list[int | None] = []
    loaded = await load_model(lambda: engine, GREEDY, loads.append)
    said = len(loads)
    again = await load_model(lambda: engine, GREEDY, loads.append)
    assert loaded is engine and again is engine and engine.loaded
    assert loads[0] is None and all(isinstance(p, int) for p in loads[1:])  # before the load, then its progress
    assert len(loads) == said  # the second call found it loaded
    assert await count_context(engine, [], GREEDY) == 0
    assert await count_context(engine, QUESTION, GREEDY) == engine.count_tokens(QUESTION, GREEDY) > 0


@pytest.mark.model
async def test_an_answer_streams_saves_and_finishes(engine: LlamaEngine) -> None:
    ticks = itertools.count()
    recorder = Recorder()
    # A clock that moves a second per reading: every token is a save, and the rate is exact.
    pipeline = recorder.pipeline(ChatRequest(QUESTION, GREEDY), clock=lambda: float(next(ticks)))
    outcome = await pipeline.run(lambda: engine)
    assert outcome.state in ("stop", "length") and outcome.error is None
    assert outcome.text and "".join(recorder.tokens) == outcome.text == pipeline.text
    assert outcome.stats.eval_count == pipeline.tokens >= len(recorder.tokens)
    assert recorder.saves and all(outcome.text.startswith(saved) for saved in recorder.saves)
    assert recorder.saves[-1] != recorder.saves[0] or len(recorder.saves) == 1
    assert recorder.finished == [outcome] and recorder.started == 1
    assert pipeline.rate() is not None and pipeline.rate() > 0
    assert pipeline.measurement is None and not pipeline.cancel()  # nothing streams any more


@pytest.mark.model
async def test_cancel_keeps_the_partial_answer(engine: LlamaEngine) -> None:
    recorder = Recorder()
    holder: list[AnswerPipeline] = []

    def on_token(text: str) -> None:
        recorder.tokens.append(text)
        assert holder[0].cancel()

    pipeline = AnswerPipeline(ChatRequest(QUESTION, GREEDY.updated(num_predict=200)), on_token=on_token,
                              finish=recorder.finished.append)
    holder.append(pipeline)
    assert not pipeline.cancel()  # nothing to stop before it runs
    outcome = await pipeline.run(lambda: engine)
    assert outcome.state == "cancelled" and outcome.text == "".join(recorder.tokens)
    assert 1 <= outcome.stats.eval_count < 200 and recorder.finished == [outcome]


@pytest.mark.model
async def test_a_cancelled_task_still_finishes_the_answer(engine: LlamaEngine) -> None:
    recorder = Recorder()
    first_token = asyncio.Event()
    pipeline = AnswerPipeline(ChatRequest(QUESTION, GREEDY.updated(num_predict=200)),
                              on_token=lambda text: first_token.set(), finish=recorder.finished.append)
    task = asyncio.create_task(pipeline.run(lambda: engine))
    await asyncio.wait_for(first_token.wait(), timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [outcome] = recorder.finished
    assert outcome.state == "cancelled" and outcome.text == pipeline.text and outcome.text
    # The engine was told to stop: the next answer is not kept waiting behind it.
    done = await asyncio.wait_for(AnswerPipeline(ChatRequest(QUESTION, GREEDY), on_token=len).run(lambda: engine), 60)
    assert done.state in ("stop", "length")


async def test_an_engine_that_cannot_be_had_is_an_error_outcome() -> None:
    recorder = Recorder()

    def missing() -> LlamaEngine:
        raise LookupError("'model 'nowhere:7b' not found'")

    outcome = await recorder.pipeline(ChatRequest(QUESTION, GREEDY)).run(missing)
    assert outcome.state == "error" and outcome.stats.error == "model 'nowhere:7b' not found"
    assert isinstance(outcome.error, LookupError) and outcome.text == ""
    assert recorder.finished == [outcome] and recorder.started == 0 and not recorder.tokens


def test_errors_read_as_the_user_needs_them() -> None:
    assert describe_error(EngineError("prompt too long")) == "prompt too long"
    assert describe_error(ValueError("Fix the Modelfile first: line 2")) == "Fix the Modelfile first: line 2"
    assert describe_error(KeyError("num_ctx")) == "num_ctx"  # a LookupError: read as it is
    assert describe_error(RuntimeError("boom")) == "RuntimeError: boom"
    assert describe_error(RuntimeError()) == "RuntimeError"
