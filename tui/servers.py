"""Model servers on other machines: the `[servers.NAME]` tables of config.toml.

    [servers.gpu]
    kind = "ollama"                 # or "openai" (vLLM, llama.cpp's server, LM Studio, ...)
    url = "http://gpu-box:11434"    # for "openai": the base URL with its /v1
    api_key_env = "GPU_KEY"         # optional: the environment variable holding the key
    models = ["llama3.1:70b"]       # optional: show only these
    verify = true                   # optional: false skips TLS certificate checks (this server only)

`OLLAMA_HOST`, when set, adds an Ollama server named `ollama` unless one is configured. Models on
a server are named `SERVER/MODEL` (`gpu/llama3.1:70b`). Keys stay in the environment: only the
variable's name is ever written anywhere.

The tables are read here, not by tui/config.py (which leaves `servers` alone); adding, editing
and removing a server rewrites config.toml with tomli-w, keeping every other key.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from tui.files import write_atomically
from tui.paths import Paths

if TYPE_CHECKING:
    import ssl

KINDS = ("ollama", "openai")
ServerKind = Literal["ollama", "openai"]
OLLAMA_HOST_SERVER = "ollama"
"""The server `OLLAMA_HOST` adds."""
OLLAMA_PORT = 11434
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELDS = ("kind", "url", "api_key_env", "models", "verify")


class ServerError(ValueError):
    """A server table that is not valid, or a change that cannot be made; the text names the field."""


@dataclass(frozen=True)
class Server:
    """One model server whirr talks to."""

    name: str
    kind: ServerKind
    url: str
    api_key_env: str = ""
    models: tuple[str, ...] = ()
    verify: bool = True

    @property
    def api_key(self) -> str | None:
        """The key from the environment (never stored by whirr); None when unset."""
        return os.environ.get(self.api_key_env) or None if self.api_key_env else None

    @property
    def headers(self) -> dict[str, str]:
        """What every request to this server carries: its key, when one is set."""
        key = self.api_key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def ssl_context(self) -> "ssl.SSLContext":
        """TLS checked with the system's certificates, or not at all when `verify = false`."""
        import ssl

        if self.verify:
            return ssl.create_default_context()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    def shows(self, model: str) -> bool:
        """True when `models` is empty or names this model."""
        return not self.models or model in self.models

    def to_table(self) -> dict[str, Any]:
        """The TOML table for this server (defaults left out)."""
        table: dict[str, Any] = {"kind": self.kind, "url": self.url}
        if self.api_key_env:
            table["api_key_env"] = self.api_key_env
        if self.models:
            table["models"] = list(self.models)
        if not self.verify:
            table["verify"] = False
        return table


def check_name(name: str) -> str:
    """A server name as stored (lower case), or ServerError."""
    wanted = name.strip().lower()
    if not _NAME.match(wanted):
        raise ServerError(f"invalid server name '{name}': use letters, digits, '_' and '-'")
    return wanted


def server_from_table(name: str, table: Any) -> Server:
    """Build and check one `[servers.NAME]` table; ServerError names the field that is wrong."""
    where = f"[servers.{name}]"
    if not isinstance(table, dict):
        raise ServerError(f"{where} must be a table")
    name = check_name(name)
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise ServerError(f"{where}: unknown field '{unknown[0]}' (known: {', '.join(_FIELDS)})")
    kind = table.get("kind")
    if kind not in KINDS:
        raise ServerError(f"{where} kind must be \"ollama\" or \"openai\", got {kind!r}")
    url = table.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ServerError(f"{where} url must be a string like http://host:{OLLAMA_PORT}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(f"{where} url must start with http:// or https:// and name a host, got {url!r}")
    key_env = table.get("api_key_env", "")
    if not isinstance(key_env, str) or (key_env and not _ENV.match(key_env)):
        raise ServerError(f"{where} api_key_env must be the name of an environment variable, got {key_env!r}")
    models = table.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
        raise ServerError(f"{where} models must be a list of model names")
    verify = table.get("verify", True)
    if not isinstance(verify, bool):
        raise ServerError(f"{where} verify must be true or false, got {verify!r}")
    return Server(name, kind, url.strip().rstrip("/"), key_env, tuple(models), verify)


def ollama_host_url(value: str) -> str:
    """OLLAMA_HOST as the Ollama tools read it: `host`, `host:port`, or a URL; port 11434 by default."""
    value = value.strip()
    if "://" not in value:
        value = f"http://{value}"
    parts = urlsplit(value)
    host = parts.hostname or "127.0.0.1"
    if host == "0.0.0.0":
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or (OLLAMA_PORT if parts.scheme == "http" else 443)
    return f"{parts.scheme}://{host}:{port}{parts.path.rstrip('/')}"


def _read_document(paths: Paths) -> dict[str, Any]:
    """config.toml as a plain dict ({} when missing); ServerError when it cannot be read."""
    try:
        raw = paths.config_file.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ServerError(f"cannot read {paths.config_file}: {error.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ServerError(f"{paths.config_file} is not valid TOML: {error}") from None


def load_servers(paths: Paths, warnings: list[str] | None = None) -> list[Server]:
    """The configured servers, by name, plus `ollama` from OLLAMA_HOST. A table that is not valid
    is left out with a one-line warning appended to `warnings`; the others still work."""
    notes = warnings if warnings is not None else []
    try:
        document = _read_document(paths)
    except ServerError:
        document = {}  # the config loader reports an unreadable file
    tables = document.get("servers", {})
    servers: dict[str, Server] = {}
    if not isinstance(tables, dict):
        notes.append("[servers] must be a table of [servers.NAME] tables; no server is used")
        tables = {}
    for name, table in tables.items():
        try:
            server = server_from_table(name, table)
        except ServerError as error:
            notes.append(f"{error}; that server is left out")
            continue
        servers[server.name] = server
    host = os.environ.get("OLLAMA_HOST", "").strip()
    if host and OLLAMA_HOST_SERVER not in servers:
        servers[OLLAMA_HOST_SERVER] = Server(OLLAMA_HOST_SERVER, "ollama", ollama_host_url(host))
    return [servers[name] for name in sorted(servers)]


def save_server(paths: Paths, server: Server, replace: str | None = None) -> None:
    """Add `server` to config.toml, or replace the server named `replace` (which may be renamed).
    Every other key of the file is kept; the file is written atomically. ServerError when the
    name is taken or the file cannot be read."""
    import tomli_w

    server = server_from_table(server.name, server.to_table())  # the same checks as reading
    document = _read_document(paths)
    tables = document.setdefault("servers", {})
    if not isinstance(tables, dict):
        raise ServerError("[servers] in config.toml is not a table; fix it by hand first")
    if server.name in tables and server.name != replace:
        raise ServerError(f"a server named '{server.name}' already exists")
    if replace is not None:
        tables.pop(replace, None)
    tables[server.name] = server.to_table()
    write_atomically(paths.config_file, tomli_w.dumps(document))


def remove_server(paths: Paths, name: str) -> bool:
    """Remove `[servers.NAME]` from config.toml, keeping every other key; False if there was none."""
    import tomli_w

    document = _read_document(paths)
    tables = document.get("servers")
    if not isinstance(tables, dict) or name not in tables:
        return False
    del tables[name]
    if not tables:
        del document["servers"]
    write_atomically(paths.config_file, tomli_w.dumps(document))
    return True


def refused_key_message(server: Server) -> str:
    """What HTTP 401/403 from `server` means, naming the variable its key comes from."""
    return f"the server refused the API key ({server.api_key_env or 'no api_key_env set'})"


def looks_like_html(text: str) -> bool:
    """True for an HTML page (what a proxy sends instead of the API's answer)."""
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype", "<html")) or "<html" in head or "<body" in head


def http_error_message(server: Server, status: int, body: str) -> str:
    """One line for an HTTP error status from `server` with its body: a refused key, a proxy's
    HTML page, or the error the API gave (Ollama's and OpenAI's JSON errors, or plain text)."""
    if status in (401, 403):
        return refused_key_message(server)
    if looks_like_html(body):
        return f"{server.name} sent an HTML page (HTTP {status}), not an API answer: a proxy in the way?"
    message = body
    try:
        data = json.loads(body)
        error = data.get("error") if isinstance(data, dict) else None
        message = str((error.get("message") if isinstance(error, dict) else error) or data.get("message") or body)
    except (ValueError, AttributeError):
        pass
    return f"{server.name} answered HTTP {status}: {' '.join(message.split())[:200] or 'no details'}"


def split_remote(name: str, servers: list[Server]) -> tuple[Server, str] | None:
    """(server, model) when `name` is `SERVER/MODEL` for a known server, else None."""
    head, slash, model = name.strip().partition("/")
    if not slash or not model:
        return None
    server = next((s for s in servers if s.name == head.lower()), None)
    return (server, model) if server is not None else None
