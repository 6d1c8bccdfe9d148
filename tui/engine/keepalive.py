"""keep_alive as Ollama reads it: how long a model stays loaded after its last request.

A duration in Go's notation ("5m", "1h30m", "90s", "500ms"), or a bare number of seconds;
0 unloads at once, a negative value keeps the model loaded until it is unloaded.
"""

from __future__ import annotations

import re

DEFAULT_KEEP_ALIVE = "5m"

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_keep_alive(text: str | float | int) -> float:
    """Seconds for a keep_alive value; raises ValueError with a one-line reason."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    raw = str(text).strip()
    try:
        return float(raw)
    except ValueError:
        pass
    sign = -1.0 if raw.startswith("-") else 1.0
    body = raw.lstrip("+-")
    parts = _PART.findall(body)
    if not body or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"invalid keep_alive '{text}' (use a duration like 5m, 1h30m, 90s, or seconds)")
    return sign * sum(float(number) * _UNITS[unit] for number, unit in parts)
