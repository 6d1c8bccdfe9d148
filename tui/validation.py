"""msgspec's validation errors in words for a one-line warning.

config.toml and theme files are checked with msgspec (types, `Literal` choices, element types
of lists and tables, ranges); this turns its "Expected `int`, got `str` - at `$.options.top_k`"
into a place ("options.top_k") and a reason ("expected int, got str").
"""

from __future__ import annotations

import re

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


def located(error: str) -> tuple[str, str]:
    """Where the problem is ("" for the whole value) and what it is, TOML's words (table, list)."""
    match = _AT.match(error)
    assert match is not None  # the pattern matches any text
    message = match["message"].replace("`", "")
    message = (message[0].lower() + message[1:]).replace("object", "table").replace("array", "list")
    return (match["path"] or "").lstrip("."), message
