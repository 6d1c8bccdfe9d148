"""The Hugging Face screen: search GGUF repos, see a repo's files and whether each fits in
memory, queue downloads and watch them (cancel, resume, discard).

Hub requests run in thread workers; an unreachable hub is an inline message. Download progress
comes from the manager's worker threads: they only mark a download as changed and post one
message, never wait for the UI; the UI redraws what changed once per message.
"""

from __future__ import annotations

import threading

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Input,
    Label,
    ListItem,
    ListView,
    ProgressBar,
)
from textual.worker import get_current_worker

from tui.bindings import bindings
from tui.format import human_duration, human_size
from tui.models.download import Download, DownloadManager, State
from tui.models.hub import HubError, HubModel, RepoSummary
from tui.widgets.key_footer import KeyFooter

FIT_WIDTH = 44
HINT = "Enter: search / open repo / download   Tab: next list   c: cancel  r: resume  d: discard   Esc: back"


def download_status(download: Download) -> str:
    """The label beside a download's bar: bytes, percent, speed and ETA, or its state."""
    sizes = f"{human_size(download.done)}/{human_size(download.total)}"
    if download.state == State.RUNNING:
        if download.verifying:
            return f"verifying sha256 · {sizes}"
        text = f"{download.fraction * 100:.0f}% · {sizes}"
        if download.speed > 0 and download.eta is not None:
            text += f" · {human_size(int(download.speed))}/s · {human_duration(download.eta)} left"
        return text
    if download.state == State.DONE:
        return f"done · {human_size(download.total)}"
    if download.state == State.FAILED:
        return f"failed: {download.error}"
    if download.state == State.PAUSED:
        return f"paused · {sizes} kept (r: resume, d: discard)"
    return f"{download.state.value} · {sizes}"


class DownloadRow(ListItem):
    """One download: its name, a progress bar and a status label."""

    DEFAULT_CSS = """
    DownloadRow { height: 1; }
    DownloadRow Horizontal { height: 1; }
    DownloadRow .dl-name { width: auto; max-width: 60; padding: 0 1; }
    DownloadRow ProgressBar { width: 24; }
    DownloadRow ProgressBar Bar { width: 22; }
    DownloadRow .dl-status { width: 1fr; padding: 0 1; }
    """

    def __init__(self, download: Download) -> None:
        super().__init__()
        self.download = download

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.download.name, classes="dl-name", markup=False)
            yield ProgressBar(total=self.download.total or None, show_eta=False, show_percentage=False)
            yield Label("", classes="dl-status", markup=False)

    def on_mount(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        """Show the download's current numbers (on_mount shows them for a row not mounted yet)."""
        if not self.is_mounted:
            return
        self.query_one(ProgressBar).update(total=self.download.total or None, progress=self.download.done)
        self.query_one(".dl-status", Label).update(download_status(self.download))


class DownloadList(ListView):
    """The downloads; its keys act on the highlighted one."""

    BINDINGS = bindings("hub.cancel", "hub.resume", "hub.discard")

    def action_act(self, what: str) -> None:
        row = self.highlighted_child
        if isinstance(row, DownloadRow):
            self.post_message(HubScreen.DownloadAction(row.download, what))


class HubScreen(Screen[None]):
    """Search Hugging Face for GGUF models and download them with `manager`."""

    DEFAULT_CSS = """
    HubScreen { layout: vertical; }
    HubScreen #hub-status { height: 1; padding: 0 1; color: $text-muted; }
    HubScreen #hub-status.error { color: $error; }
    HubScreen DataTable { height: 1fr; }
    HubScreen .hub-title { height: 1; padding: 0 1; text-style: bold; }
    HubScreen DownloadList { height: auto; max-height: 8; }
    HubScreen .hint { height: 1; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = bindings("hub.close")

    class DownloadAction(Message):
        """The user asked to cancel, resume or discard a download."""

        def __init__(self, download: Download, action: str) -> None:
            super().__init__()
            self.download = download
            self.action = action

    class ModelDownloaded(Message):
        """A download finished and its model is in the store (the library should refresh)."""

        def __init__(self, name: str, path: str) -> None:
            super().__init__()
            self.name = name
            self.path = path

    class DownloadsChanged(Message):
        """Downloads changed (posted from a download thread; the screen redraws them)."""

    def __init__(
        self,
        manager: DownloadManager,
        num_ctx: int = 4096,
        num_gpu: int = 0,
        available_memory: int | None = None,
    ) -> None:
        """`num_ctx`/`num_gpu` size the fit check; `available_memory` (bytes) defaults to what is free."""
        super().__init__()
        self.manager = manager
        self._num_ctx, self._num_gpu, self._available = num_ctx, num_gpu, available_memory
        self._repos: list[RepoSummary] = []
        self._models: list[HubModel] = []
        self._changed: set[Download] = set()
        self._changed_lock = threading.Lock()
        self._states: dict[int, State] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search Hugging Face for GGUF models…", id="hub-query")
        yield Label("Type words and press Enter to search the hub.", id="hub-status", markup=False)
        repos = DataTable(id="hub-repos", cursor_type="row", zebra_stripes=True)
        repos.add_columns("repository", "downloads", "updated")
        yield repos
        files = DataTable(id="hub-files", cursor_type="row", zebra_stripes=True)
        files.add_columns("file", "quant", "size")
        files.add_column(f"memory at context {self._num_ctx:,}", width=FIT_WIDTH)  # fixed: cells fill in later
        yield files
        yield Label("Downloads", classes="hub-title")
        yield DownloadList(*(DownloadRow(d) for d in self.manager.downloads), id="hub-downloads")
        yield Label(HINT, classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._states = {id(d): d.state for d in self.manager.downloads}
        self.manager.subscribe(self._on_download_change)
        self.query_one(Input).focus()

    def on_unmount(self) -> None:
        self.manager.unsubscribe(self._on_download_change)

    def action_close(self) -> None:
        """Back to the screen below."""
        self.dismiss()

    def _status(self, text: str, error: bool = False) -> None:
        label = self.query_one("#hub-status", Label)
        label.update(text)
        label.set_class(error, "error")

    # -- search --------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._status("Searching…")
        self._search(event.value.strip())

    @work(thread=True, exclusive=True, group="hub-search")
    def _search(self, query: str) -> None:
        from tui.models.hub import search_repos

        try:
            repos = search_repos(query)
        except HubError as error:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._status, str(error), True)
            return
        if not get_current_worker().is_cancelled:  # a newer search replaced this one
            self.app.call_from_thread(self._show_repos, query, repos)

    def _show_repos(self, query: str, repos: list[RepoSummary]) -> None:
        self._repos = repos
        table = self.query_one("#hub-repos", DataTable)
        table.clear()
        for repo in repos:
            table.add_row(repo.repo_id, f"{repo.downloads:,}", repo.updated)
        what = f"'{query}'" if query else "GGUF"
        self._status(f"{len(repos)} repositories for {what}; Enter lists a repository's files" if repos else f"No GGUF repositories for {what}.")
        if repos:
            table.focus()

    # -- a repository's files ------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "hub-repos":
            repo = self._repos[event.cursor_row]
            self._status(f"Reading {repo.repo_id}…")
            self._list_files(repo.repo_id)
        elif event.data_table.id == "hub-files" and self._models:
            model = self._models[event.cursor_row]
            download = self.manager.add(model)
            self._ensure_row(download).refresh_status()

    @work(thread=True, exclusive=True, group="hub-files")
    def _list_files(self, repo_id: str) -> None:
        from tui.models.hub import list_repo_models

        worker = get_current_worker()
        try:
            models = list_repo_models(repo_id)
        except HubError as error:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._status, str(error), True)
            return
        if worker.is_cancelled:  # another repository was opened meanwhile
            return
        self.app.call_from_thread(self._show_files, repo_id, models)
        for row, model in enumerate(models):
            text = self._fit_text(model)
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._show_fit, row, text)

    def _fit_text(self, model: HubModel) -> str:
        """'fits (needs …, … available)' from the remote header, or why it cannot tell."""
        from tui.models.gguf_info import GGUFError
        from tui.models.hub import remote_fit

        try:
            fit = remote_fit(model, self._num_ctx, self._num_gpu, self._available)
        except (HubError, GGUFError) as error:
            return f"unknown: {error}"
        return f"{'fits' if fit.fits else 'too big'}: {fit.describe()}"

    def _show_files(self, repo_id: str, models: list[HubModel]) -> None:
        self._models = models
        table = self.query_one("#hub-files", DataTable)
        table.clear()
        for model in models:
            parts = f" (+{len(model.files) - 1} parts)" if len(model.files) > 1 else ""
            table.add_row(model.filename + parts, model.quant, human_size(model.size), "checking…")
        count = f"{len(models)} GGUF model{'s' if len(models) != 1 else ''}"
        self._status(f"{repo_id}: {count}; Enter downloads one" if models else f"{repo_id} has no GGUF files.")
        if models:
            table.focus()

    def _show_fit(self, row: int, text: str) -> None:
        table = self.query_one("#hub-files", DataTable)
        if row < table.row_count:
            table.update_cell_at((row, 3), text)

    # -- downloads -----------------------------------------------------------------------------

    def _on_download_change(self, download: Download) -> None:
        """Called from download threads: note the change; one message per batch of changes."""
        with self._changed_lock:
            first = not self._changed
            self._changed.add(download)
        if first:
            self.post_message(self.DownloadsChanged())

    def on_hub_screen_downloads_changed(self, _message: DownloadsChanged) -> None:
        with self._changed_lock:
            changed, self._changed = self._changed, set()
        for download in changed:
            self._ensure_row(download).refresh_status()
            before = self._states.get(id(download))
            self._states[id(download)] = download.state
            if download.state == State.DONE and before != State.DONE and download.path is not None:
                self.post_message(self.ModelDownloaded(download.name, str(download.path)))
                self.notify(f"Downloaded {download.name}")
            elif download.state == State.FAILED and before != State.FAILED:
                self.notify(f"{download.name}: {download.error}", severity="error", timeout=10)

    def _ensure_row(self, download: Download) -> DownloadRow:
        listing = self.query_one(DownloadList)
        for row in listing.query(DownloadRow):
            if row.download is download:
                return row
        row = DownloadRow(download)
        listing.append(row)
        listing.index = len(listing.children) - 1  # the newest download is the one keys act on
        return row

    def on_hub_screen_download_action(self, message: DownloadAction) -> None:
        download = message.download
        if message.action == "cancel":
            self.manager.cancel(download)
        elif message.action == "resume":
            self.manager.resume(download)
        else:
            self.manager.discard(download)
