"""What a download is: its parts (one GGUF file each), its state and progress, and its errors."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


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


class Stopped(Exception):
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
