"""The Hugging Face screen with Pilot, against a stand-in hub on 127.0.0.1, and its screenshots."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, ProgressBar

from tests.hubserver import STARTER_REPO, FakeHub
from tui.models.download import DownloadManager, State
from tui.paths import resolve_paths
from tui.screens.hub import DownloadList, DownloadRow, HubScreen

AVAILABLE = 8 * 1024**3


class HubApp(App[None]):
    """Just the hub screen, with a fixed amount of free memory so screenshots do not vary."""

    def __init__(self) -> None:
        super().__init__()
        self.downloads = DownloadManager(resolve_paths())
        self.downloaded: list[str] = []
        self.animation_level = "none"

    def on_mount(self) -> None:
        self.push_screen(HubScreen(self.downloads, num_ctx=2048, available_memory=AVAILABLE))

    def on_hub_screen_model_downloaded(self, message: HubScreen.ModelDownloaded) -> None:
        self.downloaded.append(message.path)


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 60) -> None:
    """Let the app run until `condition` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await pilot.pause(0.05)


def status(pilot: Pilot) -> Label:
    return pilot.app.screen.query_one("#hub-status", Label)


async def search_and_open(pilot: Pilot) -> None:
    """Search for the test repos, open the starter's, wait for the fit verdict."""
    screen = pilot.app.screen
    screen.query_one(Input).cursor_blink = False
    await pilot.press(*"whirr-test", "enter")
    repos = screen.query_one("#hub-repos", DataTable)
    await until(pilot, lambda: repos.row_count == 3)
    await pilot.press("enter")
    files = screen.query_one("#hub-files", DataTable)
    await until(pilot, lambda: files.row_count == 1 and files.get_cell_at((0, 3)) != "checking…")
    await pilot.pause()


async def test_search_open_and_download(fake_hub: FakeHub, whirr_home: Path) -> None:
    app = HubApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await search_and_open(pilot)
        files = app.screen.query_one("#hub-files", DataTable)
        assert files.get_row_at(0)[:3] == ["SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1", "98 MB"]
        assert str(files.get_cell_at((0, 3))).startswith("fits: needs ")
        assert str(status(pilot).render()).startswith(f"{STARTER_REPO}: 1 GGUF model")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.downloaded))
        await pilot.pause(0.2)
        (row,) = app.screen.query(DownloadRow)
        assert row.download.state == State.DONE
        assert str(row.query_one(".dl-status", Label).render()) == "done · 98 MB"
        bar = row.query_one(ProgressBar)
        assert bar.progress == bar.total == row.download.total
        assert app.downloaded == [str(whirr_home / "data" / "models" / "hf.co" / STARTER_REPO / "SmolLM2-135M-Instruct.Q4_1.gguf")]


async def test_cancel_resume_and_discard_keys(fake_hub: FakeHub, whirr_home: Path) -> None:
    fake_hub.chunk_delay = 0.02
    app = HubApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await search_and_open(pilot)
        await pilot.press("enter")
        (row,) = app.screen.query(DownloadRow)
        download = row.download
        await until(pilot, lambda: download.done > 0)
        app.screen.query_one(DownloadList).focus()
        await pilot.press("c")
        await until(pilot, lambda: download.state == State.PAUSED)
        await pilot.pause(0.2)
        label = row.query_one(".dl-status", Label)
        assert "paused" in str(label.render()) and "kept (r: resume, d: discard)" in str(label.render())
        kept = download.done
        await pilot.press("r")
        await until(pilot, lambda: download.state == State.RUNNING and download.done > kept)
        await pilot.press("d")
        await until(pilot, lambda: download.state == State.CANCELLED)
        await pilot.pause(0.2)
        assert str(label.render()).startswith("cancelled")
        assert not any((whirr_home / "data" / "models" / ".partial").rglob("*.part"))
        assert app.downloaded == []


async def test_unreachable_hub_is_an_inline_message(whirr_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    app = HubApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"llama", "enter")
        await until(pilot, lambda: "cannot reach" in str(status(pilot).render()))
        assert status(pilot).has_class("error")
        assert "local models still work" in str(status(pilot).render())
        assert app.screen.query_one("#hub-repos", DataTable).row_count == 0


def test_hub_files_with_fit_snapshot(fake_hub: FakeHub, whirr_home: Path, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(HubApp(), terminal_size=(120, 30), run_before=search_and_open)


def test_hub_download_done_snapshot(fake_hub: FakeHub, whirr_home: Path, snap_compare) -> None:  # noqa: ANN001
    async def download(pilot: Pilot) -> None:
        await search_and_open(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: bool(pilot.app.downloaded))  # type: ignore[attr-defined]
        pilot.app.clear_notifications()
        await pilot.pause(0.3)

    assert snap_compare(HubApp(), terminal_size=(120, 30), run_before=download)


async def test_library_opens_the_hub_and_lists_the_download(fake_hub: FakeHub, make_app) -> None:  # noqa: ANN001
    from tests.ui.helpers import listed, names, open_library

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        library = await open_library(pilot)
        await pilot.press("h")
        assert isinstance(app.screen, HubScreen)
        await search_and_open(pilot)
        await pilot.press("enter")
        (row,) = app.screen.query(DownloadRow)
        await until(pilot, lambda: row.download.state == State.DONE)
        await pilot.press("escape")
        assert app.screen is library
        await listed(pilot, library)
        assert "hf.co/whirr-test/smollm2-135m-instruct-gguf:q4_1" in names(library)
