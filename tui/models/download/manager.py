"""The download queue: `max_concurrent` downloads at a time, each in its own worker thread, that
survive interruptions and restarts. Worker threads report progress to listeners, at most every
`min_interval` seconds per download plus every change of state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from tui.format import human_size
from tui.models.download.files import DownloadFiles, free_space
from tui.models.download.record import ACTIVE, Download, DownloadError, Listener, Part, State, Stopped
from tui.models.download.transfer import Transfer
from tui.models.hub import HubModel, file_url
from tui.paths import Paths


class DownloadManager:
    """A queue of downloads, `max_concurrent` at a time, each in its own worker thread."""

    def __init__(
        self,
        paths: Paths,
        max_concurrent: int = 1,
        *,
        retries: int = 3,
        min_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        free_space: Callable[[Path], int] = free_space,
    ) -> None:
        """`retries`: reconnections after a dropped connection that made no progress;
        `clock` and `free_space` can be replaced (tests freeze the speed, fake a full disk).
        Unfinished downloads of an earlier run are listed as paused."""
        self.paths = paths
        self.max_concurrent = max(1, max_concurrent)
        self.free_space = free_space
        self.files = DownloadFiles(paths.models_dir)
        self._transfer = Transfer(retries, min_interval, clock, self._changed, self.files.write_sidecar)
        self._lock = threading.Condition()
        self._listeners: list[Listener] = []
        self._downloads: list[Download] = self.files.load_unfinished()

    # -- listing and listeners -----------------------------------------------------------------

    @property
    def downloads(self) -> list[Download]:
        """Every download of this run and the unfinished ones found at startup, oldest first."""
        with self._lock:
            return list(self._downloads)

    def unfinished(self) -> list[Download]:
        """Downloads that were stopped or failed and can resume."""
        return [d for d in self.downloads if d.state in (State.PAUSED, State.FAILED)]

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(download)` on progress and state changes (from worker threads)."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener`."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _changed(self, download: Download) -> None:
        with self._lock:
            listeners = list(self._listeners)
            self._lock.notify_all()
        for listener in listeners:
            try:
                listener(download)
            except Exception:  # a listener that went away (a closed screen) must not stop the download
                pass
    # -- actions -------------------------------------------------------------------------------

    def add(self, model: HubModel) -> Download:
        """Queue `model` (or return its download already under way; a stopped one resumes)."""
        with self._lock:
            for existing in self._downloads:
                if existing.name == model.name and existing.state not in (State.DONE, State.CANCELLED):
                    break
            else:
                existing = None
        if existing is not None:
            if existing.state not in ACTIVE:
                self.resume(existing)
            return existing
        parts = [
            Part(file_url(model.repo_id, f.path, model.revision), f.path.rsplit("/", 1)[-1], f.size, f.sha256)
            for f in model.files
        ]
        download = Download(model.name, model.repo_id, parts)
        finals = [self.files.store_dir(model.repo_id) / p.filename for p in parts]
        if all(f.is_file() and f.stat().st_size == p.size for f, p in zip(finals, parts)):
            download.state, download.done, download.path = State.DONE, download.total, finals[0]
        else:
            self.files.write_sidecar(download)
        with self._lock:
            self._downloads.append(download)
        self._changed(download)
        self._start_ready()
        return download

    def cancel(self, download: Download) -> None:
        """Stop `download`, keeping its partial file; resume() continues it."""
        with self._lock:
            if download.state == State.QUEUED:
                download.state = State.PAUSED
            elif download.state == State.RUNNING:
                download._stop.set()
                return  # the worker reports PAUSED once it has stopped
            else:
                return
        self._changed(download)

    def resume(self, download: Download) -> None:
        """Queue a paused or failed download again; it continues where its partial file ends."""
        with self._lock:
            if download.state not in (State.PAUSED, State.FAILED):
                return
            download.state, download.error = State.QUEUED, ""
            download._stop.clear()
        self._changed(download)
        self._start_ready()

    def discard(self, download: Download) -> None:
        """Stop `download` and delete its partial file."""
        with self._lock:
            if download.state == State.RUNNING:
                download._discard = True
                download._stop.set()
                return  # the worker deletes the files once they are closed
            if download.state == State.DONE:
                return
            download.state = State.CANCELLED
        self.files.discard(download)
        self._changed(download)

    def wait(self, download: Download, timeout: float | None = None) -> State:
        """Block until `download` is neither queued nor running (or `timeout` passes)."""
        with self._lock:
            self._lock.wait_for(lambda: download.state not in ACTIVE, timeout)
            return download.state

    def shutdown(self) -> None:
        """Stop every running download (partials are kept) and wait for the workers."""
        for download in self.downloads:
            self.cancel(download)
        for download in self.downloads:
            self.wait(download, timeout=10)

    # -- workers -------------------------------------------------------------------------------

    def _start_ready(self) -> None:
        with self._lock:
            running = sum(d.state == State.RUNNING for d in self._downloads)
            ready = [d for d in self._downloads if d.state == State.QUEUED]
            starting = ready[: max(0, self.max_concurrent - running)]
            for download in starting:
                download.state = State.RUNNING
        for download in starting:
            threading.Thread(target=self._run, args=(download,), name=f"download {download.name}", daemon=True).start()
            self._changed(download)

    def _run(self, download: Download) -> None:
        import httpx2

        try:
            self._check_space(download)
            for part in download.parts:
                self._transfer.fetch(download, part, self.files.part_file(download, part))
            download.verifying = True
            self._changed(download)
            self.files.verify_and_store(download)
            download.state = State.DONE
        except Stopped:
            if download._discard:
                self.files.discard(download)
            download.state = State.CANCELLED if download._discard else State.PAUSED
        except DownloadError as error:
            download.state, download.error = State.FAILED, str(error)
        except (httpx2.TransportError, OSError) as error:
            reason = str(error) or type(error).__name__
            download.error = f"{reason}; {human_size(download.done)} are kept, resume continues from there"
            download.state = State.FAILED
        finally:
            download.speed, download.verifying = 0.0, False
            download._stop.clear()
        self._changed(download)
        self._start_ready()

    def _check_space(self, download: Download) -> None:
        download.done = self.files.on_disk(download)
        needed = download.total - download.done
        free = self.free_space(self.paths.models_dir)
        if free < needed:
            raise DownloadError(
                f"not enough disk space: {download.name} needs {human_size(needed)} more, "
                f"{human_size(free)} free under {self.paths.models_dir}"
            )
