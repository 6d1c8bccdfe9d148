"""The meters panel shows what a `whirr serve` on the same machine (same WHIRR_HOME) serves,
through the server's registry entry; the server's processes are shown apart from the app's."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import httpx
import psutil
import pytest

from tests.server.conftest import GREEDY, start_server
from tests.ui.helpers import AppFactory, chat_screen, screen_text, settle, wait_until
from tests.ui.test_meters_panel import READINGS, seeded_with_energy
from tui.engine.runner.registry import ServedEntry, served_dir, serving, write_entry
from tui.paths import resolve_paths
from tui.widgets.meters_panel import machine_text, served_text

ENTRY = ServedEntry(
    pid=os.getpid(),
    started=psutil.Process().create_time(),
    address="127.0.0.1:11434",
    answers=12,
    tokens=3400,
    energy_j=120.4,
    measured=False,
    answering=2,
    rate=41.04,
    pids=(os.getpid(),),
)
"""What a server writes (the test's own process stands in for the server, so the entry is live)."""


def serving_readings() -> list:
    """The panel's fixed readings, with a server's processes read too."""
    return [replace(s, served_rss_bytes=210 * 1024**2, served_cpu_percent=95.0) for s in READINGS]


def test_served_text_says_what_is_served_now() -> None:
    text = served_text([ENTRY]).plain
    assert "served at 127.0.0.1:11434" in text
    assert "12 answers · 3,400 tokens" in text
    assert "120 J estimated" in text
    assert "41.0 tok/s now · 2 answering" in text
    idle = served_text([replace(ENTRY, answers=1, answering=0, rate=0.0, measured=True)]).plain
    assert "1 answer · 3,400 tokens" in idle and "120 J measured" in idle and "idle" in idle


def test_the_machine_section_tells_the_apps_processes_from_the_servers() -> None:
    alone = machine_text(READINGS[-1], READINGS).plain
    assert "whirr RSS 315 MB · CPU 14%" in alone and "serve" not in alone
    both = machine_text(serving_readings()[-1], READINGS).plain
    assert "app   RSS 315 MB · CPU 14%" in both
    assert "serve RSS 220 MB · CPU 95%" in both


def test_an_entry_of_a_dead_or_reused_pid_is_ignored_and_deleted(whirr_home: Path) -> None:
    directory = served_dir(resolve_paths())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_entry(directory, replace(ENTRY, pid=gone.pid))
    reused = replace(ENTRY, started=ENTRY.started - 3600)  # this pid, but another process's start time
    write_entry(directory, reused)
    assert serving(directory) == []
    assert list(directory.iterdir()) == []
    write_entry(directory, ENTRY)
    assert serving(directory) == [ENTRY]


def test_an_unreadable_entry_is_deleted(whirr_home: Path) -> None:
    directory = served_dir(resolve_paths())
    directory.mkdir(parents=True)
    (directory / "1.json").write_text('{"pid": 1}', encoding="utf-8")
    (directory / "2.json").write_text("not json", encoding="utf-8")
    assert serving(directory) == []
    assert list(directory.iterdir()) == []


async def test_a_stale_entry_shows_nothing(make_app: AppFactory) -> None:
    directory = served_dir(resolve_paths())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_entry(directory, replace(ENTRY, pid=gone.pid))
    app = seeded_with_energy(make_app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await wait_until(lambda: not (directory / f"{gone.pid}.json").exists(), what="the stale entry deleted")
        await pilot.pause()
        assert "served at" not in screen_text(app)
        assert not chat_screen(app).query_one("#served").display


def test_meters_panel_with_a_server(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    """The panel while a `whirr serve` here answers: its section and its processes' line."""
    write_entry(served_dir(resolve_paths()), ENTRY)
    app = seeded_with_energy(make_app)
    assert app.sampler is not None
    for sample in serving_readings():
        app.sampler.record(sample)

    async def served_shown(pilot) -> None:  # noqa: ANN001
        from tests.ui.test_snapshots import ready

        await ready(pilot)
        await wait_until(lambda: "served at" in screen_text(app), what="the served section")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 44), run_before=served_shown)


@pytest.mark.model
async def test_the_app_shows_what_a_real_whirr_serve_answers(make_app: AppFactory, tmp_path: Path) -> None:
    server = start_server(tmp_path)  # the same WHIRR_HOME as the app's (tmp_path / "whirr-home")
    assert served_dir(resolve_paths()) == server.home / "cache" / "served"
    app = make_app()
    assert app.sampler is not None
    app.sampler.start()  # real readings: the server's processes get their own line
    try:
        async with app.run_test(size=(140, 44)) as pilot:
            await settle(pilot)
            port = server.url.rsplit(":", 1)[1]
            await _wait_for(pilot, f"served at 127.0.0.1:{port}")
            await _wait_for(pilot, "0 answers · 0 tokens")
            await _wait_for(pilot, "serve RSS")
            assert "app   RSS" in screen_text(app) and "idle" in screen_text(app)

            body = {"model": "smollm2:135m", "messages": [{"role": "user", "content": "Say hi"}],
                    "stream": False, "options": GREEDY}
            reply = (await asyncio.to_thread(httpx.post, server.url + "/api/chat", json=body, timeout=120)).json()
            tokens = reply["eval_count"]
            assert tokens > 0 and reply["energy_joules"] > 0
            await _wait_for(pilot, f"1 answer · {tokens} tokens")
            entry = serving(served_dir(resolve_paths()))[0]
            assert entry.answers == 1 and entry.energy_j == pytest.approx(reply["energy_joules"], abs=1e-3)
            assert len(entry.pids) == 2, "the server and the runner of its model"
            await _wait_for(pilot, "idle")

            server.stop()
            await wait_until(lambda: "served at" not in screen_text(app), timeout=20, what="the served section gone")
            assert not list(served_dir(resolve_paths()).iterdir()), "the server removed its entry"
            await _wait_for(pilot, "whirr RSS")
            assert "serve RSS" not in screen_text(app)
    finally:
        server.stop()
        app.sampler.stop()
        app.sampler.probe.close()


def test_the_entry_round_trips(whirr_home: Path) -> None:
    assert ServedEntry.from_dict(asdict(ENTRY)) == ENTRY


async def _wait_for(pilot, text: str) -> None:  # noqa: ANN001
    await wait_until(lambda: text in screen_text(pilot.app), timeout=30, what=f"{text!r} on the screen")
