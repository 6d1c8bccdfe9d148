"""The Hugging Face hub: search GGUF repos, list a repo's GGUF models, read a remote header.

Everything goes through huggingface_hub (HfApi, hf_hub_url, build_hf_headers, its HTTP
session), so HF_ENDPOINT and HF_TOKEN are honoured. huggingface_hub reads HF_ENDPOINT once, at
import; whirr reads it at call time and passes it explicitly, so a changed environment (tests,
a user's shell) always counts. Offline is a normal state: every network failure becomes
HubUnreachable with a text a user can act on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from tui.models.fit import Fit, check_fit
from tui.models.gguf_info import GGUFInfo, GGUFTruncated, read_gguf_info_from_bytes
from tui.models.sources import hf_name, unsplit_stem

DEFAULT_ENDPOINT = "https://huggingface.co"
HF_PREFIXES = ("hf.co/", "huggingface.co/", "https://hf.co/", "https://huggingface.co/")
# Ollama's choice for a repo tag left out, then the closest alternatives (quality per byte).
PREFERRED_QUANTS = ("Q4_K_M", "Q4_K_S", "Q4_0", "Q4_1", "IQ4_XS", "IQ4_NL", "Q5_K_M", "Q5_K_S", "Q5_0", "Q6_K", "Q8_0")
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d+(?:_[A-Z0-9]+)*|TQ\d_\d|B?F16|F32)(?![A-Za-z0-9])", re.IGNORECASE)
_HEADER_READS = (2 << 20, 8 << 20, 32 << 20, 96 << 20)  # bytes read so far, growing until the header fits
TIMEOUT_S = 20.0

T = TypeVar("T")


class HubError(Exception):
    """A hub request that cannot be answered; the text says why and what to do."""


class HubUnreachable(HubError):
    """The hub cannot be reached (no network, DNS, refused, timeout, offline mode)."""


class RepoNotFound(HubError):
    """No such repository (or it is private/gated and no usable HF_TOKEN is set)."""


class QuantNotFound(HubError):
    """The repository has no GGUF file with the quantization asked for."""

    def __init__(self, repo_id: str, quant: str, available: list[str]) -> None:
        self.available = available
        listed = ", ".join(available) if available else "none"
        super().__init__(f"{repo_id} has no {quant} GGUF file; available quantizations: {listed}")


@dataclass(frozen=True)
class RepoSummary:
    """One search result: a repository holding GGUF files."""

    repo_id: str
    downloads: int
    likes: int
    last_modified: datetime | None

    @property
    def updated(self) -> str:
        """The day it last changed (YYYY-MM-DD), or '-'."""
        return self.last_modified.strftime("%Y-%m-%d") if self.last_modified else "-"


@dataclass(frozen=True)
class HubFile:
    """One file of a repository, with what its LFS pointer says."""

    path: str  # relative to the repo root
    size: int
    sha256: str | None


@dataclass(frozen=True)
class HubModel:
    """One runnable GGUF model of a repository: a single file or all parts of a split file."""

    repo_id: str
    revision: str  # commit hash when the hub gave one, so all parts come from one commit
    quant: str  # upper case, as in file names (Q4_K_M); the file stem when none is found
    files: tuple[HubFile, ...]

    @property
    def size(self) -> int:
        """Bytes over all parts."""
        return sum(f.size for f in self.files)

    @property
    def name(self) -> str:
        """The name whirr lists it under once downloaded: hf.co/org/repo:q4_k_m (lower case, like Ollama)."""
        return hf_name(self.repo_id, self.filename)

    @property
    def filename(self) -> str:
        """The first part's file name (what the library shows as the file)."""
        return self.files[0].path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class HubName:
    """A parsed `hf.co/ORG/REPO[:QUANT]`."""

    repo_id: str
    quant: str | None  # None or "latest": pick like Ollama


def endpoint() -> str:
    """The hub's base URL: HF_ENDPOINT at call time, else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def request_headers() -> dict[str, str]:
    """huggingface_hub's headers (user agent, and the HF_TOKEN / saved token when there is one)."""
    from huggingface_hub.utils import build_hf_headers

    return build_hf_headers()


def file_url(repo_id: str, path: str, revision: str) -> str:
    """Where a repository file downloads from (huggingface_hub's resolve URL)."""
    from huggingface_hub import hf_hub_url

    return hf_hub_url(repo_id, path, revision=revision, endpoint=endpoint())


def http_problem(status: int, filename: str) -> str:
    """What an HTTP error status on a file means for the user."""
    hint = "; for a gated or private repository, set HF_TOKEN" if status in (401, 403) else ""
    return f"the hub at {endpoint()} answered HTTP {status} for {filename}{hint}"


def parse_hf_name(name: str) -> HubName:
    """Parse `hf.co/ORG/REPO[:QUANT]` the way Ollama does (quant case-insensitive, `latest` = default)."""
    text = name.strip()
    for prefix in HF_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        raise HubError(f"'{name}' is not a hub model name; use hf.co/ORG/REPO or hf.co/ORG/REPO:QUANT")
    repo_id, _, quant = text.partition(":")
    parts = repo_id.strip("/").split("/")
    if len(parts) != 2 or not all(re.fullmatch(r"[\w.-]+", p) for p in parts):
        raise HubError(f"'{name}' is not a hub model name; use hf.co/ORG/REPO or hf.co/ORG/REPO:QUANT")
    quant = quant.strip()
    return HubName("/".join(parts), None if not quant or quant.lower() == "latest" else quant)


def quant_of(filename: str) -> str | None:
    """The quantization a GGUF file name states (`...-Q4_K_M.gguf` -> Q4_K_M), upper case."""
    stem = unsplit_stem(filename.rsplit("/", 1)[-1].removesuffix(".gguf"))
    found = _QUANT.findall(stem)
    return found[-1].upper() if found else None


def _hub_call(call: Callable[[], T]) -> T:
    """Run a huggingface_hub call, turning its failures into HubError subclasses."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError

    try:
        return call()
    except OfflineModeIsEnabled:
        raise HubUnreachable("the hub is not contacted: HF_HUB_OFFLINE is set (local models still work)") from None
    except RepositoryNotFoundError:
        raise
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        raise HubError(f"the hub at {endpoint()} answered HTTP {status}") from None
    except httpx2.TransportError as error:
        reason = str(error) or type(error).__name__
        raise HubUnreachable(f"cannot reach the hub at {endpoint()} ({reason}); local models still work") from None


def _api():
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint())


def search_repos(query: str, limit: int = 30) -> list[RepoSummary]:
    """GGUF repositories matching `query`, most downloaded first."""

    def call() -> list[RepoSummary]:
        from huggingface_hub.utils import get_session

        # One plain request first: list_models retries a refused connection for ~25 s, and an
        # unreachable hub should say so at once.
        get_session().get(f"{endpoint()}/api/models", params={"limit": 1}, headers=request_headers(), timeout=TIMEOUT_S)
        found = _api().list_models(
            search=query or None,
            filter="gguf",
            sort="downloads",
            limit=limit,
            expand=["downloads", "likes", "lastModified"],
        )
        return [RepoSummary(m.id, m.downloads or 0, m.likes or 0, m.last_modified) for m in found]

    return _hub_call(call)


def list_repo_models(repo_id: str) -> list[HubModel]:
    """The GGUF models of a repository (split files grouped as one), smallest first."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        info = _hub_call(lambda: _api().model_info(repo_id, files_metadata=True, timeout=TIMEOUT_S))
    except RepositoryNotFoundError:
        raise RepoNotFound(
            f"no repository '{repo_id}' on {endpoint()} (for a private or gated one, set HF_TOKEN)"
        ) from None
    groups: dict[str, list[HubFile]] = {}
    for sibling in info.siblings or []:
        path = sibling.rfilename
        base = path.rsplit("/", 1)[-1]
        if not base.lower().endswith(".gguf") or base.lower().startswith("mmproj"):
            continue  # vision projectors are not models on their own
        sha = sibling.lfs.sha256 if sibling.lfs else None
        size = sibling.lfs.size if sibling.lfs else sibling.size or 0
        groups.setdefault(unsplit_stem(path.removesuffix(".gguf")), []).append(HubFile(path, size, sha))
    models = []
    for key, files in groups.items():
        files.sort(key=lambda f: f.path)
        quant = quant_of(files[0].path) or key.rsplit("/", 1)[-1].upper()
        models.append(HubModel(repo_id, info.sha or "main", quant, tuple(files)))
    return sorted(models, key=lambda m: (m.size, m.quant))


def pick_model(repo_id: str, models: list[HubModel], quant: str | None) -> HubModel:
    """The model a tag asks for: that quant (any case), or Ollama's default (Q4_K_M, else a
    close alternative, else the smallest); QuantNotFound lists what there is."""
    by_quant = {m.quant.upper(): m for m in models}
    if quant is not None:
        found = by_quant.get(quant.upper())
        if found is None:
            raise QuantNotFound(repo_id, quant.upper(), list(by_quant))
        return found
    for preferred in PREFERRED_QUANTS:
        if preferred in by_quant:
            return by_quant[preferred]
    if not models:
        raise QuantNotFound(repo_id, "GGUF", [])
    return models[0]


def resolve_hf_name(name: str) -> HubModel:
    """What `hf.co/ORG/REPO[:QUANT]` downloads."""
    parsed = parse_hf_name(name)
    return pick_model(parsed.repo_id, list_repo_models(parsed.repo_id), parsed.quant)


@contextmanager
def open_stream(url: str, start: int = 0, end: int | None = None) -> Iterator[object]:
    """A streamed GET of `url` (huggingface_hub's session, its headers), from byte `start` when
    > 0 (HTTP Range). Yields the response; the caller checks status_code 206 vs 200."""
    from huggingface_hub.utils import get_session

    headers = request_headers()
    if start or end is not None:
        headers["Range"] = f"bytes={start}-{'' if end is None else end}"
    with get_session().stream("GET", url, headers=headers, timeout=TIMEOUT_S) as response:
        yield response


def read_remote_info(model: HubModel) -> GGUFInfo:
    """Read the first part's GGUF header with Range requests, growing the read until it fits."""
    first = model.files[0]
    url = file_url(model.repo_id, first.path, model.revision)
    data = b""

    def fetch(upto: int) -> bytes:
        with open_stream(url, len(data), upto - 1) as response:
            if response.status_code >= 400:
                raise HubError(http_problem(response.status_code, first.path))
            skip = len(data) if response.status_code == 200 else 0  # a server that ignores Range
            chunks, have = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                have += len(chunk)
                if have >= skip + upto - len(data):
                    break
            return b"".join(chunks)[skip : skip + upto - len(data)]

    for upto in _HEADER_READS:
        upto = min(upto, first.size)
        data += _hub_call(lambda: fetch(upto))
        try:
            return read_gguf_info_from_bytes(data, first.size)
        except GGUFTruncated:
            if len(data) >= first.size:
                raise
    raise HubError(f"{first.path}: the GGUF header is larger than {len(data):,} bytes")


def remote_fit(model: HubModel, num_ctx: int, num_gpu: int = 0, available: int | None = None) -> Fit:
    """Whether `model` will fit in memory at `num_ctx`, from its header read over HTTP, before
    downloading it. Raises HubError or GGUFError when the header cannot be read."""
    return check_fit(read_remote_info(model), model.size, num_ctx, num_gpu, available)
