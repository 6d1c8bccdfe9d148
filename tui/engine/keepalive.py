"""keep_alive as Ollama reads it: how long a model stays loaded after its last request.

The one reader of every keep_alive whirr is given: config.toml's `keep_alive`, the
WHIRR_KEEP_ALIVE environment variable, `--keepalive`, and the `keep_alive` field of an API
request. A number is seconds; a string is a Go duration ("5m", "1h30m", "300ms", "0"); a
setting's string may also be a number of seconds ("300", "1.5"; OLLAMA_KEEP_ALIVE takes whole
ones), where an API request's may not (as in Ollama's API). 0 unloads at once; a negative value keeps the model
loaded until it is unloaded (FOREVER).

Go's duration grammar and its error texts are reproduced by hand: Ollama answers a bad
keep_alive with time.ParseDuration's own message, and no Python library parses Go durations
with Go's errors.
"""

from __future__ import annotations

import math
import threading

DEFAULT_KEEP_ALIVE = "5m"
"""Ollama's default: a model stays loaded five minutes after its last request."""
DEFAULT_KEEP_ALIVE_S = 300.0
"""DEFAULT_KEEP_ALIVE in seconds."""
ENV_VAR = "WHIRR_KEEP_ALIVE"
"""The environment variable that overrides config.toml's keep_alive (like OLLAMA_KEEP_ALIVE)."""
FOREVER = -1.0
"""The keep_alive of a model kept loaded until it is unloaded (any negative value reads as it)."""

_NANOSECONDS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_LIMIT = 1 << 63  # Go's time.Duration is an int64 of nanoseconds
_LONGEST_S = threading.TIMEOUT_MAX
"""Longer than this (Go's longest duration, about 292 years) is forever: no timer can wait it."""
_GO_TYPES = {bool: "bool", list: "[]interface {}", dict: "map[string]interface {}"}


class KeepAliveError(ValueError):
    """A keep_alive that cannot be read; the message is Ollama's (Go's) text."""


def _quote(text: str) -> str:
    """A string quoted as Go's time package quotes it in errors (bytes outside printable
    ASCII as \\xNN)."""
    out = ['"']
    for char in text:
        if char < " " or ord(char) >= 0x80:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append("\\" + char if char in '"\\' else char)
    return "".join(out) + '"'


def parse_duration(text: str) -> float:
    """Seconds of a Go duration string ([-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+, or "0"), as Go's
    time.ParseDuration reads it; KeepAliveError with Go's message otherwise."""
    invalid = KeepAliveError(f"time: invalid duration {_quote(text)}")
    rest = text
    negative = False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise invalid
    total = 0
    while rest:
        if not (rest[0] == "." or "0" <= rest[0] <= "9"):
            raise invalid
        digits = len(rest) - len(rest.lstrip("0123456789"))
        whole, rest = rest[:digits], rest[digits:]
        fraction = ""
        if rest.startswith("."):
            rest = rest[1:]
            places = len(rest) - len(rest.lstrip("0123456789"))
            fraction, rest = rest[:places], rest[places:]
        if not whole and not fraction:
            raise invalid  # no digits, as in ".s"
        length = 0
        while length < len(rest) and not (rest[length] == "." or "0" <= rest[length] <= "9"):
            length += 1
        if length == 0:
            raise KeepAliveError(f"time: missing unit in duration {_quote(text)}")
        unit, rest = rest[:length], rest[length:]
        if unit not in _NANOSECONDS:
            raise KeepAliveError(f"time: unknown unit {_quote(unit)} in duration {_quote(text)}")
        nanoseconds = int(whole or "0") * _NANOSECONDS[unit]
        if fraction:
            nanoseconds += int(int(fraction) * _NANOSECONDS[unit] / 10 ** len(fraction))
        total += nanoseconds
        if total > _LIMIT:
            raise invalid
    if total == _LIMIT and not negative:
        raise invalid
    return -total / 1e9 if negative else total / 1e9


def parse_keep_alive(value: object, *, request: bool = False) -> float:
    """Seconds a model stays loaded after a request, from any of keep_alive's forms: 0 unloads
    at once, FOREVER (-1.0) for any negative value.

    `request`: the value is an API request's JSON field, read exactly as Ollama reads it
    (numbers, Go durations; other JSON types refused as Ollama refuses them). Otherwise it is
    a setting (config, WHIRR_KEEP_ALIVE, --keepalive), where a string that is a number of
    seconds is accepted too. Raises KeepAliveError with Ollama's message."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise KeepAliveError(f"Unsupported type: '{_GO_TYPES.get(type(value), type(value).__name__)}'")
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except KeepAliveError:
            if request or not _is_decimal(value):
                raise
            seconds = float(value)  # a setting's second form: seconds
    else:
        if isinstance(value, float) and math.isnan(value):
            raise KeepAliveError(f"time: invalid duration {value}")
        seconds = float(value) if abs(value) < _LONGEST_S else FOREVER  # (a huge int has no float)
    return FOREVER if seconds < 0 or seconds >= _LONGEST_S else seconds


def _is_decimal(text: str) -> bool:
    """A plain decimal number: an optional sign, digits, and at most one point ("300", "-1", "1.5")."""
    digits = (text[1:] if text[:1] in ("-", "+") else text).replace(".", "", 1)
    return digits.isascii() and digits.isdigit()
