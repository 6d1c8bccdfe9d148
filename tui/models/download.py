"""Downloads from the Hugging Face hub that survive interruptions and restarts.

A download is one model: one GGUF file or all parts of a split one. Bytes go to
`<models>/.partial/<slug>/<file>.part` next to a small `download.json` (URLs, sizes, sha256,
ETag), so neither ever looks like a model to the library and a later whirr continues with an
HTTP Range request (a server that ignores Range starts again from byte 0). A finished download
is checked (size, sha256 from the hub's LFS metadata, a readable GGUF header) and only then
moved into `<models>/hf.co/ORG/REPO/` with os.replace. Worker threads report progress to
listeners, at most every `min_interval` seconds per download plus every change of state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from tui.files import write_atomically
from tui.format import human_size
from tui.models.gguf_info import GGUFError, read_gguf_info
from tui.models.hub import HubModel, file_url, http_problem, open_stream
from tui.models.sources import HF_HOST
from tui.paths import Paths

SIDECAR = "download.json"
PART_SUFFIX = ".part"
CHUNK = 1 << 20
SPEED_WINDOW_S = 0.5
SPEED_SMOOTHING = 0.3  # weight of the newest window in the moving average


class State(str, Enum):
    """Where a download stands."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"  # stopped by the user or found unfinished at startup; the partial file is kept
    DONE = "done"
    FAILED = "failed"  # the error says why; a partial file that can continue is kept
    CANCELLED = "cancelled"  # discarded: the partial file is deleted


ACTIVE = (State.QUEUED, State.RUNNING)


class DownloadError(Exception):
    """A download that cannot finish as it is (bad checksum, not a GGUF, no disk space, HTTP error)."""


class _Stopped(Exception):
    """The user cancelled or discarded a running download."""


@dataclass
class Part:
    """One file of a download, as stored in the sidecar."""

    url: str
    filename: str  # in the store: <models>/hf.co/ORG/REPO/<filename>
    size: int
    sha256: str | None
    etag: str = ""


@dataclass(eq=False)
class Download:
    """A model being downloaded; its fields are updated by the manager's worker thread."""

    name: str  # hf.co/org/repo:quant
    repo_id: str
    parts: list[Part]
    state: State = State.QUEUED
    done: int = 0
    speed: float = 0.0  # bytes/s, smoothed; 0 until measured
    verifying: bool = False
    error: str = ""
    path: Path | None = None  # the first part in the store, once done
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _discard: bool = field(default=False, repr=False)

    @property
    def total(self) -> int:
        """Bytes over all parts."""
        return sum(p.size for p in self.parts)

    @property
    def fraction(self) -> float:
        """Share done, 0.0 to 1.0."""
        return self.done / self.total if self.total else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current speed; None while the speed is unknown."""
        return (self.total - self.done) / self.speed if self.speed > 0 else None

    @property
    def slug(self) -> str:
        """The partial folder's name: the model name with only safe characters."""
        return re.sub(r"[^A-Za-z0-9._-]+", "--", self.name.removeprefix("hf.co/"))


Listener = Callable[[Download], None]


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _free_space(path: Path) -> int:
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


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
        free_space: Callable[[Path], int] = _free_space,
    ) -> None:
        """`retries`: reconnections after a dropped connection that made no progress;
        `clock` and `free_space` can be replaced (tests freeze the speed, fake a full disk).
        Unfinished downloads of an earlier run are listed as paused."""
        self.paths = paths
        self.max_concurrent = max(1, max_concurrent)
        self.retries = retries
        self.min_interval = min_interval
        self.clock = clock
        self.free_space = free_space
        self._lock = threading.Condition()
        self._listeners: list[Listener] = []
        self._downloads: list[Download] = self._load_unfinished()

    # -- where files go ------------------------------------------------------------------------

    @property
    def partial_root(self) -> Path:
        """Folder of unfinished downloads (a dot folder of `.part` files: never listed as models)."""
        return self.paths.models_dir / ".partial"

    def store_dir(self, repo_id: str) -> Path:
        """Where a repository's finished files go."""
        return self.paths.models_dir / HF_HOST / repo_id

    def _partial_dir(self, download: Download) -> Path:
        return self.partial_root / download.slug

    def _part_file(self, download: Download, part: Part) -> Path:
        return self._partial_dir(download) / (part.filename + PART_SUFFIX)

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
        finals = [self.store_dir(model.repo_id) / p.filename for p in parts]
        if all(f.is_file() and f.stat().st_size == p.size for f, p in zip(finals, parts)):
            download.state, download.done, download.path = State.DONE, download.total, finals[0]
        else:
            self._write_sidecar(download)
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
        shutil.rmtree(self._partial_dir(download), ignore_errors=True)
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
                self._fetch(download, part)
            self._verify_and_store(download)
            download.state = State.DONE
        except _Stopped:
            if download._discard:
                shutil.rmtree(self._partial_dir(download), ignore_errors=True)
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

    def _on_disk(self, download: Download) -> int:
        return sum(min(_size(self._part_file(download, p)), p.size) for p in download.parts)

    def _check_space(self, download: Download) -> None:
        download.done = self._on_disk(download)
        needed = download.total - download.done
        free = self.free_space(self.paths.models_dir)
        if free < needed:
            raise DownloadError(
                f"not enough disk space: {download.name} needs {human_size(needed)} more, "
                f"{human_size(free)} free under {self.paths.models_dir}"
            )

    def _fetch(self, download: Download, part: Part) -> None:
        """Download one part to its .part file, reconnecting after dropped connections."""
        import httpx2

        target = self._part_file(download, part)
        failures = 0
        while (have := _size(target)) != part.size:
            error: Exception | None = None
            try:
                self._transfer(download, part, target, have)
            except (httpx2.TransportError, ConnectionError) as caught:
                error = caught
            if _size(target) > have:
                failures = 0
                continue
            failures += 1
            if failures > self.retries:
                if error is not None:
                    raise error
                raise DownloadError(f"{part.filename}: the server keeps ending the transfer at byte {have:,}")
            time.sleep(min(2.0, 0.1 * 2**failures))

    def _transfer(self, download: Download, part: Part, target: Path, have: int) -> None:
        with open_stream(part.url, have) as response:
            status = response.status_code
            if status == 416:  # the partial file does not fit what the server has: start again
                target.unlink()
                return
            if status >= 400:
                raise DownloadError(http_problem(status, part.filename))
            etag = response.headers.get("etag", "")
            restart = have and (status == 200 or (part.etag and etag and etag != part.etag))
            if restart:  # Range ignored, or the file changed since the partial was written
                download.done -= have
                have = 0
                if status != 200:
                    target.unlink()
                    return
            if etag != part.etag:
                part.etag = etag
                self._write_sidecar(download)
            room = part.size - have
            with open(target, "ab" if have else "wb") as out:
                last_notice = window_start = self.clock()
                window_bytes = 0
                for chunk in response.iter_bytes(CHUNK):
                    if download._stop.is_set():
                        raise _Stopped
                    room -= len(chunk)
                    if room < 0:
                        raise DownloadError(f"{part.filename}: the server sent more than the hub's {part.size:,} bytes")
                    out.write(chunk)
                    download.done += len(chunk)
                    window_bytes += len(chunk)
                    now = self.clock()
                    if now - window_start >= SPEED_WINDOW_S:
                        rate = window_bytes / (now - window_start)
                        download.speed = rate if not download.speed else SPEED_SMOOTHING * rate + (1 - SPEED_SMOOTHING) * download.speed
                        window_start, window_bytes = now, 0
                    if now - last_notice >= self.min_interval:
                        last_notice = now
                        self._changed(download)
        self._changed(download)  # the last bytes of this transfer, whatever the throttle said

    def _verify_and_store(self, download: Download) -> None:
        download.verifying = True
        self._changed(download)
        for part in download.parts:
            target = self._part_file(download, part)
            size = target.stat().st_size
            if size != part.size:
                raise DownloadError(f"{part.filename}: got {size:,} bytes, the hub says {part.size:,}")
            if part.sha256 and (digest := self._sha256(download, target)) != part.sha256:
                target.unlink()
                download.done -= size
                raise DownloadError(
                    f"{part.filename} does not match the hub's checksum (sha256 {digest[:12]}…, "
                    f"expected {part.sha256[:12]}…); the bad file was removed, nothing was stored"
                )
        first = self._part_file(download, download.parts[0])
        try:
            read_gguf_info(first)
        except GGUFError as error:
            shutil.rmtree(self._partial_dir(download), ignore_errors=True)
            raise DownloadError(f"{download.parts[0].filename} is not a usable GGUF ({error}); nothing was stored") from None
        store = self.store_dir(download.repo_id)
        store.mkdir(parents=True, exist_ok=True)
        for part in download.parts:
            os.replace(self._part_file(download, part), store / part.filename)
        shutil.rmtree(self._partial_dir(download), ignore_errors=True)
        download.path = store / download.parts[0].filename

    @staticmethod
    def _sha256(download: Download, path: Path) -> str:
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while block := file.read(8 * CHUNK):
                if download._stop.is_set():
                    raise _Stopped
                digest.update(block)
        return digest.hexdigest()

    # -- the sidecar ---------------------------------------------------------------------------

    def _write_sidecar(self, download: Download) -> None:
        data = {"name": download.name, "repo_id": download.repo_id, "parts": [asdict(p) for p in download.parts]}
        write_atomically(self._partial_dir(download) / SIDECAR, json.dumps(data, indent=1))

    def _load_unfinished(self) -> list[Download]:
        found = []
        for sidecar in sorted(self.partial_root.glob(f"*/{SIDECAR}")):
            try:
                data = json.loads(sidecar.read_text(encoding="utf-8"))
                download = Download(data["name"], data["repo_id"], [Part(**p) for p in data["parts"]], State.PAUSED)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not ours or damaged: left alone, never listed
            download.done = self._on_disk(download)
            found.append(download)
        return found
