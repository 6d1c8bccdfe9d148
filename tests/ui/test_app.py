"""The app around the chat: help, palette, key remapping, themes, models, bad files, sizes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.helpers import AppFactory, active_view, chat_screen, open_model_picker, palette_results, screen_text, send, settle, wait_until
from tui.app import WhirrApp
from tui.config import Config, load_config, save_config
from tui.paths import resolve_paths
from tui.screens.help import HelpScreen
from tui.screens.model_picker import ModelPicker
from tui.screens.search import SearchDialog
from tui.screens.session_dialog import SessionDialog
from tui.themes import load_themes
from tui.actions import APP_ACTIONS, CHAT_ACTIONS, DIALOG_ACTIONS, EDITOR_ACTIONS, HUB_ACTIONS, LIBRARY_ACTIONS, PROMPT_ACTIONS
from tui.widgets.session_tabs import SessionTabs
from tui.widgets.transcript import Transcript


def notices(app: WhirrApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_f1_and_question_mark_open_help_listing_every_binding(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(130, 240)) as pilot:  # tall enough to show every row
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for action in (*CHAT_ACTIONS, *PROMPT_ACTIONS, *LIBRARY_ACTIONS, *HUB_ACTIONS, *EDITOR_ACTIONS, *APP_ACTIONS, *DIALOG_ACTIONS):
            if not action.id.startswith("session.goto_"):
                assert f"{action.description}: " in text
        await pilot.press("escape")
        await pilot.pause()
        active_view(app).query_one(Transcript).focus()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_ctrl_q_quits(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_question_mark_in_the_prompt_is_just_a_character(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)
        assert active_view(app).query_one("PromptArea").text == "?"


async def test_every_action_is_in_the_command_palette(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for action in CHAT_ACTIONS:
            if action.palette:
                assert action.description in titles
        assert "Theme" in titles


async def test_a_palette_command_runs_its_action(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"New session")
        await wait_until(lambda: palette_results(app), what="the palette's matches")
        await pilot.press("enter")
        await settle(pilot)
        assert len(chat_screen(app).query_one(SessionTabs).session_ids()) == 2


async def test_keys_can_be_remapped_by_binding_id(whirr_home: Path, make_app: AppFactory) -> None:
    save_config(Config(keys={"session.new": "ctrl+t", "no.such.binding": "f9"}), resolve_paths())
    app = make_app()
    async with app.run_test(notifications=True) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert len(chat_screen(app).query_one(SessionTabs).session_ids()) == 1
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert len(chat_screen(app).query_one(SessionTabs).session_ids()) == 2
        assert any("no.such.binding" in message for message in notices(app))


async def test_theme_choice_is_applied_and_persisted(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        assert app.theme == "whirr-dark"
        app.theme = "whirr-light"
        await pilot.pause()
    config, _ = load_config(resolve_paths())
    assert config.theme == "whirr-light"
    app = make_app()
    async with app.run_test():
        assert app.theme == "whirr-light"


async def test_user_themes_are_added_and_bad_ones_skipped(make_app: AppFactory) -> None:
    themes = resolve_paths().themes_dir
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#123456"\ndark = true\n')
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    (themes / "garbage.toml").write_text("this is [not toml")
    save_config(Config(theme="mine"), resolve_paths())
    app = make_app()
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "mine"
        assert "broken" not in app.available_themes
        warnings = [m for m in notices(app) if "skipped" in m]
        assert len(warnings) == 2


async def test_the_model_picker_lists_models_and_switches_the_session(make_app: AppFactory) -> None:
    models = resolve_paths().models_dir
    models.mkdir(parents=True)
    (models / "broken-7b.Q4_0.gguf").write_bytes(b"GGUF" + b"\0" * 20)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "keep this")
        options = await open_model_picker(pilot)
        names = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert names == ["broken-7b:q4_0", "smollm2:135m"]
        assert options.get_option_at_index(0).disabled
        assert "fits in memory" in str(options.get_option_at_index(1).prompt)
        await pilot.press("escape")
        await pilot.pause()
        view = active_view(app)
        view.set_model("other:1b")
        await settle(pilot)
        assert app.db.get_session(view.session.id).model == "other:1b"
        await send(pilot, "and now?")
        assert len(view.query("UserMessage")) == 2  # the conversation is kept


async def test_a_session_whose_model_is_missing_opens_and_offers_the_picker(whirr_home: Path) -> None:
    app = WhirrApp()  # the real engines: the model does not exist
    async with app.run_test() as pilot:
        view = active_view(app)
        view.set_model("nowhere:7b")
        await settle(pilot)
        notice = view.query_one(".notice")
        assert "nowhere:7b" in str(notice.render())
        assert "Ctrl+O" in str(notice.render())
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        assert app.db.messages(view.session.id, offset=0, limit=10)[-1].state == "error"
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ModelPicker)


def newer_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 999")
        db.execute("CREATE TABLE future (x)")


def corrupt_database(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)


@pytest.mark.parametrize("spoil", [corrupt_database, newer_database])
async def test_an_unusable_database_is_reported_and_left_untouched(whirr_home: Path, make_app: AppFactory, spoil) -> None:  # noqa: ANN001
    database = resolve_paths().database_file
    database.parent.mkdir(parents=True)
    spoil(database)
    before = database.read_bytes()
    app = make_app()
    async with app.run_test(notifications=True) as pilot:
        await send(pilot, "still works")
        assert any("untouched" in message for message in notices(app))
        assert app.db.messages(active_view(app).session.id)[-1].content == "You said: still works"
    assert database.read_bytes() == before


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_small_terminals_work_for_every_dialog(make_app: AppFactory, size: tuple[int, int]) -> None:
    app = make_app(reply="# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('x' * 100)\n```\n")
    async with app.run_test(size=size) as pilot:
        await send(pilot, "a long question " * 10)
        for key, screen_type in (("f1", HelpScreen), ("ctrl+e", SessionDialog), ("ctrl+o", ModelPicker), ("ctrl+f", SearchDialog)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen_type)
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+pageup")
        await pilot.pause()
        assert len(chat_screen(app).query_one(SessionTabs).session_ids()) == 3


def test_the_built_in_themes_load_cleanly() -> None:
    themes, warnings = load_themes(None)
    assert warnings == []
    assert {"whirr-dark", "whirr-light", "whirr-high-contrast"} <= {t.name for t in themes}
    assert not next(t for t in themes if t.name == "whirr-light").dark


def test_the_app_command_registers_without_importing_textual() -> None:
    code = (
        "import argparse, sys\n"
        "from tui.commands import app\n"
        "parser = argparse.ArgumentParser(); app.register(parser.add_subparsers(dest='command'))\n"
        "args = parser.parse_args(['app'])\n"
        "assert args.func is app.app_command\n"
        "assert 'textual' not in sys.modules, 'textual imported at registration'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_help_shows_every_binding_id_and_a_remap_example_that_works(make_app: AppFactory) -> None:
    import tomllib

    from tui.config import config_from_dict
    from tui.screens.help import REMAP_HINT

    app = make_app()
    async with app.run_test(size=(130, 240)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = screen_text(app)
        for action in (*CHAT_ACTIONS, *PROMPT_ACTIONS, *LIBRARY_ACTIONS, *HUB_ACTIONS, *EDITOR_ACTIONS, *APP_ACTIONS, *DIALOG_ACTIONS):
            if not action.id.startswith("session.goto_"):
                assert action.id in text, action.id
        assert "Alt+1 …" in text and "over SSH and tmux" in text
    example = REMAP_HINT.split("[keys]", 1)[1].split("  ")[1]  # the line as the user would copy it
    config, problems = config_from_dict(tomllib.loads("[keys]\n" + example + "\n"))
    assert config.keys == {"session.new": "ctrl+t"} and not problems


async def test_help_at_60x20_keeps_room_for_descriptions_and_the_whole_hint(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = screen_text(app)
        assert "New session: Start a chat with the" in text  # not cut to a sliver
        assert '"session.new" = "ctrl+t"' in text and "Esc: close" in text
        assert all(len(line.rstrip()) <= 60 for line in text.splitlines())


async def test_an_invalid_key_string_is_refused_with_a_warning(whirr_home: Path, make_app: AppFactory) -> None:
    save_config(Config(keys={"session.new": "ctl+t", "session.rename": "ctrl+g"}), resolve_paths())
    app = make_app()
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause()
        assert any('"session.new" ignored' in m and "unknown modifier 'ctl'" in m for m in notices(app)), notices(app)
        assert '[keys] "session.new"' in screen_text(app)  # notices are plain text, not markup
        await pilot.press("ctrl+n")  # the default stays
        await pilot.pause()
        assert len(chat_screen(app).query_one(SessionTabs).session_ids()) == 2
        await pilot.press("f1")
        await pilot.pause()
        help_text = screen_text(app)
        assert "Ctl+T" not in help_text and "Ctrl+N" in help_text and "Ctrl+G" in help_text


async def test_keep_alive_comes_from_the_environment_or_a_warning(
    whirr_home: Path, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_config(Config(keep_alive="10m"), resolve_paths())
    monkeypatch.setenv("WHIRR_KEEP_ALIVE", "1h")
    assert make_app().keep_alive == 3600.0  # the environment wins over the config, as in `whirr run`
    monkeypatch.setenv("WHIRR_KEEP_ALIVE", "soon")
    app = make_app()
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause()
        assert any(m.startswith("invalid WHIRR_KEEP_ALIVE 'soon': time: invalid duration") and m.endswith("using config keep_alive")
                   for m in notices(app)), notices(app)
        assert app.keep_alive == 600.0  # what the runners get (WhirrApp.engines)
