"""Screenshots of the model library (F3), compared with the SVGs in __snapshots__.

The fit is checked against a fixed amount of memory, and paths are shown relative to
$WHIRR_HOME or site-packages, so the pictures are the same on every machine. Update with:
    .venv/bin/python -m pytest tests/ui/test_library_snapshots.py --snapshot-update
"""

from __future__ import annotations

from textual.pilot import Pilot

from tests.ui.helpers import AppFactory, broken_file, highlight, listed, ready
from tui.modelfile import parse
from tui.models.personas import PersonaStore
from tui.paths import resolve_paths
from tui.screens.library import LibraryScreen

GIGABYTE = 1_000_000_000
PIRATE = "FROM smollm2:135m\nPARAMETER temperature 0.3\nSYSTEM You are a pirate.\n"


def library_with() -> None:
    """WHIRR_HOME with a persona and a broken file besides the built-in model."""
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    broken_file(resolve_paths().models_dir)


def showing(name: str, available: int):  # noqa: ANN201
    """A run_before that opens the library with `available` bytes free and highlights `name`."""

    async def run(pilot: Pilot) -> None:
        await ready(pilot)
        screen = LibraryScreen(pilot.app, "smollm2:135m", available=available)
        await pilot.app.push_screen(screen)
        await listed(pilot, screen)
        await highlight(pilot, screen, name)
        await ready(pilot)

    return run


def test_library_at_120x40(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    library_with()
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=showing("smollm2:135m", 8 * GIGABYTE))


def test_library_at_80x24_with_a_persona(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    library_with()
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=showing("pirate:latest", GIGABYTE // 10))


def test_library_broken_file(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    library_with()
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=showing("broken:latest", 8 * GIGABYTE))
