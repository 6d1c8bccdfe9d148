"""Where a download's bytes live: `<models>/.partial/<slug>/<file>.part` beside a small
`download.json` (URLs, sizes, sha256, ETag), so neither ever looks like a model to the library;
a finished download is checked (size, sha256, a readable GGUF header) and only then moved into
`<models>/hf.co/ORG/REPO/` with os.replace."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

from tui.files import write_atomically
from tui.models.download.record import Download, DownloadError, Part, State, Stopped
from tui.models.gguf_info import GGUFError, read_gguf_info
from tui.models.sources import HF_HOST

SIDECAR = "download.json"
PART_SUFFIX = ".part"
HASH_BLOCK = 8 << 20  # bytes read at a time for the checksum (a stop is noticed between blocks)


def file_size(path: Path) -> int:
    """A file's size, 0 when it does not exist."""
    return path.stat().st_size if path.exists() else 0


def free_space(path: Path) -> int:
    """Free bytes on the disk that holds `path` (or would: its nearest existing parent)."""
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


class DownloadFiles:
    """The partial files and sidecars of downloads, and the store finished ones move into."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir

    @property
    def partial_root(self) -> Path:
        """Folder of unfinished downloads (a dot folder of `.part` files: never listed as models)."""
        return self.models_dir / ".partial"

    def store_dir(self, repo_id: str) -> Path:
        """Where a repository's finished files go."""
        return self.models_dir / HF_HOST / repo_id

    def partial_dir(self, download: Download) -> Path:
        """The folder of one download's partial files and sidecar."""
        return self.partial_root / download.slug

    def part_file(self, download: Download, part: Part) -> Path:
        """Where one part's bytes are written until it is finished."""
        return self.partial_dir(download) / (part.filename + PART_SUFFIX)

    def on_disk(self, download: Download) -> int:
        """Bytes of the download already written (no more than each part's size)."""
        return sum(min(file_size(self.part_file(download, p)), p.size) for p in download.parts)

    def discard(self, download: Download) -> None:
        """Delete the download's partial files and sidecar."""
        shutil.rmtree(self.partial_dir(download), ignore_errors=True)

    def write_sidecar(self, download: Download) -> None:
        """Record the download's parts (URLs, sizes, sha256, ETags) beside its partial files."""
        data = {"name": download.name, "repo_id": download.repo_id, "parts": [asdict(p) for p in download.parts]}
        write_atomically(self.partial_dir(download) / SIDECAR, json.dumps(data, indent=1))

    def load_unfinished(self) -> list[Download]:
        """The downloads an earlier run left unfinished, paused (damaged sidecars are left alone)."""
        found = []
        for sidecar in sorted(self.partial_root.glob(f"*/{SIDECAR}")):
            try:
                data = json.loads(sidecar.read_text(encoding="utf-8"))
                download = Download(data["name"], data["repo_id"], [Part(**p) for p in data["parts"]], State.PAUSED)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not ours or damaged: left alone, never listed
            download.done = self.on_disk(download)
            found.append(download)
        return found

    def verify_and_store(self, download: Download) -> None:
        """Check every part (size, sha256, the first part's GGUF header), then move them into the
        store; a bad part is removed and DownloadError says why."""
        for part in download.parts:
            target = self.part_file(download, part)
            size = target.stat().st_size
            if size != part.size:
                raise DownloadError(f"{part.filename}: got {size:,} bytes, the hub says {part.size:,}")
            if part.sha256 and (digest := _sha256(download, target)) != part.sha256:
                target.unlink()
                download.done -= size
                raise DownloadError(
                    f"{part.filename} does not match the hub's checksum (sha256 {digest[:12]}…, "
                    f"expected {part.sha256[:12]}…); the bad file was removed, nothing was stored"
                )
        first = self.part_file(download, download.parts[0])
        try:
            read_gguf_info(first)
        except GGUFError as error:
            self.discard(download)
            raise DownloadError(f"{download.parts[0].filename} is not a usable GGUF ({error}); nothing was stored") from None
        store = self.store_dir(download.repo_id)
        store.mkdir(parents=True, exist_ok=True)
        for part in download.parts:
            os.replace(self.part_file(download, part), store / part.filename)
        self.discard(download)
        download.path = store / download.parts[0].filename


def _sha256(download: Download, path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(HASH_BLOCK):
            if download._stop.is_set():
                raise Stopped
            digest.update(block)
    return digest.hexdigest()
