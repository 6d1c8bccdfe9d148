"""Every theme Textual ships, whirr's own and a user's work, or are refused with a warning that
names the field: chosen from the palette, or from config.toml at startup."""

from __future__ import annotations

import pytest
from textual.app import App

from tests.ui.helpers import AppFactory, screen_text, send
from tui.config import Config, load_config, save_config
from tui.paths import resolve_paths
from tui.themes import ThemeFileError, load_themes, theme_from_dict

MARKDOWN = "# Title\n\n*one* `code` [link](http://x)\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |"
TEXTUAL_THEMES = sorted(App().available_themes)
WHIRR_THEMES = sorted(t.name for t in load_themes(None)[0])


def notices(app: App) -> list[str]:
    return [n.message for n in app._notifications]


async def test_every_theme_renders_an_answer_when_chosen(make_app: AppFactory) -> None:
    assert {"ansi-dark", "ansi-light"} <= set(TEXTUAL_THEMES)
    app = make_app(reply=lambda request: MARKDOWN)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "show me markdown")
        for name in [*TEXTUAL_THEMES, *WHIRR_THEMES]:
            app.theme = name  # what the palette's theme picker does
            await pilot.pause()
            assert app.theme == name
            assert "Title" in screen_text(app) and "quote" in screen_text(app), name
    assert load_config(resolve_paths())[0].theme == WHIRR_THEMES[-1]


@pytest.mark.parametrize("name", TEXTUAL_THEMES)
async def test_every_textual_theme_works_from_the_config(make_app: AppFactory, name: str) -> None:
    save_config(Config(theme=name), resolve_paths())
    app = make_app(reply=lambda request: MARKDOWN)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await send(pilot, "hi")
        assert app.theme == name and not notices(app)
        assert "Title" in screen_text(app)


USER_THEMES = {
    "ansi-colours.toml": ('name = "mine-ansi"\nprimary = "ansi_red"\naccent = "ansi_default"\npanel = "ansi_bright_black"\n', ""),
    "full.toml": ('name = "full"\nprimary = "#112233"\nsecondary = "rgb(10,20,30)"\nbackground = "hsl(0,0%,10%)"\ndark = true\n'
                  'luminosity_spread = 0.2\n[variables]\nblock-cursor-background = "#ff0000"\n', ""),
    "typo.toml": ('name = "typo"\nprimary = "#123456"\ncolour = "#000000"\n', "table contains unknown field colour"),
    "wrong-type.toml": ('name = "wt"\nprimary = "#123456"\ndark = "yes"\n', "dark: expected bool, got str"),
    "not-a-colour.toml": ('name = "nc"\nprimary = "#123456"\naccent = "blurple"\n', "accent: not a colour: 'blurple'"),
    "no-name.toml": ('primary = "#123456"\n', "table missing required field name"),
    "bad-variable.toml": ('name = "bv"\nprimary = "#123456"\n[variables]\nx = 3\n', "variables[...]: expected str, got int"),
    "not-toml.toml": ("name = [", "theme file"),
}


async def test_user_themes_work_or_are_refused_with_a_warning_naming_the_field(make_app: AppFactory) -> None:
    folder = resolve_paths().themes_dir
    folder.mkdir(parents=True)
    for file, (text, _problem) in USER_THEMES.items():
        (folder / file).write_text(text)
    save_config(Config(theme="mine-ansi"), resolve_paths())
    app = make_app(reply=lambda request: MARKDOWN)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await send(pilot, "hi")
        assert app.theme == "mine-ansi" and "Title" in screen_text(app)
        app.theme = "full"
        await pilot.pause()
        assert "Title" in screen_text(app)
        shown = notices(app)
        for file, (_text, problem) in USER_THEMES.items():
            if problem:
                assert any(file in message and problem in message for message in shown), (file, shown)
        assert len(shown) == sum(1 for _text, problem in USER_THEMES.values() if problem)


async def test_a_missing_theme_in_the_config_falls_back_with_a_warning(make_app: AppFactory) -> None:
    save_config(Config(theme="gone"), resolve_paths())
    app = make_app()
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "whirr-dark"
        assert any("theme 'gone' not found" in message for message in notices(app))


def test_theme_files_are_checked_field_by_field() -> None:
    with pytest.raises(ThemeFileError, match="luminosity_spread: expected float, got str"):
        theme_from_dict({"name": "x", "primary": "#fff", "luminosity_spread": "wide"})
    assert theme_from_dict({"name": "x", "primary": "#fff", "text_alpha": 1}).text_alpha == 1
