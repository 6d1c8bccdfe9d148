"""Themes: the built-in `*.toml` files (the top-level `themes/` folder), plus the user's themes folder.

`tui/builtin_themes` links to `themes/`, so a checkout, an editable install and a wheel (which
copies the files into `tui/builtin_themes/`) all find them at the same place.

Each file holds one Textual Theme: its fields (name, primary, secondary, accent, warning,
error, success, foreground, background, surface, panel, boost, dark, luminosity_spread,
text_alpha) at the top level and CSS variables in a `[variables]` table. A file that cannot be
read or is not a valid theme is skipped with a one-line warning.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

BUILTIN_DIR = Path(__file__).parent / "builtin_themes"
DEFAULT_THEME = "whirr-dark"
_FIELDS = {f.name: f for f in fields(Theme)}
_COLOR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background", "surface", "panel", "boost")


class ThemeFileError(ValueError):
    """A theme file that is not a valid theme."""


def theme_from_dict(data: dict[str, Any]) -> Theme:
    """Build a Theme from a parsed TOML table, raising ThemeFileError on bad content."""
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ThemeFileError(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    for required in ("name", "primary"):
        if not isinstance(data.get(required), str) or not data[required]:
            raise ThemeFileError(f"'{required}' must be a non-empty string")
    for name in _COLOR_FIELDS:
        if name in data:
            _check_color(name, data[name])
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ThemeFileError("[variables] must map names to strings")
    if "dark" in data and not isinstance(data["dark"], bool):
        raise ThemeFileError("'dark' must be true or false")
    for number in ("luminosity_spread", "text_alpha"):
        if number in data and not isinstance(data[number], (int, float)):
            raise ThemeFileError(f"'{number}' must be a number")
    return Theme(**data)


def _check_color(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ThemeFileError(f"'{name}' must be a colour string")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"'{name}' is not a colour: {value!r}") from None


def load_theme_file(path: Path) -> Theme:
    """Read one theme file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ThemeFileError(str(error)) from None
    return theme_from_dict(data)


def load_themes(user_dir: Path | None) -> tuple[list[Theme], list[str]]:
    """Built-in themes, then the user's (which may replace a built-in by name); and warnings."""
    themes: dict[str, Theme] = {}
    warnings: list[str] = []
    folders = [BUILTIN_DIR] + ([user_dir] if user_dir is not None and user_dir.is_dir() else [])
    for folder in folders:
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as error:
                warnings.append(f"theme file {path} skipped: {error}")
                continue
            themes[theme.name] = theme
    return list(themes.values()), warnings
