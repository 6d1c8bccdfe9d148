"""One part over HTTP: continued with a Range request, started again when the server ignores the
Range or the file changed (its ETag), reconnected after dropped connections, with a smoothed
speed and progress reported at most every `min_interval` seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui.models.download.files import file_size
from tui.models.download.record import Download, DownloadError, Part, Stopped
from tui.models.hub import http_problem, open_stream

CHUNK = 1 << 20
SPEED_WINDOW_S = 0.5
SPEED_SMOOTHING = 0.3  # weight of the newest window in the moving average


@dataclass(frozen=True)
class Transfer:
    """How parts are fetched: `retries` reconnections after a dropped connection that made no
    progress, the clock speeds are measured with, and whom to tell about progress and ETags."""

    retries: int
    min_interval: float
    clock: Callable[[], float]
    notify: Callable[[Download], None]
    save_sidecar: Callable[[Download], None]

    def fetch(self, download: Download, part: Part, target: Path) -> None:
        """Download one part to `target`, reconnecting after dropped connections."""
        import httpx2

        failures = 0
        while (have := file_size(target)) != part.size:
            error: Exception | None = None
            try:
                self._transfer(download, part, target, have)
            except (httpx2.TransportError, ConnectionError) as caught:
                error = caught
            if file_size(target) > have:
                failures = 0
                continue
            failures += 1
            if failures > self.retries:
                if error is not None:
                    raise error
                raise DownloadError(f"{part.filename}: the server keeps ending the transfer at byte {have:,}")
            time.sleep(min(2.0, 0.1 * 2**failures))  # back off before reconnecting

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
                self.save_sidecar(download)
            room = part.size - have
            with open(target, "ab" if have else "wb") as out:
                last_notice = window_start = self.clock()
                window_bytes = 0
                for chunk in response.iter_bytes(CHUNK):
                    if download._stop.is_set():
                        raise Stopped
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
                        self.notify(download)
        self.notify(download)  # the last bytes of this transfer, whatever the throttle said
