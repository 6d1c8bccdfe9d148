"""A stand-in for the Hugging Face hub on 127.0.0.1: the real HTTP endpoints huggingface_hub
calls (model search, model info with file metadata, file resolve with Range), serving real
files (the starter GGUF) and faults: a connection dropped mid-file, a wrong sha256, a truncated
GGUF, a non-GGUF file, a server that ignores Range.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
MODIFIED = "2025-01-15T10:00:00.000Z"
STARTER_REPO = "whirr-test/SmolLM2-135M-Instruct-GGUF"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BROKEN_REPO = "whirr-test/broken-GGUF"
_SHA_CACHE: dict[tuple[str, int | None, bytes | None], str] = {}


@dataclass
class HubFile:
    """A file the server holds: bytes from `source` (up to `length`) or `data`."""

    source: Path | None = None
    data: bytes | None = None
    length: int | None = None
    sha256: str | None = None  # the LFS metadata; None computes the real one

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end)."""
        if self.data is not None:
            return self.data[start:end]
        assert self.source is not None
        with open(self.source, "rb") as file:
            file.seek(start)
            return file.read(end - start)

    @property
    def size(self) -> int:
        """Bytes served."""
        if self.data is not None:
            return len(self.data)
        assert self.source is not None
        return self.length if self.length is not None else self.source.stat().st_size


@dataclass
class Repo:
    """A repository: its files and what search shows."""

    files: dict[str, HubFile]
    downloads: int = 0
    likes: int = 0


@dataclass
class FakeHub:
    """The server's state; tests change the fault switches while it runs."""

    repos: dict[str, Repo]
    drop_after: int | None = None  # close the next file transfer after this many bytes (once)
    ignore_range: bool = False
    chunk_delay: float = 0.0  # seconds between 256 KiB chunks (a slow line, for cancel tests)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Range header)
    url: str = ""

    def sha256(self, file: HubFile) -> str:
        """The sha256 the hub advertises for `file` (the real one unless the file sets it)."""
        if file.sha256 is not None:
            return file.sha256
        key = (str(file.source), file.length, file.data)
        if key not in _SHA_CACHE:
            digest = hashlib.sha256()
            step = 8 << 20
            for start in range(0, file.size, step):
                digest.update(file.read(start, min(file.size, start + step)))
            _SHA_CACHE[key] = digest.hexdigest()
        return _SHA_CACHE[key]

    def downloads_of(self, repo: str, filename: str) -> list[str]:
        """Range headers of the transfers of one file ('' for a whole-file request)."""
        return [r for path, r in self.requests if path.endswith(f"/{repo}/resolve/{COMMIT}/{filename}")]


def standard_repos(starter: Path, broken_sha: str | None = None) -> dict[str, Repo]:
    """The repos tests use: the starter model, a broken one, and search-only ones."""
    starter_file = HubFile(source=starter)
    return {
        STARTER_REPO: Repo({STARTER_FILE: starter_file, "README.md": HubFile(data=b"# SmolLM2\n")}, 5200, 42),
        BROKEN_REPO: Repo(
            {
                "bad-sha.Q4_1.gguf": HubFile(source=starter, sha256=broken_sha or "0" * 64),
                "truncated.Q4_0.gguf": HubFile(source=starter, length=starter.stat().st_size // 2),
                "not-gguf.Q8_0.gguf": HubFile(data=b"<html>this is not a model</html>\n" * 1000),
            },
            12,
            0,
        ),
        "whirr-test/Tiny-Llama-GGUF": Repo(
            {
                "tiny-llama-Q4_K_M-00001-of-00002.gguf": HubFile(data=b"GGUF" + b"\0" * 2000),
                "tiny-llama-Q4_K_M-00002-of-00002.gguf": HubFile(data=b"\0" * 1000),
                "tiny-llama-q8_0.gguf": HubFile(data=b"GGUF" + b"\0" * 5000),
                "mmproj-tiny-f16.gguf": HubFile(data=b"GGUF" + b"\0" * 100),
            },
            900,
            7,
        ),
    }


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _json(self, data: object, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        self.hub.requests.append((path, self.headers.get("Range", "")))
        if path == "/api/models":
            return self._search(parse_qs(parts.query))
        match = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?", path)
        if match:
            return self._model_info(match[1])
        match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/[^/]+/(.+)", path)
        if match:
            return self._resolve(match[1], match[2], head)
        self._json({"error": "not found"}, 404)

    def _search(self, query: dict[str, list[str]]) -> None:
        words = query.get("search", [""])[0].lower()
        limit = int(query.get("limit", ["1000"])[0])
        found = [
            {"id": name, "downloads": repo.downloads, "likes": repo.likes, "lastModified": MODIFIED, "tags": ["gguf"]}
            for name, repo in self.hub.repos.items()
            if words in name.lower()
        ]
        found.sort(key=lambda item: -item["downloads"])
        self._json(found[:limit])

    def _model_info(self, name: str) -> None:
        repo = self.hub.repos.get(name)
        if repo is None:
            return self._json({"error": "Repository not found"}, 404, {"X-Error-Code": "RepoNotFound"})
        siblings = []
        for filename, file in repo.files.items():
            sibling: dict[str, object] = {"rfilename": filename, "size": file.size, "blobId": "b" * 40}
            if filename.endswith(".gguf"):
                sibling["lfs"] = {"size": file.size, "sha256": self.hub.sha256(file), "pointerSize": 134}
            siblings.append(sibling)
        self._json({"id": name, "sha": COMMIT, "lastModified": MODIFIED, "downloads": repo.downloads, "siblings": siblings})

    def _resolve(self, name: str, filename: str, head: bool) -> None:
        repo = self.hub.repos.get(name)
        file = repo.files.get(filename) if repo else None
        if file is None:
            return self._json({"error": "Entry not found"}, 404, {"X-Error-Code": "EntryNotFound"})
        size = file.size
        start, end = 0, size
        ranged = self.headers.get("Range")
        status = 200
        if ranged and not self.hub.ignore_range:
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", ranged)
            assert match, ranged
            start = int(match[1])
            end = min(size, int(match[2]) + 1) if match[2] else size
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{self.hub.sha256(file)}"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("X-Linked-Size", str(size))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.end_headers()
        if head:
            return
        drop, self.hub.drop_after = self.hub.drop_after, None
        position = start
        while position < end:
            chunk = file.read(position, min(end, position + (256 << 10)))
            if drop is not None and position - start + len(chunk) > drop:
                self.wfile.write(chunk[: max(0, drop - (position - start))])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            try:
                self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client stopped (a cancelled download)
            position += len(chunk)
            if self.hub.chunk_delay:
                time.sleep(self.hub.chunk_delay)


def start(hub: FakeHub) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve `hub` on a free port of 127.0.0.1 in a daemon thread; sets hub.url."""
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
