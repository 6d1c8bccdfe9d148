"""`whirr run --keepalive`, WHIRR_KEEP_ALIVE and config's keep_alive: every form the one parser
(tui.engine.keepalive) accepts gets past it, every other is one line naming where it came from.
An accepted value is seen by the next check, the model lookup, failing on a name that is not
there: no model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.test_keepalive import ACCEPTED

SETTINGS = [str(value) for value, _ in ACCEPTED if isinstance(value, str) and value] + ["300", "1.5", "-1"]
REFUSED = {
    "soon": 'time: invalid duration "soon"',
    "5x": 'time: unknown unit "x" in duration "5x"',
    "5 minutes": 'time: unknown unit " minutes" in duration "5 minutes"',
    "1e3": 'time: unknown unit "e" in duration "1e3"',
    "": 'time: invalid duration ""',
}
HINT = " (use a duration like 5m, 1h30m, 300ms, or seconds)"


@pytest.fixture(autouse=True)
def no_keep_alive_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHIRR_KEEP_ALIVE", raising=False)


def test_accepted_keepalive_forms_get_past_the_parser(run_whirr) -> None:
    for value in SETTINGS:
        result = run_whirr("run", "no-such-model", "hi", f"--keepalive={value}")
        assert (result.returncode, result.stderr) == (1, "Error: model 'no-such-model' not found\n"), value


def test_refused_keepalive_forms_are_one_line(run_whirr, monkeypatch: pytest.MonkeyPatch) -> None:
    for value, reason in REFUSED.items():
        result = run_whirr("run", "no-such-model", "hi", f"--keepalive={value}")
        assert (result.returncode, result.stderr) == (1, f"Error: invalid --keepalive {value!r}: {reason}{HINT}\n")
    monkeypatch.setenv("WHIRR_KEEP_ALIVE", "soon")
    result = run_whirr("run", "no-such-model", "hi")
    assert result.stderr == f"Error: invalid WHIRR_KEEP_ALIVE 'soon': {REFUSED['soon']}{HINT}\n"
    assert run_whirr("run", "no-such-model", "hi", "--keepalive", "1m").stderr == "Error: model 'no-such-model' not found\n"


def test_a_bad_config_keep_alive_is_a_warning_and_the_default(run_whirr, whirr_home: Path) -> None:
    config = whirr_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('keep_alive = "5 min"\n')
    result = run_whirr("run", "no-such-model", "hi")
    assert result.stderr == (
        "warning: config.toml: keep_alive: time: unknown unit \" min\" in duration \"5 min\"; using the default, 5m\n"
        "Error: model 'no-such-model' not found\n"
    )
