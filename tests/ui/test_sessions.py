"""Sessions: tabs, new/close/undo, rename, switching, restoring, settings, archive, delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from tests.ui.helpers import AppFactory, active_view, chat_screen, send, settle, wait_until
from tui.config import Config, save_config
from tui.engine.options import Options
from tui.paths import resolve_paths
from tui.screens.dialogs import ConfirmDialog, TextDialog
from tui.screens.session_dialog import SessionDialog, parse_settings
from tui.widgets.session_tabs import SessionTabs
from tui.widgets.transcript import Transcript
from tui.widgets.message import UserMessage


def tab_titles(app) -> list[str]:  # noqa: ANN001
    tabs = chat_screen(app).query_one(SessionTabs)
    return [str(tab.label) for tab in tabs.query("Tab")]


async def test_ctrl_n_opens_a_session_with_the_config_defaults(make_app: AppFactory) -> None:
    save_config(Config(default_model="tiny:q4", system="Be brief.", options=Options(temperature=0.1)), resolve_paths())
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert len(tab_titles(app)) == 2
        view = active_view(app)
        assert view.session.model == "tiny:q4"
        assert view.session.system == "Be brief."
        assert view.data.options.temperature == 0.1
        await send(pilot, "hi")
        engine = app.engines.engine_for("tiny:q4")
        request = engine.requests[-1]
        assert [(m.role, m.content) for m in request.messages] == [("system", "Be brief."), ("user", "hi")]
        assert request.options.temperature == 0.1


async def test_ctrl_w_closes_and_ctrl_z_brings_the_tab_back(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first chat")
        await pilot.press("ctrl+n")
        await send(pilot, "second chat")
        await pilot.press("alt+1")
        await pilot.pause()
        closed = active_view(app).session.id
        await pilot.press("ctrl+w")
        await pilot.pause()
        assert tab_titles(app) == ["second chat"]
        assert not app.db.get_session(closed).open
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert tab_titles(app) == ["first chat", "second chat"]
        assert active_view(app).session.id == closed
        assert app.db.get_session(closed).open


async def test_ctrl_z_after_the_undo_time_does_nothing(make_app: AppFactory, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("tui.screens.chat.UNDO_SECONDS", 0.05)
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "keep me")
        await pilot.press("ctrl+n")
        await pilot.press("alt+1", "ctrl+w")
        await wait_until(lambda: chat_screen(app).closed is None, what="the undo time to pass")
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert tab_titles(app) == ["New chat"]


async def test_closing_an_empty_session_deletes_it_and_the_last_tab_is_replaced(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        first = active_view(app).session.id
        await pilot.press("ctrl+w")
        await pilot.pause()
        assert len(tab_titles(app)) == 1
        assert active_view(app).session.id != first
        assert all(s.id != first for s in app.db.list_sessions(open_only=False))


async def test_f2_renames_the_session(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, TextDialog)
        await pilot.press(*"Plans", "enter")
        await pilot.pause()
        assert tab_titles(app) == ["Plans"]
        assert app.db.get_session(active_view(app).session.id).title == "Plans"


async def test_tab_switching_keys(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        for _ in range(2):
            await pilot.press("ctrl+n")
        await pilot.pause()
        ids = chat_screen(app).query_one(SessionTabs).session_ids()
        assert active_view(app).session.id == ids[2]
        await pilot.press("ctrl+pageup")
        await pilot.pause()
        assert active_view(app).session.id == ids[1]
        await pilot.press("ctrl+pagedown", "ctrl+tab")
        await pilot.pause()
        assert active_view(app).session.id == ids[0]  # wraps around
        await pilot.press("alt+3")
        await pilot.pause()
        assert active_view(app).session.id == ids[2]
        await pilot.press("alt+9")  # no such tab: nothing happens
        await pilot.pause()
        assert active_view(app).session.id == ids[2]


async def test_restarting_restores_every_open_tab_with_its_messages(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "alpha")
        await pilot.press("ctrl+n")
        await send(pilot, "beta")
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert tab_titles(app) == ["alpha", "beta"]
        await pilot.press("alt+1")
        await pilot.pause()
        users = [w.content for w in active_view(app).query(UserMessage)]
        assert users == ["alpha"]


async def test_session_dialog_validates_and_saves_parameters(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SessionDialog)
        await pilot.press(*"You are a pirate.")
        dialog.query_one("#field-temperature", Input).value = "warm"
        dialog.query_one("#field-num_ctx", Input).value = "2048"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog  # not saved: the error is shown next to the field
        assert "invalid float value [warm]" in str(dialog.query_one("#error-temperature").render())
        dialog.query_one("#field-temperature", Input).value = "0.25"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is not dialog
        session = app.db.get_session(active_view(app).session.id)
        assert session.system == "You are a pirate."
        view = active_view(app)
        assert view.data.options.temperature == 0.25
        assert view.data.options.num_ctx == 2048


def test_parse_settings_uses_the_modelfile_rules() -> None:
    settings, errors = parse_settings("sys", {"seed": "42", "top_k": "", "min_p": "0.05"}, "###\n</s>\n", Options(top_k=7))
    assert errors == {}
    assert settings is not None
    assert settings.options.seed == 42
    assert settings.options.top_k == 40  # empty means Ollama's default
    assert settings.options.min_p == 0.05
    assert settings.options.stop == ("###", "</s>")
    _, errors = parse_settings("", {"seed": "1.5", "num_ctx": "0"}, "", Options())
    assert errors == {"seed": "invalid int value [1.5]", "num_ctx": "num_ctx must be >= 1, got 0"}


async def test_archive_asks_first_and_the_session_can_be_reopened(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "old topic")
        session_id = active_view(app).session.id
        await chat_screen(app).run_action("archive_session")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert tab_titles(app) == ["old topic"]
        await chat_screen(app).run_action("archive_session")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert tab_titles(app) == ["New chat"]
        assert app.db.get_session(session_id).archived
        await chat_screen(app).run_action("reopen_session")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert tab_titles(app) == ["New chat", "old topic"]
        assert not app.db.get_session(session_id).archived
        assert [w.content for w in active_view(app).query(UserMessage)] == ["old topic"]


async def test_delete_asks_first_and_removes_the_session(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "secret")
        session_id = active_view(app).session.id
        await chat_screen(app).run_action("delete_session")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert any(s.id == session_id for s in app.db.list_sessions())
        await chat_screen(app).run_action("delete_session")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert all(s.id != session_id for s in app.db.list_sessions())
        assert tab_titles(app) == ["New chat"]


async def test_export_writes_markdown_and_json(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "export me")
        for action, name in (("export('markdown')", "chat.md"), ("export('json')", "chat.json")):
            await chat_screen(app).run_action(action)
            await pilot.pause()
            app.screen.query_one(Input).value = str(tmp_path / name)
            await pilot.press("enter")
            await pilot.pause()
        assert "export me" in (tmp_path / "chat.md").read_text()
        assert "export me" in (tmp_path / "chat.json").read_text()


async def test_search_jumps_to_the_message_in_its_session(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "the zebra question")
        zebra_session = active_view(app).session.id
        await pilot.press("ctrl+n")
        await send(pilot, "something else")
        await pilot.press("ctrl+f")
        await pilot.pause()
        await pilot.press(*"zebra")
        await wait_until(lambda: app.screen.query_one(OptionList).option_count, what="the search's hits")
        await pilot.press("enter", "enter")
        await settle(pilot)
        view = active_view(app)
        assert view.session.id == zebra_session
        found = view.query_one(Transcript).query(".-found")
        assert [w.content for w in found] == ["the zebra question"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("documents", [True, False])
async def test_export_proposes_the_documents_or_home_folder(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, documents: bool
) -> None:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True) if documents else home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # no user-dirs.dirs there
    monkeypatch.chdir(tmp_path)  # started from elsewhere: not proposed
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "export me")
        await chat_screen(app).run_action("export('markdown')")
        await pilot.pause()
        proposed = Path(app.screen.query_one(Input).value)
        assert proposed.parent == (home / "Documents" if documents else home)
        assert proposed.name == "export-me.md"
