"""The models on configured servers, named `SERVER/MODEL`, listed within a second.

Every server is asked at once, each on its own thread (Ollama: GET /api/tags; OpenAI-compatible:
GET {url}/models), and listing waits at most `timeout` seconds in total: a server that has not
answered by then is reported unreachable and its models, if it answered before, come from the
cache of the last answers (whirr's cache folder), marked unreachable.

Listing uses the standard library's urllib rather than the `ollama` and `openai` clients: those
take 0.3 s and 0.8 s to import, and `whirr list` must stay fast; two GETs need neither.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.files import write_atomically
from tui.models.library import Library, ModelEntry, remote_entry
from tui.servers import Server, http_error_message

LIST_TIMEOUT = 0.8
"""Seconds listing waits for all servers together."""


@dataclass(frozen=True)
class ServerListing:
    """What one server holds: its models, or why it could not be asked (then `entries` are the
    last known ones from the cache, each with the problem)."""

    server: Server
    entries: tuple[ModelEntry, ...]
    error: str = ""

    @property
    def reachable(self) -> bool:
        """True when the server answered this time."""
        return not self.error


def get_json(server: Server, path: str, timeout: float) -> Any:
    """GET `path` from the server and parse its JSON; RuntimeError with one line when it fails."""
    request = urllib.request.Request(server.url + path, headers=server.headers)
    try:
        context = server.ssl_context() if server.url.startswith("https:") else None
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        raise RuntimeError(http_error_message(server, error.code, body)) from None
    except urllib.error.URLError as error:
        raise RuntimeError(f"cannot connect to {server.url}: {error.reason}") from None
    except (TimeoutError, OSError) as error:
        raise RuntimeError(f"no answer from {server.url}: {error}") from None
    try:
        return json.loads(body)
    except ValueError:
        raise RuntimeError(f"{server.url} did not answer with JSON (is it an {server.kind} server?)") from None


def _iso_time(text: Any) -> float:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def fetch_models(server: Server, timeout: float = LIST_TIMEOUT, every: bool = False) -> list[ModelEntry]:
    """The models `server` holds now (only those its `models` setting names, unless `every`);
    RuntimeError if it cannot be asked."""
    shows = (lambda _model: True) if every else server.shows
    entries = []
    if server.kind == "ollama":
        data = get_json(server, "/api/tags", timeout)
        models = data.get("models") if isinstance(data, dict) else None
        if not isinstance(models, list):
            raise RuntimeError(f"{server.url}/api/tags is not an Ollama model list")
        for model in models:
            if not isinstance(model, dict) or not isinstance(model.get("name"), str) or not shows(model["name"]):
                continue
            details = model.get("details") if isinstance(model.get("details"), dict) else {}
            described = " ".join(str(details[k]) for k in ("family", "parameter_size", "quantization_level") if details.get(k))
            entries.append(remote_entry(server, model["name"], int(model.get("size") or 0),
                                        _iso_time(model.get("modified_at")),
                                        str(model.get("digest") or "-").removeprefix("sha256:")[:12], described))
    else:
        data = get_json(server, "/models", timeout)
        models = data.get("data") if isinstance(data, dict) else None
        if not isinstance(models, list):
            raise RuntimeError(f"{server.url}/models is not an OpenAI model list")
        for model in models:
            if isinstance(model, dict) and isinstance(model.get("id"), str) and shows(model["id"]):
                created = model.get("created")
                entries.append(remote_entry(server, model["id"], 0, float(created) if isinstance(created, (int, float)) else 0.0,
                                            details=str(model.get("owned_by") or "")))
    return sorted(entries, key=lambda e: e.name)


class RemoteCatalog:
    """Lists every server's models at once, caching the last answer of each."""

    def __init__(self, servers: list[Server], cache_file: Path) -> None:
        self.servers = servers
        self.cache_file = cache_file

    def list(self, timeout: float = LIST_TIMEOUT) -> list[ServerListing]:
        """Each server's listing, in server order; never waits more than `timeout` seconds."""
        if not self.servers:
            return []
        results: dict[str, list[ModelEntry] | str] = {}

        def ask(server: Server) -> None:
            try:
                results[server.name] = fetch_models(server, timeout)
            except RuntimeError as error:
                results[server.name] = str(error)

        threads = [threading.Thread(target=ask, args=(s,), daemon=True, name=f"whirr-list-{s.name}") for s in self.servers]
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        cache = self._read_cache()
        listings = []
        for server in self.servers:
            found = results.get(server.name, f"no answer from {server.url} within {timeout:g} s")
            if isinstance(found, list):
                cache[server.name] = {"url": server.url, "models": [_cached(e) for e in found]}
                listings.append(ServerListing(server, tuple(found)))
            else:
                listings.append(ServerListing(server, self._from_cache(server, cache, found), found))
        self._write_cache(cache)
        return listings

    def _from_cache(self, server: Server, cache: dict[str, Any], error: str) -> tuple[ModelEntry, ...]:
        known = cache.get(server.name)
        if not isinstance(known, dict) or known.get("url") != server.url:
            return ()
        entries = []
        for item in known.get("models", []):
            try:
                entries.append(remote_entry(server, str(item["model"]), int(item["size"]), float(item["modified"]),
                                            str(item["id"]), str(item["details"]), problem=f"{server.name} is unreachable"))
            except (KeyError, TypeError, ValueError):
                continue
        return tuple(entries)

    def _read_cache(self) -> dict[str, Any]:
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self, cache: dict[str, Any]) -> None:
        try:
            write_atomically(self.cache_file, json.dumps(cache))
        except OSError:
            pass  # the cache only helps when a server is down; never break listing for it


def remote_listings(library: Library, timeout: float = LIST_TIMEOUT) -> list[ServerListing]:
    """Every configured server's models (cached in whirr's cache folder); waits at most `timeout` s."""
    return RemoteCatalog(library.servers, library.paths.cache_dir / "servers.json").list(timeout)


def _cached(entry: ModelEntry) -> dict[str, Any]:
    return {"model": entry.name.split("/", 1)[1], "size": entry.size, "modified": entry.modified,
            "id": entry.id, "details": entry.details}
