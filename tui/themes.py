"""Themes: the built-in `*.toml` files (the top-level `themes/` folder), plus the user's themes folder.

`tui/builtin_themes` links to `themes/`, so a checkout, an editable install and a wheel (which
copies the files into `tui/builtin_themes/`) all find them at the same place.

Each file holds one Textual Theme: its fields (name, primary, secondary, accent, warning,
error, success, foreground, background, surface, panel, boost, dark, luminosity_spread,
text_alpha) at the top level and CSS variables in a `[variables]` table. A file that cannot be
read or is not a valid theme (checked with msgspec: unknown fields, wrong types, colours
Textual cannot parse) is skipped with a one-line warning naming the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

import msgspec
from textual.color import Color, ColorParseError
from textual.theme import Theme

from tui.validation import located

BUILTIN_DIR = Path(__file__).parent / "builtin_themes"
DEFAULT_THEME = "whirr-dark"
_COLOR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background", "surface", "panel", "boost")


class ThemeFile(msgspec.Struct, forbid_unknown_fields=True):
    """What a theme file may hold: Textual Theme's fields with their types (checked by msgspec)."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    primary: str
    secondary: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    dark: bool = True
    luminosity_spread: float = 0.15
    text_alpha: float = 0.95
    variables: dict[str, str] = {}


class ThemeFileError(ValueError):
    """A theme file that is not a valid theme."""


def theme_from_dict(data: dict[str, Any]) -> Theme:
    """Build a Theme from a parsed TOML table, raising ThemeFileError naming the bad field."""
    try:
        checked = msgspec.convert(data, ThemeFile, strict=True)
    except msgspec.ValidationError as error:
        where, message = located(str(error))
        raise ThemeFileError(f"{where}: {message}" if where else message) from None
    for name in _COLOR_FIELDS:
        value = getattr(checked, name)
        if value is not None:
            try:
                Color.parse(value)
            except ColorParseError:
                raise ThemeFileError(f"{name}: not a colour: {value!r}") from None
    return Theme(**msgspec.structs.asdict(checked))


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
