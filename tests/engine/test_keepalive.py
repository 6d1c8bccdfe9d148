"""keep_alive as Ollama reads it: the one parser every setting and request goes through.

The refusals' texts are what a real Ollama 0.24.0 answered to the same keep_alive fields
(time.ParseDuration's and api.Duration's own messages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import Config, keep_alive_seconds
from tui.engine.keepalive import FOREVER, KeepAliveError, parse_duration, parse_keep_alive

ACCEPTED = [
    ("5m", 300.0), ("1h30m", 5400.0), ("300ms", 0.3), ("90s", 90.0), ("2.5h", 9000.0), (".5s", 0.5), ("1.s", 1.0),
    ("1µs", 1e-6), ("1μs", 1e-6), ("1us", 1e-6), ("7ns", 7e-9), ("+5m", 300.0), ("0", 0.0), ("-0", 0.0), ("0s", 0.0),
    ("-1m", FOREVER), ("-1ns", FOREVER), (0, 0.0), (30, 30.0), (1.5, 1.5), (-1, FOREVER), (-0.5, FOREVER),
    (1e300, FOREVER), (10**400, FOREVER),  # longer than Go's longest duration: no timer can wait it
]
"""Accepted both in a request and as a setting: (value, seconds)."""

REFUSED = [
    ("soon", 'time: invalid duration "soon"'),
    ("300", 'time: missing unit in duration "300"'),
    ("5x", 'time: unknown unit "x" in duration "5x"'),
    ("", 'time: invalid duration ""'),
    (" 5m", 'time: invalid duration " 5m"'),
    ("5m ", 'time: unknown unit "m " in duration "5m "'),
    ("5 m", 'time: unknown unit " m" in duration "5 m"'),
    ("-.s", 'time: invalid duration "-.s"'),
    ("1e3s", 'time: unknown unit "e" in duration "1e3s"'),
    ("9999999999h", 'time: invalid duration "9999999999h"'),
    ("é", 'time: invalid duration "\\xc3\\xa9"'),
    (True, "Unsupported type: 'bool'"),
    ([1], "Unsupported type: '[]interface {}'"),
    ({}, "Unsupported type: 'map[string]interface {}'"),
]
"""Refused in a request, with Ollama's message for each."""


@pytest.mark.parametrize(("value", "seconds"), ACCEPTED)
def test_accepted_forms(value: object, seconds: float) -> None:
    assert parse_keep_alive(value, request=True) == pytest.approx(seconds)
    assert parse_keep_alive(value) == pytest.approx(seconds)


@pytest.mark.parametrize(("value", "message"), REFUSED)
def test_refused_forms_say_what_ollama_says(value: object, message: str) -> None:
    with pytest.raises(KeepAliveError) as refused:
        parse_keep_alive(value, request=True)
    assert str(refused.value) == message


@pytest.mark.parametrize(("text", "seconds"), [("300", 300.0), ("-1", FOREVER), ("+20", 20.0), ("1.5", 1.5), (".5", 0.5)])
def test_a_setting_may_be_a_number_of_seconds(text: str, seconds: float) -> None:
    assert parse_keep_alive(text) == seconds
    with pytest.raises(KeepAliveError, match="missing unit"):
        parse_keep_alive(text, request=True)  # a request's string must carry its unit, as in Ollama's API


@pytest.mark.parametrize("text", ["1e3", "5 minutes", "soon", "", "0x10", "1.2.3", ".", "nan", "inf", "٣"])
def test_a_setting_that_is_neither_a_duration_nor_whole_seconds_is_refused(text: str) -> None:
    with pytest.raises(KeepAliveError, match="time: "):
        parse_keep_alive(text)


def test_the_largest_go_duration_and_one_past_it() -> None:
    assert parse_duration("2562047h47m16.854775807s") == pytest.approx(9223372036.854775807)
    assert parse_duration("-2562047h47m16.854775808s") == pytest.approx(-9223372036.854775808)
    with pytest.raises(KeepAliveError, match="invalid duration"):
        parse_duration("2562047h47m16.854775808s")


def test_the_flag_wins_over_the_environment_over_the_config(monkeypatch: pytest.MonkeyPatch, whirr_home: Path) -> None:
    config = Config(keep_alive="10m")
    monkeypatch.delenv("WHIRR_KEEP_ALIVE", raising=False)
    assert keep_alive_seconds(Config()) == 300.0
    assert keep_alive_seconds(config) == 600.0
    monkeypatch.setenv("WHIRR_KEEP_ALIVE", "1h")
    assert keep_alive_seconds(config) == 3600.0
    assert keep_alive_seconds(config, "-1") == FOREVER
    monkeypatch.setenv("WHIRR_KEEP_ALIVE", "")
    assert keep_alive_seconds(config) == 600.0  # empty: not set
    monkeypatch.setenv("WHIRR_KEEP_ALIVE", "soon")
    with pytest.raises(KeepAliveError) as refused:
        keep_alive_seconds(config)
    assert str(refused.value) == (
        "invalid WHIRR_KEEP_ALIVE 'soon': time: invalid duration \"soon\" (use a duration like 5m, 1h30m, 300ms, or seconds)"
    )
    with pytest.raises(KeepAliveError, match="^invalid --keepalive '5x': time: unknown unit"):
        keep_alive_seconds(config, "5x")

