"""The whirr app: settings, themes, key map, database and engines; the chat screen does the rest.

Startup does only what the first frame needs (config, themes, the database). Engines are
created on first use in a worker thread, so importing llama.cpp and loading a model never
delay the first frame.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme

from tui.actions import APP_ACTIONS, CHAT_ACTIONS, EDITOR_ACTIONS, LIBRARY_ACTIONS, unknown_key_ids
from tui.bindings import binding, key_problem
from tui.config import keep_alive_seconds, load_config, save_config
from tui.engine.keepalive import parse_keep_alive
from tui.markdown import markdown_styles
from tui.models.library import Library
from tui.models.personas import PersonaStore, RunTarget, resolve_target
from tui.paths import Paths, resolve_paths
from tui.screens.chat import ChatScreen
from tui.services import EngineSource
from tui.store.db import Database, DatabaseError
from tui.files import write_problem
from tui.terminal import read_alt_digits_as_alt

if TYPE_CHECKING:
    from tui.engine.runner.registry import LoadedModel
    from tui.meters import EnergyMeter, Sampler
    from tui.models.download import DownloadManager

# Only what the first frame needs is imported here: the meters start after it, and the other
# screens (library, Modelfile editor, hub...) are imported when they open.
from tui.themes import DEFAULT_THEME, load_themes


def _settle_garbage_collector() -> None:
    """Keep full garbage collections from pausing a streaming answer.

    Measured while streaming 2,000 tokens/s: full collections ran every ~0.5 s and took ~80 ms
    each, the largest pauses of the event loop. Freezing what startup built (it lives as long
    as the app) and collecting the young generation less often removes them.
    """
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


SCREEN_ACTIONS = {"ChatScreen": CHAT_ACTIONS, "LibraryScreen": LIBRARY_ACTIONS, "ModelfileEditor": EDITOR_ACTIONS}
"""The actions the command palette offers on each screen (by class name: the screens other than
the chat are imported only when they open)."""


class WhirrApp(App[None]):
    """Tabs of chat sessions with local models; also the `Services` its screens are handed."""

    CSS_PATH = "app.tcss"
    TITLE = "whirr"
    BINDINGS = [binding(a) for a in APP_ACTIONS]

    def __init__(
        self, paths: Paths | None = None, engines: EngineSource | None = None, sampler: Sampler | None = None
    ) -> None:
        """`engines` defaults to the in-process llama.cpp engines, created on first use;
        `sampler` to the machine's own, started after the first frame. A sampler passed in is
        left to its owner to start and stop (a test records readings into it)."""
        super().__init__()
        read_alt_digits_as_alt()  # Alt+1..9 jump to tabs over SSH and tmux too
        self.paths = paths or resolve_paths()
        self.config, self.startup_warnings = load_config(self.paths)
        try:
            self.keep_alive = keep_alive_seconds(self.config)  # seconds a model stays loaded after an answer
        except ValueError as error:
            self.startup_warnings.append(f"{error}; using config keep_alive")
            self.keep_alive = parse_keep_alive(self.config.keep_alive)
        self.library = Library.from_config(self.paths, self.config)
        self.personas = PersonaStore(self.paths)
        self._engines = engines
        self._engines_lock = threading.Lock()
        self.sampler = sampler
        self._owns_sampler = sampler is None
        self.energy_meter: EnergyMeter | None = None
        if sampler is not None:
            from tui.meters import EnergyMeter

            self.energy_meter = EnergyMeter(sampler, self.config.energy)
        self._rich_theme_pushed = False
        self._apply_themes()
        self._apply_keymap(self.config.keys)
        self.unsaved_since_start = False
        self._save_failing = False
        self.db = self._open_database()
        self._downloads: DownloadManager | None = None

    # -- startup -------------------------------------------------------------------------------

    def _apply_themes(self) -> None:
        themes, warnings = load_themes(self.paths.themes_dir)
        self.startup_warnings += warnings
        for theme in themes:
            self.register_theme(theme)
        wanted = self.config.theme
        if wanted not in self.available_themes:
            self.startup_warnings.append(f"theme '{wanted}' not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted

    def _apply_keymap(self, keys: dict[str, str]) -> None:
        unknown = unknown_key_ids(keys)
        if unknown:
            self.startup_warnings.append(f"[keys] ignores unknown binding ids: {', '.join(unknown)} (F1 lists the ids)")
        invalid = {k: key_problem(v) for k, v in keys.items() if k not in unknown and key_problem(v)}
        for binding_id, problem in invalid.items():
            self.startup_warnings.append(f"[keys] \"{binding_id}\" ignored: {problem}")
        self.set_keymap({k: v for k, v in keys.items() if k not in unknown and k not in invalid})

    def _open_database(self) -> Database:
        try:
            return Database.open(self.paths.database_file)
        except DatabaseError as error:
            hint = " (`whirr doctor` can repair it)" if "damaged" in str(error) else ""
            self.startup_warnings.append(f"{error} — the file was left untouched{hint}; chats in this run are not saved")
            self.unsaved_since_start = True
            return Database.open(":memory:")

    # -- is the chat being saved? ----------------------------------------------------------------

    @property
    def chats_unsaved(self) -> bool:
        """True while chats are not being saved: the database could not be opened (chats live
        in memory until quit), or its last write failed (a full disk). The status line says so."""
        return self.unsaved_since_start or self._save_failing

    def saving_result(self, error: Exception | None) -> None:
        """Every chat write reports here: the first failure is said once (not once a second
        while an answer streams), and so is the first success after failures."""
        failing = error is not None
        if failing == self._save_failing:
            return
        self._save_failing = failing
        if failing:
            self.notify(f"Chats are not being saved: {error}. What is on screen is kept; saving resumes when it can.", severity="error", timeout=12)
        else:
            self.notify("Chats are being saved again.")
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                screen.refresh_status()

    def get_default_screen(self) -> Screen:
        return ChatScreen(self)

    def on_mount(self) -> None:
        self.call_after_refresh(_settle_garbage_collector)
        if self._owns_sampler:
            self.call_after_refresh(self.run_worker, self._start_meters, thread=True, group="meters")
        self._push_markdown_styles(self.current_theme)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for warning in self.startup_warnings:
            self.notify(warning, severity="warning", timeout=10)

    def _start_meters(self) -> None:
        """Find the machine's sources (NVML may take a moment) and start sampling them."""
        from tui.meters import EnergyMeter, Probe, Sampler

        sampler = Sampler(Probe.detect(self.config.energy.cpu_tdp_watts))
        sampler.start()
        self.energy_meter = EnergyMeter(sampler, self.config.energy)
        self.sampler = sampler

    @property
    def downloads(self) -> DownloadManager:
        """Hugging Face downloads, made when the hub first opens."""
        if self._downloads is None:
            from tui.models.download import DownloadManager

            self._downloads = DownloadManager(self.paths)
        return self._downloads

    def on_unmount(self) -> None:
        if self._downloads is not None:
            self._downloads.shutdown()  # running downloads stop; their partial files resume next time
        if self._engines is not None:
            self._engines.close()  # runner processes end with the app
        if self._owns_sampler and self.sampler is not None:
            self.sampler.stop()
            self.sampler.probe.close()

    # -- engines -------------------------------------------------------------------------------

    @property
    def engines(self) -> EngineSource:
        """The engine source: runner processes, one per loaded local model (llama.cpp is never
        imported in the app's own process)."""
        with self._engines_lock:
            if self._engines is None:
                from tui.engine.manager import EngineManager

                self._engines = EngineManager(self.library, self.personas, self.keep_alive)
            return self._engines

    def persona_target(self, model: str) -> RunTarget | None:
        """A session model name's layers: a persona's, or a model's own defaults (an Ollama
        model's template, system and parameters). None when there are none or the name cannot be
        resolved (the engine then reports the problem). Blocking: call in a thread."""
        try:
            target = resolve_target(model, self.library, self.personas)
        except (LookupError, ValueError):
            return None
        return target if target.persona is not None or target.entry.defaults is not None else None

    # -- themes --------------------------------------------------------------------------------

    def _push_markdown_styles(self, theme: Theme) -> None:
        if self._rich_theme_pushed:
            self.console.pop_theme()
        self.console.push_theme(markdown_styles(theme))
        self._rich_theme_pushed = True

    def _theme_changed(self, theme: Theme) -> None:
        self._push_markdown_styles(theme)
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                screen.rerender()
        if theme.name != self.config.theme:
            self.config.theme = theme.name
            self.save_settings("the theme choice")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notice as plain text, whatever the caller says: whirr's notices carry file
        names, config tables ("[keys]") and Ollama's messages ("invalid int value [many]"),
        which Textual's markup would swallow as tags."""
        del markup
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def save_settings(self, what: str) -> None:
        """Write the config after a choice made in the app; a failure is reported, not raised."""
        try:
            save_config(self.config, self.paths)
        except OSError as error:
            self.notify(f"Could not save {what} ({write_problem(error)}); it applies until whirr quits.", severity="warning")

    # -- palette, clipboard, export ------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's commands (theme, quit...) plus every action of the chat, the library or the editor."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Hugging Face", "Search the hub for GGUF models and download them", self.action_open_hub)
        yield SystemCommand("Model servers", "Add, edit or remove the servers whose models whirr can use", self.action_servers)
        yield SystemCommand("Loaded models", "The models loaded now, as `whirr ps` lists them; Enter unloads one",
                            self.action_loaded_models)
        actions = SCREEN_ACTIONS.get(type(screen).__name__, ())
        for action in actions:
            if action.palette:
                yield SystemCommand(action.description, action.help, partial(screen.run_action, action.action))

    async def action_quit(self) -> None:
        """Ctrl+Q: quit; with unsaved edits in the Modelfile editor, it asks first."""
        editor = next((s for s in self.screen_stack if getattr(s, "dirty", False)), None)  # the Modelfile editor's
        if editor is not None:
            editor.quit_app()
        else:
            self.exit()

    def action_open_hub(self) -> None:
        """Open the Hugging Face screen (search, download); the library's `h` opens it too."""
        from tui.screens.hub import HubScreen

        options = self.config.options
        self.push_screen(HubScreen(self.downloads, options.num_ctx, options.num_gpu))

    def action_servers(self) -> None:
        """The servers dialog (Ollama, vLLM, llama.cpp's server...); an open library lists again
        when a server was added, changed or removed."""
        from tui.screens.servers import ServersDialog

        def done(changed: bool | None) -> None:
            if changed:
                self.refresh_library()

        self.push_screen(ServersDialog(self.paths, self.library), done)

    def action_loaded_models(self) -> None:
        """The models whirr's runners hold now (this app's, `whirr run`'s, `whirr serve`'s), as
        `whirr ps` lists them; choosing one unloads it."""
        self.run_worker(self._show_loaded_models, group="loaded-models", exclusive=True)

    async def _show_loaded_models(self) -> None:
        from tui.engine.runner.registry import loaded_models, registry_dir
        from tui.format import columns, human_size, human_until
        from tui.screens.dialogs import ChoiceDialog

        def read() -> list[tuple[LoadedModel, list[str]]]:
            return [(m, [m.name, human_size(m.memory_bytes), m.processor, str(m.context), human_until(m.until)])
                    for m in loaded_models(registry_dir(self.paths))]

        models = await asyncio.to_thread(read)
        if not models:
            self.notify("No model is loaded now.")
            return
        lines = columns([["NAME", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]] + [row for _, row in models], gap=3)

        def done(choice: int | None) -> None:
            if choice is not None:
                self.run_worker(partial(self._unload, models[choice][0]), thread=True, group="unload")

        self.push_screen(ChoiceDialog("Loaded models", lines[1:], "Enter: unload   Esc: close", header=lines[0]), done)

    def _unload(self, model: LoadedModel) -> None:
        """Unload a model (in a thread): this app's own runner through its engine, another
        process's by asking its runner to end (its owner starts a fresh one when it next answers)."""
        from tui.engine.manager import EngineManager

        engines = self.engines
        if not (isinstance(engines, EngineManager) and engines.unload_runner(model.pid)):
            try:
                os.kill(model.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass  # it ended meanwhile
        self.call_from_thread(self.notify, f"Unloaded {model.name}.")

    def on_hub_screen_model_downloaded(self) -> None:
        """A download finished: an open library lists it."""
        self.refresh_library()

    def refresh_library(self) -> None:
        """An open library screen lists its models again."""
        from tui.screens.library import LibraryScreen

        for screen in self.screen_stack:
            if isinstance(screen, LibraryScreen):
                screen.action_refresh()

    def copy_text(self, text: str, what: str) -> None:
        """Copy to the terminal's clipboard (OSC 52) and the local one when there is one."""
        self.copy_to_clipboard(text)
        local = ""
        try:
            import pyperclip

            pyperclip.copy(text)
            local = " and the system clipboard"
        except Exception:  # pyperclip raises its own error when no clipboard tool exists (SSH, no X)
            local = " (there is no local clipboard tool, so only there)"
        self.notify(f"Copied {what} to the terminal's clipboard{local}.")

    def export_session(self, session_id: int, fmt: str, path: Path) -> None:
        """Write a session to a Markdown or JSON file; failures are reported, not raised."""
        from tui.store import export

        try:
            text = export.to_markdown(self.db, session_id) if fmt == "markdown" else export.to_json(self.db, session_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self.notify(f"Not exported: {write_problem(error)}. The session is unchanged; try another folder.", severity="error")
            return
        self.notify(f"Exported to {path}")
