"""The Modelfile editor (F4): write a persona, see its problems as you type, try it, save it.

Left, the Modelfile in a highlighting TextArea; right, the problems (checked by the real
parser a moment after typing stops), help for the line under the cursor, and a try-it pane
that answers a test prompt with the unsaved Modelfile. Saving goes through `create_persona`,
as `whirr create` does. Edits are never dropped silently: leaving, opening another file,
starting a new one or quitting the app with unsaved edits asks to save, discard or cancel.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from tui.actions import EDITOR_ACTIONS
from tui.bindings import binding
from tui.engine.base import ChatRequest
from tui.files import write_problem
from tui.modelfile.assist import Problem, check
from tui.modelfile.document import Modelfile
from tui.models.drafts import base_problem, draft_request, name_problem, new_modelfile
from tui.models.personas import PersonaError, create_persona, modelfile_for, normalize_name, prepare_modelfile, resolve_target
from tui.screens.dialogs import ChoiceDialog, ConfirmDialog, TextDialog
from tui.screens.help import HelpScreen
from tui.widgets.modelfile_area import ModelfileArea
from tui.widgets.modelfile_notes import LineHelp, ProblemList
from tui.widgets.try_it import TryIt
from tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from tui.services import Services

CHECK_DELAY = 0.3  # seconds after the last keystroke before the document is checked


@dataclass(frozen=True)
class Source:
    """Where the text came from: a new file, a persona (saved back in place) or a model."""

    kind: Literal["new", "persona", "model"]
    name: str = ""


class ModelfileEditor(Screen[None]):
    """The Modelfile editor with its side pane and actions."""

    DEFAULT_CSS = """
    ModelfileEditor {
        & #editor-title { height: 1; padding: 0 1; background: $panel; color: $text; text-style: bold; }
        & #editor-main { height: 1fr; }
        & ModelfileArea { width: 1fr; border: round $panel; &:focus { border: round $primary; } }
        & #side { width: 45%; max-width: 64; }
        & #side > .pane { border: round $panel; border-title-color: $text-muted; padding: 0 1; }
        & #problems { height: auto; max-height: 9; }
        & #help { height: auto; max-height: 9; }
        & TryIt { height: 1fr; }
    }
    """

    BINDINGS = [binding(a) for a in EDITOR_ACTIONS if a.keys]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.source = Source("new")
        self.saved_text = ""
        self._check_timer: Timer | None = None

    @property
    def area(self) -> ModelfileArea:
        """The text being edited."""
        return self.query_one(ModelfileArea)

    @property
    def dirty(self) -> bool:
        """True when the text differs from what was opened or last saved."""
        return self.area.text != self.saved_text

    def compose(self) -> ComposeResult:
        yield Static("", id="editor-title", markup=False)
        with Horizontal(id="editor-main"):
            yield ModelfileArea(id="modelfile")
            with Vertical(id="side"):
                problems = ProblemList("", id="problems", classes="pane")
                problems.border_title = "Problems"
                yield problems
                help = LineHelp("", id="help", classes="pane")
                help.border_title = "Help"
                yield help
                try_it = TryIt(id="try-it")
                try_it.add_class("pane")
                try_it.border_title = "Try it"
                yield try_it
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load(new_modelfile(self.services.config.default_model), Source("new"))

    # -- the document --------------------------------------------------------------------------

    def load(self, text: str, source: Source) -> None:
        """Show `text` as the saved state of `source`, checked at once."""
        self.source, self.saved_text = source, text
        area = self.area
        area.load_text(text)
        area.move_cursor((0, 0))
        area.focus()
        self.check_now()
        self._show_help()
        self._show_title()

    def check_now(self) -> list[Problem]:
        """Check the document with the real parser and show what is wrong, line by line."""
        if self._check_timer is not None:
            self._check_timer.stop()
            self._check_timer = None
        text = self.area.text
        modelfile, problems = check(text)
        self._show_problems(problems)
        if modelfile is not None:
            self._check_base(text, modelfile, problems)
        return problems

    @work(thread=True, group="check-base", exclusive=True)
    def _check_base(self, text: str, modelfile: Modelfile, problems: list[Problem]) -> None:
        """Does FROM (and the TEMPLATE over it) resolve, as saving will require? (reads the library)"""
        problem = base_problem(text, modelfile, self.services.library, self.services.personas)
        if problem is not None:
            self.app.call_from_thread(self._show_base_problem, text, [*problems, problem])

    def _show_base_problem(self, text: str, problems: list[Problem]) -> None:
        if self.area.text == text:  # still the document that was checked
            self._show_problems(problems)

    def _show_problems(self, problems: list[Problem]) -> None:
        marks: dict[int, str] = {}
        for problem in problems:
            if marks.get(problem.line) != "error":
                marks[problem.line] = problem.severity
        self.area.set_problems(marks)
        self.query_one(ProblemList).show(problems)

    def on_text_area_changed(self, event: ModelfileArea.Changed) -> None:
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_DELAY, self.check_now)
        self._show_title()

    def on_text_area_selection_changed(self, event: ModelfileArea.SelectionChanged) -> None:
        self._show_help()

    def _show_title(self) -> None:
        source = self.source
        title = {
            "new": "New Modelfile (Save asks for a persona name)",
            "persona": f"Persona {source.name}",
            "model": f"Modelfile of model {source.name} (Save creates a persona)",
        }[source.kind]
        self.query_one("#editor-title", Static).update(title + ("  · modified" if self.dirty else ""))

    def _show_help(self) -> None:
        row, column = self.area.cursor_location
        self.query_one(LineHelp).show(self.area.document.lines, row, column)

    # -- unsaved changes -----------------------------------------------------------------------

    async def may_discard(self, then: str) -> bool:
        """With unsaved edits, ask to save, discard or cancel before `then`; True to go on."""
        if not self.dirty:
            return True
        choices = [f"Save, then {then}", f"Discard the changes and {then}", "Keep editing"]
        choice = await self.app.push_screen_wait(ChoiceDialog("Unsaved changes", choices))
        if choice == 0:
            return await self.save(ask_name=False)
        return choice == 1

    @work(group="editor-flow", exclusive=True)
    async def quit_app(self) -> None:
        """Quit the app once unsaved edits are saved or discarded."""
        if await self.may_discard("quit"):
            self.app.exit()

    # -- saving --------------------------------------------------------------------------------

    async def save(self, ask_name: bool) -> bool:
        """Store the text as a persona (the opened one, or one named now); True when saved."""
        text = self.area.text
        modelfile, problems = check(text)
        if modelfile is None:
            self.check_now()
            self.notify(f"Not saved: {problems[0]}", severity="error")
            return False
        name = self.source.name if self.source.kind == "persona" and not ask_name else None
        if name is None:
            default = self.source.name if self.source.kind == "persona" else ""
            models = {entry.name for entry in await asyncio.to_thread(self.services.library.list)}
            name = await self.app.push_screen_wait(
                TextDialog("Save as persona", "Persona name (NAME or NAME:TAG)", default, partial(name_problem, models=models))
            )
            if not name:
                return False
            name = normalize_name(name)
            existing = await asyncio.to_thread(self.services.personas.get, name)
            if existing is not None and name != self.source.name:
                question = f"A persona named {name} exists. Replace it?"
                if not await self.app.push_screen_wait(ConfirmDialog("Replace persona", question, yes="Replace")):
                    return False
        prepared = prepare_modelfile(modelfile, Path.cwd())
        try:
            persona, base = await asyncio.to_thread(create_persona, name, prepared, self.services.library, self.services.personas)
        except (LookupError, PersonaError) as error:
            self.notify(f"Not saved: {str(error).strip(chr(39))}", severity="error", timeout=8)
            return False
        except OSError as error:  # a read-only or full disk: the Modelfile stays in the editor
            self.notify(f"Not saved: {write_problem(error)}. Your Modelfile is still here.", severity="error", timeout=10)
            return False
        self.source, self.saved_text = Source("persona", persona.name), text
        self._show_title()
        self.notify(f"Saved persona {persona.name} (based on {base.name}).")
        return True

    # -- actions -------------------------------------------------------------------------------

    @work(group="editor-flow", exclusive=True)
    async def action_new(self) -> None:
        """Start a new Modelfile (unsaved edits are not dropped without asking)."""
        if await self.may_discard("start a new one"):
            self.load(new_modelfile(self.services.config.default_model), Source("new"))

    @work(group="editor-flow", exclusive=True)
    async def action_open(self) -> None:
        """Open a persona's Modelfile, or a model's as `whirr show --modelfile` gives it."""
        if not await self.may_discard("open another"):
            return
        personas = await asyncio.to_thread(self.services.personas.list)
        entries = await asyncio.to_thread(self.services.library.list)
        names = [p.name for p in personas] + [e.name for e in entries if e.usable]
        labels = [f"{p.name}  (persona of {p.base})" for p in personas] + [
            f"{e.name}  (model)" for e in entries if e.usable
        ]
        choice = await self.app.push_screen_wait(ChoiceDialog("Open a Modelfile", labels))
        if choice is not None:
            await self.open(names[choice])

    async def open(self, name: str) -> bool:
        """Load the Modelfile of a persona or model by name; False (and a notice) if there is none."""
        try:
            target = await asyncio.to_thread(resolve_target, name, self.services.library, self.services.personas)
        except (LookupError, PersonaError) as error:
            self.notify(f"Cannot open {name}: {str(error).strip(chr(39))}", severity="error")
            return False
        kind: Literal["persona", "model"] = "persona" if target.persona is not None else "model"
        self.load(modelfile_for(target), Source(kind, target.name))
        return True

    @work(group="editor-flow", exclusive=True)
    async def action_save(self) -> None:
        """Save the Modelfile as the persona it was opened as (asks a name for a new one)."""
        await self.save(ask_name=False)

    @work(group="editor-flow", exclusive=True)
    async def action_save_as(self) -> None:
        """Save the Modelfile as a persona under a new name."""
        await self.save(ask_name=True)

    @work(group="editor-flow", exclusive=True)
    async def action_revert(self) -> None:
        """Go back to the saved text, after confirmation."""
        if not self.dirty:
            self.notify("There are no changes to revert.")
            return
        question = "Go back to the saved version? The edits since are lost."
        if await self.app.push_screen_wait(ConfirmDialog("Revert", question, yes="Revert")):
            self.load(self.saved_text, self.source)

    def action_try_it(self) -> None:
        """Go to the test prompt."""
        self.query_one("#try-prompt", Input).focus()

    def on_try_it_submitted(self, event: TryIt.Submitted) -> None:
        text, prompt = self.area.text, event.prompt
        self.query_one(TryIt).ask(lambda: self._draft_request(text, prompt))

    def _draft_request(self, text: str, prompt: str) -> tuple[object, ChatRequest, str]:
        """Engine, request and label to answer `prompt` with the unsaved text (blocking)."""
        services = self.services
        target, request = draft_request(text, prompt, services.library, services.personas, services.config.options)
        engine = services.engines.engine_for_target(target)
        label = f"{self.source.name or 'new persona'} (unsaved) on {target.entry.name}"
        return engine, request, label

    def action_escape(self) -> None:
        """Stop the test answer, or close the editor."""
        if not self.query_one(TryIt).stop():
            self.action_close()

    @work(group="editor-flow", exclusive=True)
    async def action_close(self) -> None:
        """Back to the chat, once unsaved edits are saved or discarded."""
        if await self.may_discard("close the editor"):
            self.query_one(TryIt).stop()
            self.app.pop_screen()

    def action_help(self) -> None:
        """Show every binding."""
        self.app.push_screen(HelpScreen(self.services.config.keys))
