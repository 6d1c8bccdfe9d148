"""The model library screen (F3): the real starter model, real files in WHIRR_HOME, real personas."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

from rich.console import Console
from textual.widgets import Label, Static
from textual.widgets.data_table import ColumnKey

from tests.ui.helpers import AppFactory, active_view, broken_file, highlight, listed, names, open_library, palette_results, screen_text, settle, wait_until
from tui.modelfile import parse
from tui.models.library import Library
from tui.models.personas import PersonaStore
from tui.paths import resolve_paths
from tui.screens.dialogs import ConfirmDialog, TextDialog
from tui.screens.library import LibraryScreen
from tui.widgets.model_table import ModelTable

PIRATE = "FROM smollm2:135m\nPARAMETER num_ctx 1024\nSYSTEM You are a pirate.\n"


def details_text(screen: LibraryScreen) -> str:
    """Everything the details pane's facts say, scrolled into view or not."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(screen.query_one("#facts-text", Static).content)
    return console.export_text()


async def test_f3_lists_the_starter_model_with_its_metadata(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        assert "smollm2:135m" in names(screen)
        row = screen.query_one(ModelTable).get_row("smollm2:135m")
        cells = [cell.plain for cell in row]
        assert cells[0].strip() == "● smollm2:135m"  # the session's model
        assert cells[1:8] == ["llama", "135M", "Q4_1", "98 MB", "8,192", "✓", "built-in"]
        assert cells[8] in ("✓ yes", "✗ no")
        text = screen_text(app)
        assert "Architecture" in text and "Smollm2 135M" in text and "Layers" in text
        assert "tokens of context: weights 98 MB" in text and "KV cache" in text


async def test_broken_files_show_their_problem(make_app: AppFactory) -> None:
    broken_file(resolve_paths().models_dir)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "broken:latest")
        assert screen.query_one(ModelTable).get_row("broken:latest")[8].plain == "broken"
        assert "not a GGUF file" in screen_text(app)
        await pilot.press("enter")  # cannot be used: the screen stays
        assert app.screen is screen


async def test_typing_filters_and_escape_clears(make_app: AppFactory) -> None:
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    broken_file(resolve_paths().models_dir)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        assert names(screen) == ["broken:latest", "pirate:latest", "smollm2:135m"]
        await pilot.press("q", "4")  # unbound letters typed on the table go to the filter
        assert names(screen) == ["pirate:latest", "smollm2:135m"]  # Q4_1, case-insensitive; the persona's base
        await pilot.press("escape")
        assert len(names(screen)) == 3
        await pilot.press("slash", *"PERSONA")
        assert names(screen) == ["pirate:latest"]
        await pilot.press("escape", "escape")  # clear, then leave
        assert not isinstance(app.screen, LibraryScreen)


async def test_sort_key_and_header_click_reorder(make_app: AppFactory) -> None:
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    broken_file(resolve_paths().models_dir)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        for _ in range(4):  # name -> family -> params -> quant -> size
            await pilot.press("s")
        assert names(screen) == ["pirate:latest", "broken:latest", "smollm2:135m"]  # 0 B, 18 B, 98 MB
        assert "Size ▲" in screen_text(app)
        table = screen.query_one(ModelTable)
        size_column = list(table.columns).index(ColumnKey("size"))
        await pilot.click(ModelTable, offset=(sum(c.get_render_width(table) for c in table.ordered_columns[:size_column]) + 2, 0))
        assert names(screen) == ["smollm2:135m", "broken:latest", "pirate:latest"]
        assert "Size ▼" in screen_text(app)


async def test_enter_uses_the_model_in_the_session(make_app: AppFactory) -> None:
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "pirate:latest")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, LibraryScreen)
        assert active_view(app).session.model == "pirate:latest"


async def test_d_sets_the_default_model_in_the_config_file(make_app: AppFactory) -> None:
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "pirate:latest")
        await pilot.press("d")
        saved = tomllib.loads(resolve_paths().config_file.read_text(encoding="utf-8"))
        assert saved["default_model"] == "pirate:latest"
        assert app.config.default_model == "pirate:latest"


async def test_c_copies_a_model_under_a_new_name(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "smollm2:135m")
        await pilot.press("c")
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        await pilot.press(*"tiny:v1", "enter")  # the suggested name is selected: typing replaces it
        await listed(pilot, screen)
        assert "tiny:v1" in names(screen)
        assert screen.highlighted is not None and screen.highlighted.name == "tiny:v1"
        assert Library.from_config(resolve_paths(), app.config).resolve("tiny:v1").path == app.library.resolve("smollm2:135m").path


async def test_delete_removes_an_owned_copy_after_confirmation(make_app: AppFactory, place_starter) -> None:  # noqa: ANN001
    owned = resolve_paths().models_dir / "mine.Q4_1.gguf"
    place_starter(owned)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "mine:q4_1")
        await pilot.press("delete")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        text = screen_text(app)
        assert "Delete mine:q4_1?" in text and "mine.Q4_1.gguf" in text
        await pilot.press("n")  # nothing happens
        assert owned.exists()
        await pilot.press("delete", "y")
        await listed(pilot, screen)
        assert not owned.exists()
        assert "mine:q4_1" not in names(screen)


async def test_forget_keeps_an_imported_files_bytes(make_app: AppFactory, place_starter, tmp_path: Path) -> None:  # noqa: ANN001
    elsewhere = tmp_path / "elsewhere" / "theirs.Q4_1.gguf"
    place_starter(elsewhere)  # not a symbolic link: that would be the built-in starter itself
    app = make_app()
    name = app.library.add_file(elsewhere).name
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await listed(pilot, screen)
        await highlight(pilot, screen, name)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        text = screen_text(app)
        assert f"Forget {name}?" in text and "the file is not touched" in text
        await pilot.press("y")
        await listed(pilot, screen)
        assert name not in names(screen)
        assert elsewhere.stat().st_size == app.library.resolve("smollm2:135m").size


async def test_other_tools_models_are_listed_and_an_ollama_model_is_only_forgotten(make_app: AppFactory, stores) -> None:  # noqa: ANN001
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        table = screen.query_one(ModelTable)
        sources = {name: table.get_row(name)[7].plain for name in names(screen)}
        assert sources["tinypirate:latest"] == "ollama"
        assert sources["lmstudio-community/smollm2-135m-instruct-gguf:q4_1"] == "lmstudio"
        assert sources["hf.co/huggingfacetb/smollm2-135m-instruct-gguf:q4_1"] == "hf-cache"
        await highlight(pilot, screen, "tinypirate:latest")
        text = details_text(screen)
        assert "Defaults" in text and "SYSTEM You are a pirate." in text and "FROM" not in text
        await pilot.press("x")
        assert f"the file is not touched:\n{stores.ollama_blob}" in app.screen.query_one(Label).content  # type: ignore[attr-defined]
        await pilot.press("y")
        await listed(pilot, screen)
        assert "tinypirate:latest" not in names(screen)
        assert stores.ollama_blob.exists() and (stores.ollama / "manifests").exists()


async def test_errors_are_notified_and_the_screen_stays(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "smollm2:135m")
        await pilot.press("c", *"no spaces allowed", "enter")
        await listed(pilot, screen)
        assert app.screen is screen
        assert any("Could not copy smollm2:135m" in str(n.message) for n in app._notifications)


async def test_a_corrupt_library_file_is_reported_once(make_app: AppFactory) -> None:
    paths = resolve_paths()
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    (paths.data_dir / "library.json").write_text("{broken")
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await open_library(pilot)
        assert "smollm2:135m" in names(screen)
        warned = [str(n.message) for n in app._notifications if "library.json is invalid" in str(n.message)]
        assert len(warned) == 1
        await pilot.press("r")
        await listed(pilot, screen)
        assert len([n for n in app._notifications if "library.json is invalid" in str(n.message)]) == 1


async def test_the_built_in_model_cannot_be_deleted(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "smollm2:135m")
        await pilot.press("x")
        assert app.screen is screen  # no confirmation: a notification says why
        assert "smollm2:135m" in names(screen)


async def test_details_show_the_highlighted_template_and_a_personas_modelfile(make_app: AppFactory) -> None:
    PersonaStore(resolve_paths()).save("pirate", parse(PIRATE))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "smollm2:135m")
        text = screen_text(app)
        assert "Chat template (Jinja)" in text and "<|im_start|>" in text
        await highlight(pilot, screen, "pirate:latest")
        text = screen_text(app)
        assert "Modelfile" in text and "SYSTEM You are a pirate." in text
        assert "persona of smollm2:135m" in text
        assert "at 1,024 tokens of context" in text  # the persona's own context size


async def test_p_reveals_the_path(make_app: AppFactory, starter_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_library(pilot)
        await highlight(pilot, screen, "smollm2:135m")
        await pilot.press("p")
        await pilot.pause()
        assert any(str(starter_path) in str(n.message) for n in app._notifications)


async def test_the_palette_opens_the_library(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Model library")
        await wait_until(lambda: palette_results(app), what="the palette's matches")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
