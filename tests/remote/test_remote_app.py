"""Remote models in the app (Pilot), against the Ollama stand-in: the faults a user meets, the
picker and library with servers, energy in the meters panel, and the servers dialog."""

from __future__ import annotations

import asyncio
import socket
import time
import tomllib
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from tests.ollamaserver import ANSWER, StandIn
from tests.ui.helpers import active_view, chat_screen, open_model_picker, screen_text, send, settle
from tests.ui.test_library_screen import listed
from tui.app import WhirrApp
from tui.config import Config, save_config
from tui.engine.options import Options
from tui.meters import Probe, Sampler
from tui.paths import resolve_paths
from tui.screens.library import LibraryScreen
from tui.screens.servers import ServersDialog
from tui.servers import Server, load_servers, save_server
from tui.widgets.message import AnswerMessage
from tui.widgets.meters_panel import MetersPanel
from tui.widgets.prompt import PromptArea


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def remote_app(stand_in: StandIn | None, model: str, down: bool = False) -> WhirrApp:
    """The real app (its engine manager) with `gpu` pointing at the stand-in, `down` at nothing;
    its meters are never started, so the panel shows only what answers bring."""
    paths = resolve_paths()
    save_config(Config(default_model=model, options=Options(temperature=0.0), meters_panel="on"), paths)
    if stand_in is not None:
        save_server(paths, Server("gpu", "ollama", stand_in.url, api_key_env="GPU_KEY"))
    if down:
        save_server(paths, Server("down", "ollama", f"http://127.0.0.1:{closed_port()}"))
    app = WhirrApp(sampler=Sampler(Probe.detect()))
    app.animation_level = "none"
    return app


async def wait_panel(pilot: Pilot, text: str, timeout: float = 10.0) -> None:
    """Wait until the meters panel's answer part says `text` (its lines may wrap on screen)."""
    part = chat_screen(pilot.app).query_one(MetersPanel).query_one("#answer", Static)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    while text not in str(part.render()):
        assert time.monotonic() < deadline, f"{text!r} not in the panel: {part.render()}"
        await pilot.pause(0.02)


async def wait_text(pilot: Pilot, text: str, timeout: float = 10.0) -> None:
    """Wait until the screen shows `text`."""
    deadline = time.monotonic() + timeout
    while text not in screen_text(pilot.app):  # type: ignore[arg-type]
        assert time.monotonic() < deadline, f"{text!r} not shown; screen:\n{screen_text(pilot.app)}"  # type: ignore[arg-type]
        await pilot.pause(0.02)


async def test_an_answer_shows_its_server_and_the_energy_it_reported(whirr_home: Path, stand_in: StandIn) -> None:
    app = remote_app(stand_in, "gpu/energetic")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await send(pilot, "Say hello.")
        view = active_view(app)
        stored = app.db.messages(view.session.id)[-1]
        assert stored.state == "done" and stored.content == ANSWER
        assert stored.stats["server"] == "gpu" and stored.stats["timing"] == "server"
        assert stored.stats["energy_j"] == 12.5  # the server's figure, with its method
        assert stored.stats["energy"]["components"][0]["method"] == "reported by gpu: measured: NVML"
        await wait_panel(pilot, "12.5 J · 2.50 J/token")
        await wait_panel(pilot, "REMOTE reported by gpu: measured: NVML")
        assert "on gpu" in screen_text(app)


async def test_no_energy_reported_says_remote_not_measured(whirr_home: Path, stand_in: StandIn) -> None:
    app = remote_app(stand_in, "gpu/thinker")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await send(pilot, "Think.")
        view = active_view(app)
        stored = app.db.messages(view.session.id)[-1]
        assert "energy_j" not in stored.stats
        assert stored.content == f"<think>Let me think.</think>\n\n{ANSWER}"
        answer = view.query_one(AnswerMessage)
        assert answer.answer_text == ANSWER  # the thinking is the collapsed section
        await wait_panel(pilot, "remote: not measured (answered on gpu)")
        assert "Thought" in screen_text(app)


async def test_slow_first_token_shows_waiting_and_the_app_stays_responsive(whirr_home: Path, stand_in: StandIn) -> None:
    app = remote_app(stand_in, "gpu/slow")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        view = active_view(app)
        view.query_one(PromptArea).insert("Hello?")
        await pilot.press("enter")
        await wait_text(pilot, "waiting for gpu…")
        assert await asyncio.to_thread(stand_in.slow_started.wait, 10)
        await pilot.press("ctrl+n")  # the app answers keys while the server is silent
        await pilot.pause()
        assert len(chat_screen(app).query("SessionView")) == 2
        await pilot.press("ctrl+pageup")
        await pilot.pause()
        assert active_view(app) is view and view.streaming
        await pilot.press("escape")
        await settle(pilot)
        assert app.db.messages(view.session.id)[-1].state == "stopped"


async def test_a_dropped_stream_keeps_the_partial_answer_and_regenerate_retries(whirr_home: Path, stand_in: StandIn) -> None:
    app = remote_app(stand_in, "gpu/drop")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await send(pilot, "Hello?")
        view = active_view(app)
        stored = app.db.messages(view.session.id)[-1]
        assert stored.state == "error" and stored.content == "Hello from the"
        assert "the connection to gpu dropped mid-answer" in stored.stats["error"]
        await wait_text(pilot, "dropped mid-answer")
        view.set_model("gpu/tiny")
        await settle(pilot)
        await pilot.press("ctrl+r")  # "Regenerate answer", also in the palette
        await settle(pilot)
        messages = app.db.messages(view.session.id)
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[-1].state == "done" and messages[-1].content == ANSWER


async def test_a_missing_model_gets_the_notice_with_the_picker(whirr_home: Path, stand_in: StandIn) -> None:
    app = remote_app(stand_in, "gpu/llama9")
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_text(pilot, "not found on gpu")
        view = active_view(app)
        assert view.problem == f"model 'gpu/llama9' not found on gpu ({stand_in.url})"
        await wait_text(pilot, "Ctrl+O: pick a model")


async def test_a_refused_key_is_named(whirr_home: Path, keyed_stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_KEY", "wrong")
    app = remote_app(keyed_stand_in, "gpu/tiny")
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_text(pilot, "the server refused the API key (GPU_KEY)")
        assert active_view(app).problem == "the server refused the API key (GPU_KEY)"


async def test_an_unreachable_server_does_not_hold_up_local_models(whirr_home: Path, stand_in: StandIn) -> None:
    app = remote_app(stand_in, "gpu/thinker", down=True)  # no local model loads meanwhile
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        started = time.monotonic()
        options = await open_model_picker(pilot)
        assert time.monotonic() - started < 2.0
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert "smollm2:135m" in ids  # local models first, before the servers answer
        deadline = time.monotonic() + 5
        while "server:down" not in ids:
            assert time.monotonic() < deadline
            await pilot.pause(0.05)
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids.index("server:down") < ids.index("server:gpu") < ids.index("gpu/tiny:latest")
        assert options.get_option("server:down").disabled
        text = screen_text(app)
        assert "── down ollama" in text and "unreachable: cannot connect" in text
        assert "── gpu ollama" in text and "2 models" in text
        options.highlighted = ids.index("gpu/tiny:latest")
        await pilot.press("enter")
        await settle(pilot)
        assert active_view(app).session.model == "gpu/tiny:latest"
        await send(pilot, "Hello?")
        assert app.db.messages(active_view(app).session.id)[-1].content == ANSWER


async def test_the_library_lists_servers_and_deletes_on_the_server_after_asking(whirr_home: Path, stand_in: StandIn) -> None:
    app = remote_app(stand_in, "gpu/thinker", down=True)  # no local model loads meanwhile
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        screen = LibraryScreen(pilot.app, "gpu/thinker")
        await app.push_screen(screen)
        await listed(pilot, screen)
        rows = {row.name: row for row in screen._rows}
        assert rows["gpu/tiny:latest"].source == "gpu" and rows["gpu/tiny:latest"].problem == ""
        assert rows["down/"].problem.startswith("unreachable: cannot connect")
        table = screen.query_one("ModelTable")
        names = [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]  # type: ignore[attr-defined]
        table.move_cursor(row=names.index("gpu/tiny:latest"), animate=False)  # type: ignore[attr-defined]
        await pilot.pause()
        assert "Server" in screen_text(app) and "llama 135M Q4_1" in screen_text(app)
        await pilot.press("delete")
        await pilot.pause()
        assert "Delete tiny:latest on gpu?" in screen_text(app)
        await pilot.press("y")
        await listed(pilot, screen)
        assert stand_in.deleted == ["tiny:latest"]


async def test_the_servers_dialog_adds_edits_and_removes(whirr_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    paths = resolve_paths()
    save_config(Config(theme="whirr-light"), paths)
    app = WhirrApp(sampler=Sampler(Probe.detect()))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.action_servers()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ServersDialog)

        async def fill(**values: str) -> None:
            for field, value in values.items():
                dialog.query_one(f"#{field}", Input).value = value
            dialog.query_one("#save", Button).press()
            await pilot.pause()

        await fill(name="gpu", url="gpu-box:11434")
        assert "url must start with http:// or https://" in str(dialog.query_one("#server-error").render())
        assert load_servers(paths) == []
        await fill(url="http://gpu-box:11434", key="GPU_KEY", models="llama3.1:70b, qwen3")
        assert load_servers(paths) == [Server("gpu", "ollama", "http://gpu-box:11434", "GPU_KEY", ("llama3.1:70b", "qwen3"))]
        assert [s.name for s in app.library.servers] == ["gpu"]  # the app sees it at once
        await fill(name="box")  # edit: renamed
        assert [s.name for s in load_servers(paths)] == ["box"]
        dialog.query_one("#remove", Button).press()
        await pilot.pause()
        assert load_servers(paths) == [] and app.library.servers == []
        data = tomllib.loads(paths.config_file.read_text())
        assert data["theme"] == "whirr-light" and "servers" not in data
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ServersDialog)


async def test_the_key_is_never_written_anywhere(whirr_home: Path, keyed_stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_KEY", "s3cret")
    app = remote_app(keyed_stand_in, "gpu/tiny")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        await send(pilot, "Say hello.")
        view = active_view(app)
        assert app.db.messages(view.session.id)[-1].content == ANSWER
        for fmt in ("markdown", "json"):
            app.export_session(view.session.id, fmt, whirr_home / f"export.{fmt}")
        screen = screen_text(app)
    written = [p for p in whirr_home.rglob("*") if p.is_file()]
    assert any(p.name == "whirr.db" for p in written) and any(p.name == "config.toml" for p in written)
    for path in written:
        assert b"s3cret" not in path.read_bytes(), path
    assert "s3cret" not in screen and "GPU_KEY" in (whirr_home / "config" / "config.toml").read_text()
