"""A screenshot of the servers dialog (library `m`, palette "Model servers"), compared with the
SVG in __snapshots__. The servers have fixed addresses, so the picture is the same everywhere."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from tests.ui.helpers import AppFactory
from tests.ui.test_snapshots import ready
from tui.paths import resolve_paths
from tui.servers import Server, save_server


def test_servers_dialog_snapshot(make_app: AppFactory, snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    paths = resolve_paths()
    save_server(paths, Server("gpu", "ollama", "http://gpu-box:11434", "GPU_KEY"))
    save_server(paths, Server("vllm", "openai", "https://vllm.example.com/v1", models=("qwen3",), verify=False))

    async def run(pilot: Pilot) -> None:
        await ready(pilot)
        pilot.app.action_servers()  # type: ignore[attr-defined]
        await pilot.pause()
        pilot.app.screen.query_one(OptionList).highlighted = 1
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run)
