"""Screenshots of the Modelfile editor, compared with the SVGs in __snapshots__.

Update them after an intended change with:
    .venv/bin/python -m pytest tests/ui/test_modelfile_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from tests.ui.helpers import AppFactory, ready
from tui.screens.modelfile_editor import ModelfileEditor

WITH_ERROR = '''# A pirate that counts
FROM smollm2:135m
PARAMETER temperature hot
PARAMETER stop "<|im_end|>"
SYSTEM """You are a pirate.
Answer like one."""
MESSAGE user Hello
MESSAGE assistant Arr!
'''


def editing(text: str | None = None, cursor: tuple[int, int] = (0, 0)) -> Callable[[Pilot], Awaitable[None]]:
    """A run_before that opens the editor (F4), puts `text` in it as an edit, and places the cursor."""

    async def run(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("f4")
        await pilot.pause()
        editor = pilot.app.screen
        assert isinstance(editor, ModelfileEditor)
        if text is not None:
            area = editor.area
            area.replace(text, (0, 0), area.document.end)
            editor.check_now()
        editor.area.move_cursor(cursor)
        # The FROM check reads the library in a thread and then shows its verdict: wait for it.
        await pilot.app.workers.wait_for_complete([w for w in pilot.app.workers if w.group == "check-base"])
        await pilot.pause()
        await ready(pilot)

    return run


def test_editor_new_modelfile(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=editing())


def test_editor_with_an_error(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=editing(WITH_ERROR, (2, 22)))


def test_editor_with_parameter_help(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    text = WITH_ERROR.replace("temperature hot", "temperature 0.7")
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=editing(text, (3, 12)))


def test_editor_at_80x24(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=editing(WITH_ERROR, (2, 22)))


def test_editor_completing_a_parameter_name(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    text = "FROM smollm2:135m\nPARAMETER te"
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=editing(text, (1, 12)))
