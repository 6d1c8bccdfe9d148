"""The Modelfile editor (F4): problems as you type, help, completion, open, save, try it, and
never losing unsaved edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, OptionList

from tests.disk import Disk, disk_home  # noqa: F401  (a fixture)
from tests.ui.helpers import AppFactory, active_view, chat_screen, press_now, screen_text, send, settle, wait_until
from tui.app import WhirrApp
from tui.config import Config, save_config
from tui.engine.base import ChatMessage
from tui.engine.options import Options
from tui.modelfile import parse
from tui.models.personas import PersonaStore
from tui.paths import resolve_paths
from tui.screens.chat import ChatScreen
from tui.screens.dialogs import ChoiceDialog, TextDialog
from tui.screens.modelfile_editor import CHECK_DELAY, ModelfileEditor
from tui.widgets.message import AnswerMessage
from tui.widgets.try_it import TryIt

PIRATE = "FROM smollm2:135m\nPARAMETER temperature 0.3\nSYSTEM You are a pirate.\n"
LIMIT = 180.0  # seconds for answers of the real model on a loaded 2-core machine


async def open_editor(pilot: Pilot) -> ModelfileEditor:
    """Press F4 and return the editor."""
    await settle(pilot)
    await pilot.press("f4")
    await pilot.pause()
    editor = pilot.app.screen
    assert isinstance(editor, ModelfileEditor)
    return editor


async def type_text(pilot: Pilot, text: str) -> None:
    """Type like a user, key by key (newlines as Enter)."""
    await pilot.press(*("enter" if c == "\n" else "space" if c == " " else c for c in text))


async def replace_text(pilot: Pilot, editor: ModelfileEditor, text: str) -> None:
    """Put `text` in the editor as an edit (so it counts as unsaved) with the cursor at its end."""
    area = editor.area
    area.replace(text, (0, 0), area.document.end)
    area.move_cursor(area.document.end)
    await pilot.pause(CHECK_DELAY + 0.2)


async def choose(pilot: Pilot, title: str, index: int) -> None:
    """Pick entry `index` of the choice dialog now shown."""
    await wait_until(lambda: isinstance(pilot.app.screen, ChoiceDialog), what="the choice dialog")
    dialog = pilot.app.screen
    assert isinstance(dialog, ChoiceDialog) and dialog.query_one("#dialog").border_title == title
    options = dialog.query_one(OptionList)
    await wait_until(lambda: options.option_count, what="the choices")
    options.highlighted = index
    await pilot.press("enter")
    await pilot.pause()


async def answer_name(pilot: Pilot, name: str) -> None:
    """Type a name into the text dialog now shown and press Enter."""
    await wait_until(lambda: isinstance(pilot.app.screen, TextDialog), what="the name dialog")
    pilot.app.screen.query_one(Input).value = name
    await pilot.press("enter")
    await pilot.pause()


def notices(app: WhirrApp) -> list[str]:
    """The notifications shown so far."""
    return [n.message for n in app._notifications]


async def wait_for(pilot: Pilot, condition, timeout: float = 10.0) -> None:  # noqa: ANN001
    """Wait until `condition()` holds (the app's loop runs meanwhile)."""
    await wait_until(condition, timeout)


async def test_f4_opens_a_new_modelfile_from_the_default_model(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        assert "FROM smollm2:135m" in editor.area.text
        assert not editor.dirty
        text = screen_text(app)
        assert "New Modelfile" in text and "No problems" in text
        assert "Save" in text and "Try" in text  # the footer


async def test_a_typed_error_is_shown_at_its_line(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM smollm2:135m\nSYSTEM Be brief.\n")
        await type_text(pilot, "PARAMETER temperature hot")
        await pilot.pause(CHECK_DELAY + 0.2)
        assert editor.area.problems == {3: "error"}
        assert "✗ line 3: invalid float value [hot]" in screen_text(app)
        assert editor.dirty and "modified" in screen_text(app)
        # Fixing it clears the problem after the pause.
        await pilot.press("backspace", "backspace", "backspace", "0", ".", "2")
        await pilot.pause(CHECK_DELAY + 0.2)
        assert editor.area.problems == {}
        assert "No problems" in screen_text(app)


async def test_a_from_that_names_no_model_is_a_problem_at_its_line(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "# a persona\nFROM nowhere:7b\nSYSTEM hi\n")
        await wait_for(pilot, lambda: editor.area.problems == {2: "error"})
        assert "✗ line 2: model 'nowhere:7b' not found" in screen_text(app)
        area = editor.area
        area.replace("smollm2:135m", (1, 5), (1, 15))
        await pilot.pause(CHECK_DELAY + 0.2)
        await wait_for(pilot, lambda: editor.area.problems == {})
        assert "No problems" in screen_text(app)


async def test_help_for_the_parameter_under_the_cursor(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM smollm2:135m\nPARAMETER num_ctx 2048\nSYSTEM hi\n")
        editor.area.move_cursor((1, 12))
        await pilot.pause()
        text = screen_text(app)
        assert "num_ctx  int · default 4096" in text
        assert "context window in tokens" in text
        editor.area.move_cursor((2, 3))
        await pilot.pause()
        assert "SYSTEM  the system prompt" in screen_text(app)


async def test_completion_of_instruction_and_parameter_names(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM smollm2:135m\n")
        await type_text(pilot, "PA")
        assert editor.area.suggestion == "RAMETER "
        await pilot.press("tab")
        await type_text(pilot, "t")
        assert "Tab: temperature, top_k, top_p, typical_p" in screen_text(app)
        await type_text(pilot, "e")
        await pilot.press("tab")
        await type_text(pilot, "0")
        assert editor.area.document.lines[1] == "PARAMETER temperature 0"
        assert editor.area.has_focus  # Tab completed instead of moving focus
        await pilot.press("enter", "tab")
        assert not editor.area.has_focus  # with nothing to complete, Tab moves on


async def test_open_a_persona_and_save_it_back(make_app: AppFactory) -> None:
    store = PersonaStore(resolve_paths())
    store.save("pirate", parse(PIRATE))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("ctrl+o")
        await choose(pilot, "Open a Modelfile", 0)
        await wait_for(pilot, lambda: editor.source.name == "pirate:latest")
        assert "SYSTEM You are a pirate." in editor.area.text
        assert "Persona pirate:latest" in screen_text(app)
        editor.area.replace("a parrot.", (editor.area.document.line_count - 2, len("SYSTEM You are ")), (editor.area.document.line_count - 2, len("SYSTEM You are a pirate.")))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not editor.dirty)
        saved = store.get("pirate")
        assert saved is not None and saved.modelfile.system == "You are a parrot."


async def test_save_asks_a_name_and_creates_a_persona_the_chat_can_use(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM smollm2:135m\nSYSTEM You are a parrot.\n")
        await pilot.press("ctrl+s")
        await answer_name(pilot, "Parrot")
        await wait_for(pilot, lambda: not editor.dirty)
        assert editor.source.name == "parrot:latest"
        persona = PersonaStore(resolve_paths()).get("parrot")
        assert persona is not None and persona.modelfile.system == "You are a parrot."
        await pilot.press("f4")  # nothing unsaved: straight back to the chat
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        active_view(app).set_model("parrot:latest")
        await send(pilot, "hello")
        request = app.engines.engine_for("parrot:latest").requests[-1]
        assert request.messages[0] == ChatMessage("system", "You are a parrot.")


async def test_save_as_and_revert(make_app: AppFactory) -> None:
    store = PersonaStore(resolve_paths())
    store.save("pirate", parse(PIRATE))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        assert await editor.open("pirate")
        original = editor.area.text
        await type_text(pilot, "# a copy\n")
        await pilot.press("alt+s")
        await answer_name(pilot, "corsair:v2")
        await wait_for(pilot, lambda: editor.source.name == "corsair:v2")
        assert store.get("corsair:v2") is not None and store.get("pirate") is not None
        await type_text(pilot, "# more\n")
        await pilot.press("ctrl+r")
        await pilot.press("y")
        await pilot.pause()
        assert editor.area.text == "# a copy\n" + original and not editor.dirty


async def test_a_modelfile_with_errors_is_not_saved(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM nowhere:7b\nSYSTEM hi\n")
        await pilot.press("ctrl+s")
        await answer_name(pilot, "lost")
        await wait_for(pilot, lambda: "Not saved: model 'nowhere:7b' not found" in notices(app))
        assert editor.dirty and PersonaStore(resolve_paths()).get("lost") is None


async def test_try_it_streams_the_unsaved_persona_and_escape_stops_it(make_app: AppFactory) -> None:
    app = make_app(reply="Arr " * 1000, rate=100.0)  # ten seconds: Escape stops it long before
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM smollm2:135m\nSYSTEM You are a pirate.\nPARAMETER temperature 0\n")
        await pilot.press("ctrl+t")
        await type_text(pilot, "hi")
        await press_now(pilot, "enter")  # Pilot's press() would wait for the answer to end
        try_it = editor.query_one(TryIt)
        await wait_for(pilot, lambda: bool(try_it.query(AnswerMessage)) and "Arr" in try_it.query_one(AnswerMessage).text)
        assert try_it.streaming
        await pilot.pause(0.2)
        meta = str(try_it.query_one(AnswerMessage).query_one(".answer-meta", Label).render())
        assert "reading the conversation" not in meta  # the status went with the first token
        await press_now(pilot, "escape")
        await wait_for(pilot, lambda: not try_it.streaming)
        answer = try_it.query_one(AnswerMessage)
        assert answer.state == "cancelled"
        await wait_for(pilot, lambda: "stopped" in screen_text(app))
        assert isinstance(app.screen, ModelfileEditor)  # Escape stopped the answer, not the editor
        request = app.engines.engine_for("smollm2:135m").requests[-1]
        assert request.messages == [ChatMessage("system", "You are a pirate."), ChatMessage("user", "hi")]
        assert request.options.temperature == 0.0


async def test_try_it_shows_problems_inline(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        try_it = editor.query_one(TryIt)
        for text, problem in (
            ("FROM nowhere:7b\n", "model 'nowhere:7b' not found"),
            ("FROM smollm2:135m\nPARAMETER top_k many\n", "Fix the Modelfile first: line 2: invalid int value [many]"),
        ):
            await replace_text(pilot, editor, text)
            await pilot.press("ctrl+t")
            await type_text(pilot, "hi")
            await pilot.press("enter")
            await wait_for(pilot, lambda: not try_it.streaming)
            assert try_it.error == problem
            editor.query_one("#try-prompt", Input).value = ""
            editor.area.focus()


async def test_leaving_with_unsaved_edits_asks_first(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await type_text(pilot, "# note\n")
        assert editor.dirty
        await pilot.press("f4")
        await choose(pilot, "Unsaved changes", 2)  # keep editing
        assert app.screen is editor and editor.dirty
        await pilot.press("ctrl+n")
        await choose(pilot, "Unsaved changes", 2)
        assert editor.area.text.startswith("# note")
        await pilot.press("escape")
        await choose(pilot, "Unsaved changes", 1)  # discard
        assert isinstance(app.screen, ChatScreen)


async def test_leaving_can_save_first(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM smollm2:135m\nSYSTEM Be a cat.\n")
        await pilot.press("f4")
        await choose(pilot, "Unsaved changes", 0)
        await answer_name(pilot, "cat")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen))
        persona = PersonaStore(resolve_paths()).get("cat")
        assert persona is not None and persona.modelfile.system == "Be a cat."


async def test_quitting_with_unsaved_edits_asks_first(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await type_text(pilot, "# note\n")
        await pilot.press("ctrl+q")
        await choose(pilot, "Unsaved changes", 2)
        assert app.return_code is None and app.screen is editor
        await pilot.press("ctrl+q")
        await choose(pilot, "Unsaved changes", 1)
        assert app.return_code == 0


async def test_the_palette_lists_the_editor(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(chat_screen(app))}
        await commands["Modelfile editor"].callback()
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, ModelfileEditor)
        titles = [c.title for c in app.get_system_commands(editor)]
        assert {"New Modelfile", "Open Modelfile", "Save persona", "Save persona as", "Revert", "Try it"} <= set(titles)


@pytest.mark.model
async def test_a_saved_persona_answers_with_its_system_prompt(whirr_home: Path, starter_path: Path) -> None:
    """The real starter model, greedy: the unsaved Modelfile answers in the try-it pane, and the
    persona saved from it follows its SYSTEM line in a chat."""
    save_config(Config(options=Options(seed=42, num_predict=8)), resolve_paths())
    app = WhirrApp()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, SPEAKS_AHOY)
        await pilot.press("ctrl+t")
        await type_text(pilot, AHOY_PROMPT)
        await press_now(pilot, "enter")
        try_it = editor.query_one(TryIt)
        await wait_for(pilot, lambda: try_it.streaming)
        await wait_for(pilot, lambda: not try_it.streaming, timeout=LIMIT)
        tried = try_it.query_one(AnswerMessage)
        assert tried.state in ("stop", "length") and AHOY_ANSWER in tried.text, (tried.text, try_it.error)
        editor.area.focus()
        await pilot.press("ctrl+s")
        await answer_name(pilot, "sailor")
        await wait_for(pilot, lambda: not editor.dirty)
        await pilot.press("f4")
        await pilot.pause()
        view = active_view(app)
        view.set_model("sailor:latest")
        await settle(pilot, timeout=LIMIT)
        await send(pilot, AHOY_PROMPT, timeout=LIMIT)
        await settle(pilot, timeout=LIMIT)
        stored = app.db.messages(view.session.id)[-1]
        assert stored.state == "done", stored.stats
        assert AHOY_ANSWER in stored.content, stored.content


# Checked with the starter model at temperature 0: with this SYSTEM line "Hello" is answered
# "Ahoy there, matey! ..."; without it, "Hello! I'should've been a helpful AI,".
SPEAKS_AHOY = 'FROM smollm2:135m\nPARAMETER temperature 0\nSYSTEM """You are a pirate. Start every answer with "Ahoy!\""""\n'
AHOY_PROMPT = "Hello"
AHOY_ANSWER = "Ahoy"


async def test_a_taken_name_keeps_the_name_dialog_open_with_the_problem(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_editor(pilot)
        await replace_text(pilot, editor, "FROM smollm2:135m\nSYSTEM Squawk.\n")
        await pilot.press("ctrl+s")
        await answer_name(pilot, "smollm2:135m")
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        assert "smollm2:135m is already a model name" in str(dialog.query_one(".error", Label).render())
        await pilot.press("backspace", "backspace", "backspace", "backspace", "x")  # typing goes on in the dialog
        assert dialog.query_one(Input).value == "smollm2:x"
        assert "Squawk." in editor.area.text and editor.dirty


@pytest.mark.parametrize("fault", ["read-only", "full"])
async def test_saving_on_a_disk_that_cannot_be_written_keeps_the_modelfile(make_app: AppFactory, disk_home: Disk, fault: str) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        editor = await open_editor(pilot)
        text = "FROM smollm2:135m\nSYSTEM You are a parrot.\n"
        await replace_text(pilot, editor, text)
        disk_home.read_only() if fault == "read-only" else disk_home.fill()
        try:
            await pilot.press("ctrl+s")
            await answer_name(pilot, "parrot")
            await wait_for(pilot, lambda: any(m.startswith("Not saved: cannot write") for m in notices(app)))
            assert app.is_running and isinstance(app.screen, ModelfileEditor)
            assert editor.area.text == text and editor.dirty
            assert "Your Modelfile is still here" in notices(app)[-1]
        finally:
            disk_home.writable() if fault == "read-only" else disk_home.free()
        await pilot.press("ctrl+s")
        await answer_name(pilot, "parrot")
        await wait_for(pilot, lambda: not editor.dirty)
        assert PersonaStore(resolve_paths()).get("parrot") is not None
