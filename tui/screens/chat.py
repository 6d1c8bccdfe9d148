"""The chat screen: every chat action, one per entry of `tui.actions.CHAT_ACTIONS`, each a
binding with an id (remappable), listed in help and in the command palette."""

from __future__ import annotations

import re
from pathlib import Path


from typing import TYPE_CHECKING

from tui.actions import CHAT_ACTIONS
from tui.bindings import binding
from tui.paths import export_folder
from tui.screens.dialogs import ChoiceDialog, ConfirmDialog, TextDialog
from tui.screens.sessions import SessionsScreen
from tui.widgets.session_tabs import SessionTabs, tab_id
from tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from tui.screens.session_dialog import SessionSettings
    from tui.store.records import SearchHit

# The other screens are imported by the action that opens them: the first frame needs none of
# them (the Modelfile editor and the library alone took a third of the launch time).


class ChatScreen(SessionsScreen):
    """The chat screen with its actions."""

    BINDINGS = [binding(a) for a in CHAT_ACTIONS if a.keys]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape and Ctrl+Z act only when there is something to stop or undo."""
        if action == "stop":
            view = self.view
            return view is not None and (view.streaming or view.editing is not None)
        if action == "undo_close":
            return self.closed is not None
        return True

    # -- sessions ------------------------------------------------------------------------------

    async def action_new_session(self) -> None:
        """Ctrl+N."""
        await self.open_session(self.create_session().id)

    async def action_close_session(self) -> None:
        """Ctrl+W: close the tab; Ctrl+Z brings it back for a few seconds."""
        view = self.view
        if view is None:
            return
        session = view.session
        db = self.services.db
        empty = view.data.count() == 0
        index = await self.close_tab(session.id)
        if empty:
            db.delete_session(session.id)
            return
        db.update_session(session.id, open=False)
        self.remember_closed(session.id, index)
        self.notify(f"Closed “{session.title}”. Ctrl+Z to undo.", timeout=6)

    async def action_undo_close(self) -> None:
        """Ctrl+Z right after closing a tab."""
        closed = self.closed
        if closed is None:
            return
        self.closed = None
        await self.open_session(closed.session_id, index=closed.index)
        self.refresh_bindings()

    def action_rename_session(self) -> None:
        """F2."""
        view = self.view
        if view is None:
            return

        def done(title: str | None) -> None:
            if title:
                view.data.rename(title)
                self.query_one(SessionTabs).set_title(view.session.id, title, busy=view.streaming)

        self.app.push_screen(TextDialog("Rename session", "Title", view.session.title), done)

    def action_next_tab(self) -> None:
        """Ctrl+PageDown."""
        self.query_one(SessionTabs).action_next_tab()

    def action_previous_tab(self) -> None:
        """Ctrl+PageUp."""
        self.query_one(SessionTabs).action_previous_tab()

    def action_goto_tab(self, number: int) -> None:
        """Alt+1..9."""
        ids = self.query_one(SessionTabs).session_ids()
        if 0 < number <= len(ids):
            self.query_one(SessionTabs).active = tab_id(ids[number - 1])

    def action_session_settings(self) -> None:
        """Ctrl+E."""
        from tui.screens.session_dialog import SessionDialog

        view = self.view
        if view is None:
            return

        def done(settings: SessionSettings | None) -> None:
            if settings is not None:
                view.set_settings(settings.system, settings.options)
                self.notify("Session settings saved.")

        self.app.push_screen(SessionDialog(view.session.title, view.session.system, view.data.options), done)

    def use_model(self, model: str | None) -> None:
        """Switch the active session to `model` (what the model picker and the library chose)."""
        view = self.view
        if view is not None and model and model != view.session.model:
            view.set_model(model)
            self.notify(f"This session now uses {model}.")

    def action_pick_model(self) -> None:
        """Ctrl+O."""
        from tui.screens.model_picker import ModelPicker

        view = self.view
        if view is None:
            return
        picker = ModelPicker(
            self.services.library, view.session.model, view.data.options.num_ctx, personas=self.services.personas
        )
        self.app.push_screen(picker, self.use_model)

    def action_load_anyway(self) -> None:
        """Palette: load a model the memory estimate refused."""
        view = self.view
        if view is None or not view.too_big:
            self.notify("Nothing to force: this session's model was not refused for memory.")
        else:
            view.load_anyway()

    def action_open_library(self) -> None:
        """F3: the model library; Enter there uses the model in this session."""
        from tui.screens.library import LibraryScreen

        view = self.view
        self.app.push_screen(LibraryScreen(self.services, view.session.model if view is not None else ""), self.use_model)

    # -- answers -------------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Escape: stop the answer, or leave edit mode."""
        view = self.view
        if view is not None and not view.stop():
            view.cancel_edit()

    async def action_regenerate(self) -> None:
        """Ctrl+R."""
        if self.view is not None:
            await self.view.regenerate()

    def action_copy(self) -> None:
        """Ctrl+Y: the last answer, or one of its code blocks."""
        answer = self.view.last_answer() if self.view is not None else None
        if answer is None or not answer.answer_text:
            self.notify("There is no answer to copy yet.")
            return
        blocks = answer.code_blocks()
        if not blocks:
            self.services.copy_text(answer.answer_text, "the answer")
            return
        choices = ["The whole answer"] + [f"Code block {i}: {_first_line(b)}" for i, b in enumerate(blocks, 1)]

        def done(choice: int | None) -> None:
            if choice is not None:
                text, what = (answer.answer_text, "the answer") if choice == 0 else (blocks[choice - 1], f"code block {choice}")
                self.services.copy_text(text, what)

        self.app.push_screen(ChoiceDialog("Copy", choices), done)

    # -- finding, exporting, archiving ---------------------------------------------------------------

    def action_toggle_meters(self) -> None:
        """F5."""
        self.toggle_meters()

    def action_modelfile_editor(self) -> None:
        """F4: the Modelfile editor, over the chat."""
        from tui.screens.modelfile_editor import ModelfileEditor

        self.app.push_screen(ModelfileEditor(self.services))

    def action_search(self) -> None:
        """Ctrl+F."""
        from tui.screens.search import SearchDialog

        async def done(hit: SearchHit | None) -> None:
            if hit is None:
                return
            view = await self.open_session(hit.session_id)
            await view.query_one(Transcript).jump_to(hit.message_id)

        self.app.push_screen(SearchDialog(self.services.db), done)

    def action_export(self, fmt: str) -> None:
        """Write the session to a Markdown or JSON file."""
        view = self.view
        if view is None:
            return
        suffix = ".md" if fmt == "markdown" else ".json"
        default = str(export_folder() / f"{_slug(view.session.title)}{suffix}")

        def done(path: str | None) -> None:
            if path:
                self.services.export_session(view.session.id, fmt, Path(path).expanduser())

        self.app.push_screen(TextDialog(f"Export as {fmt.capitalize()}", "File", default), done)

    def action_archive_session(self) -> None:
        """Archive after confirmation (Reopen session brings it back)."""
        self._confirm_then("archive")

    def action_delete_session(self) -> None:
        """Delete after confirmation."""
        self._confirm_then("delete")

    def _confirm_then(self, what: str) -> None:
        view = self.view
        if view is None:
            return
        session = view.session
        question = (
            f"Delete “{session.title}” and all its messages? This cannot be undone."
            if what == "delete"
            else f"Archive “{session.title}”? It can be reopened later (palette: Reopen session)."
        )

        async def done(yes: bool | None) -> None:
            if not yes:
                return
            await self.close_tab(session.id)
            db = self.services.db
            if what == "delete":
                db.delete_session(session.id)
            else:
                db.archive_session(session.id)
            self.notify(f"{'Deleted' if what == 'delete' else 'Archived'} “{session.title}”.")

        self.app.push_screen(ConfirmDialog(f"{what.capitalize()} session", question, yes=what.capitalize()), done)

    def action_reopen_session(self) -> None:
        """Reopen an archived or closed session."""
        db = self.services.db
        candidates = db.list_sessions(archived=True) + [s for s in db.list_sessions() if not s.open]
        if not candidates:
            self.notify("There are no archived or closed sessions.")
            return
        labels = [f"{s.title}  ({'archived' if s.archived else 'closed'})" for s in candidates]

        async def done(choice: int | None) -> None:
            if choice is not None:
                await self.open_session(candidates[choice].id)

        self.app.push_screen(ChoiceDialog("Reopen session", labels), done)

    def action_help(self) -> None:
        """F1 or ?."""
        from tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.services.config.keys))


def _first_line(text: str, limit: int = 40) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "session"

