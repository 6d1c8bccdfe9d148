"""Screenshots of every screen and dialog, compared with the SVGs in __snapshots__.

Update them after an intended change with:
    .venv/bin/python -m pytest tests/ui/test_snapshots.py --snapshot-update
Answers come from the database with fixed statistics, so no clock or speed shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from textual.pilot import Pilot
from textual.widgets import OptionList

from tests.ui.helpers import AppFactory, chat_screen, ready, wait_until
from tui.app import WhirrApp
from tui.engine.base import Stats
from tui.engine.options import Options
from tui.screens.model_picker import ModelPicker

ANSWER = """# Sorting a list

Use `sorted()` for a new list, or `.sort()` in place:

```python
numbers = [3, 1, 2]
print(sorted(numbers))
```

| method | returns |
|--------|---------|
| sorted | a new list |
| sort   | None |

- works on any iterable
- takes `key=` and `reverse=`
"""


def seeded(make_app: AppFactory, turns: Sequence[tuple[str, str]], title: str = "Sorting", **session: object) -> WhirrApp:
    """An app whose database holds one open session with these (question, answer) turns."""
    app = make_app()
    db = app.db
    record = db.create_session(title, str(session.get("model", "smollm2:135m")), system="", options=Options(), persona=None)
    for question, answer in turns:
        db.add_message(record.id, "user", question, state="done", stats=None)
        stats = Stats(eval_count=96, eval_duration=1.2, finish_reason="stop")
        db.add_message(record.id, "assistant", answer, state="done", stats=stats)
    return app


def pressing(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """A run_before that waits, presses keys, and waits again (with cursors still)."""

    async def run(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press(*keys)
        await pilot.pause()
        await ready(pilot)

    return run


def test_empty_chat(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(), run_before=ready)


def test_chat_with_markdown_answer(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("How do I sort a list in Python?", ANSWER)])
    assert snap_compare(app, terminal_size=(100, 40), run_before=ready)


def test_chat_at_60x20(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("How do I sort a list in Python?", ANSWER)])
    assert snap_compare(app, terminal_size=(60, 20), run_before=ready)


def test_thinking_collapsed(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("What is 6 x 7?", "<think>\nSix sevens: 42.\n</think>\n\nIt is **42**.")], title="Maths")
    assert snap_compare(app, run_before=ready)


def test_light_theme(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("How do I sort a list in Python?", ANSWER)])
    app.theme = "whirr-light"
    assert snap_compare(app, terminal_size=(100, 40), run_before=ready)


def test_high_contrast_theme(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("How do I sort a list in Python?", ANSWER)])
    app.theme = "whirr-high-contrast"
    assert snap_compare(app, terminal_size=(100, 40), run_before=ready)


def test_help_screen(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(), terminal_size=(100, 40), run_before=pressing("f1"))


def test_session_dialog(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(), terminal_size=(90, 40), run_before=pressing("ctrl+e"))


def test_session_dialog_with_an_error(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    keys = ("ctrl+e", "tab", "ctrl+a", "ctrl+k", *"hot", "ctrl+s")
    assert snap_compare(make_app(), terminal_size=(90, 40), run_before=pressing(*keys))


def test_rename_dialog(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(make_app(), run_before=pressing("f2"))


def test_model_picker(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    async def picker(pilot: Pilot) -> None:
        await ready(pilot)
        app = pilot.app
        picker = ModelPicker(app.library, "smollm2:135m", 4096, available_memory=8 * 1024**3)  # type: ignore[attr-defined]
        app.push_screen(picker)
        await wait_until(lambda: picker.is_mounted and picker.query_one(OptionList).option_count, what="the picker's models")
        await ready(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 24), run_before=picker)


def test_search_dialog_with_results(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("How do I sort a list in Python?", ANSWER), ("And a dict?", "Use `sorted(d.items())`.")])

    async def search(pilot: Pilot) -> None:
        await pressing("ctrl+f", *"sorted")(pilot)
        await wait_until(lambda: pilot.app.screen.query_one(OptionList).option_count, what="the search's hits")
        await ready(pilot)

    assert snap_compare(app, terminal_size=(100, 24), run_before=search)


def test_delete_confirmation(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("Question?", "Answer.")])

    async def confirm(pilot: Pilot) -> None:
        await ready(pilot)
        await chat_screen(pilot.app).run_action("delete_session")  # type: ignore[arg-type]
        await pilot.pause()
        await ready(pilot)

    assert snap_compare(app, run_before=confirm)


def test_copy_choice(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    app = seeded(make_app, [("How do I sort a list in Python?", ANSWER)])
    assert snap_compare(app, run_before=pressing("ctrl+y"))


def test_missing_model_notice(whirr_home, snap_compare) -> None:  # noqa: ANN001
    app = WhirrApp()
    app.animation_level = "none"
    app.db.create_session("Old chat", "gone:7b", system="", options=Options(), persona=None)
    assert snap_compare(app, run_before=ready)


def test_meters_panel_at_140_columns(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    from tests.ui.test_meters_panel import seeded_with_energy

    assert snap_compare(seeded_with_energy(make_app), terminal_size=(140, 40), run_before=ready)


def test_meters_panel_toggled_on_at_80_columns(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    from tests.ui.test_meters_panel import seeded_with_energy

    assert snap_compare(seeded_with_energy(make_app), terminal_size=(80, 24), run_before=pressing("f5"))


def test_loaded_models_dialog(make_app: AppFactory, snap_compare) -> None:  # noqa: ANN001
    """The palette's Loaded models, as `whirr ps` lays it out (rows fixed here: a real runner's
    memory and deadline change from run to run; tests/ui/test_runner_app.py drives the real one)."""
    from tui.format import columns
    from tui.screens.dialogs import ChoiceDialog

    lines = columns([["NAME", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"],
                     ["smollm2:135m", "187 MB", "100% CPU", "4096", "4 minutes from now"],
                     ["qwen2.5:0.5b", "512 MB", "100% CPU", "8192", "Forever"]], gap=3)

    async def run(pilot: Pilot) -> None:
        await ready(pilot)
        pilot.app.push_screen(ChoiceDialog("Loaded models", lines[1:], "Enter: unload   Esc: close", header=lines[0]))
        await ready(pilot)

    assert snap_compare(make_app(), run_before=run)
