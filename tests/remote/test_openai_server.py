"""The OpenAI-compatible engine against a real server: llama-cpp-python's own, with the starter
model. whirr chats with it from the CLI, the engine and the app, cancels, and lists its models."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.helpers import whirr
from tests.remote.conftest import Collector
from tests.remote.llamaserver import ALIAS
from tests.ui.helpers import active_view, screen_text, send, settle
from tui.app import WhirrApp
from tui.config import Config, save_config
from tui.engine.base import ChatMessage, ChatRequest, TokenEvent
from tui.engine.options import Options
from tui.engine.remote import remote_engine
from tui.engine.remote.common import RemoteModelNotFound
from tui.models.remote import fetch_models
from tui.paths import resolve_paths
from tui.servers import Server, save_server
from tui.widgets.message import AnswerMessage

pytestmark = pytest.mark.model
GREEDY = Options(temperature=0.0, seed=1, num_predict=8)
COLOUR = [ChatMessage("user", "Name a colour.")]
LIMIT = 180.0


def ask(server: Server, options: Options = GREEDY) -> Collector:
    sink = Collector()
    remote_engine(server, ALIAS).answer_here(ChatRequest(COLOUR, options), sink)
    return sink


def test_it_lists_the_servers_model(lcpp: Server) -> None:
    assert [e.name for e in fetch_models(lcpp)] == [f"lcpp/{ALIAS}"]
    remote_engine(lcpp, ALIAS).load(Options())
    with pytest.raises(RemoteModelNotFound, match="model 'lcpp/llama9' not found on lcpp"):
        remote_engine(lcpp, "llama9").load(Options())


def test_a_greedy_answer_with_statistics(lcpp: Server) -> None:
    first, second = ask(lcpp, GREEDY.updated(num_ctx=512, num_thread=1)), ask(lcpp)
    done = first.done
    assert done.stats.error == "" and done.text.strip() and second.done.text.strip()
    stats = done.stats
    assert stats.server == "lcpp" and stats.timing in ("usage", "counted")
    assert 0 < stats.eval_count <= 8 and stats.finish_reason == "length"
    assert stats.prompt_eval_count > 0 if stats.timing == "usage" else True
    assert stats.eval_duration > 0 and stats.time_to_first_token > 0
    assert stats.options_not_sent == ("num_ctx", "num_thread")  # this API has no field for them
    assert second.done.stats.options_not_sent == ()


def test_a_wrong_key_is_refused(lcpp: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LCPP_KEY", "wrong")
    assert ask(lcpp).done.stats.error == "the server refused the API key (LCPP_KEY)"


def test_cancel_stops_the_stream_at_once(lcpp: Server) -> None:
    sink = Collector()
    engine = remote_engine(lcpp, ALIAS)
    request = ChatRequest([ChatMessage("user", "Write a long story about a dragon.")], Options(temperature=0.0, seed=1, num_predict=400))
    thread = threading.Thread(target=engine.answer_here, args=(request, sink))
    thread.start()
    deadline = time.monotonic() + LIMIT
    while not any(isinstance(e, TokenEvent) for e in sink.events):
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.01)
    cancelled_at = time.perf_counter()
    sink.cancel()
    thread.join(LIMIT)
    assert time.perf_counter() - cancelled_at < 1.0
    done = sink.done
    assert done.stats.finish_reason == "cancelled" and done.text and done.stats.eval_count < 400


def _configure(llama_server, options: Options = GREEDY) -> None:
    paths = resolve_paths()
    save_config(Config(default_model=f"lcpp/{ALIAS}", options=options), paths)
    save_server(paths, Server("lcpp", "openai", llama_server.url, api_key_env="LCPP_KEY"))


def test_the_cli_lists_and_chats(whirr_home: Path, lcpp: Server, llama_server) -> None:
    _configure(llama_server)
    listing = whirr("list")
    assert any(line.startswith(f"lcpp/{ALIAS} ") and " lcpp " in line for line in listing.stdout.splitlines())
    result = whirr("run", f"lcpp/{ALIAS}", "--verbose", "--temperature", "0", "--seed", "1", "--num-predict", "8", "Name a colour.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "eval count:           8 token(s)" in result.stderr  # counted here: no usage from this server
    assert "server:               lcpp (" in result.stderr and "energy:               remote: not measured" in result.stderr


async def test_the_app_chats_and_stops(whirr_home: Path, lcpp: Server, llama_server) -> None:
    _configure(llama_server)
    app = WhirrApp()
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, timeout=LIMIT)
        await send(pilot, "Name a colour.", timeout=LIMIT)
        view = active_view(app)
        stored = app.db.messages(view.session.id)
        assert stored[-1].state == "done" and stored[-1].content.strip()
        assert stored[-1].content == view.query_one(AnswerMessage).text
        assert stored[-1].stats["server"] == "lcpp" and stored[-1].stats["model"] == f"lcpp/{ALIAS}"
        assert "energy_j" not in stored[-1].stats  # not measured here
        assert "on lcpp" in screen_text(app)
        for _ in range(100):
            if "remote: not measured" in screen_text(app):
                break
            await pilot.pause(0.05)
        assert "remote: not measured" in screen_text(app)
        # A long answer, stopped with Escape: the partial answer is kept as stopped.
        view.data.update(options=Options(temperature=0.0, seed=1, num_predict=400))
        view.query_one("PromptArea").insert("Write a long story about a dragon.")  # type: ignore[attr-defined]
        await pilot.press("enter")
        deadline = time.monotonic() + LIMIT
        answers = list(view.query(AnswerMessage))
        while not (len(answers) == 2 and answers[-1].text):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
            answers = list(view.query(AnswerMessage))
        await pilot.press("escape")
        await settle(pilot, timeout=10)
        last = app.db.messages(view.session.id)[-1]
        assert last.state == "stopped" and last.content and last.stats["eval_count"] < 400
