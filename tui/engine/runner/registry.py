"""What whirr's processes on this machine are doing: one small JSON file per process, under
whirr's cache folder.

- `runners/`: one file per runner and the model it holds (`whirr ps`). A runner writes its file
  once its model is loaded and after every answer (the keep-alive deadline moves), and removes
  it when it exits.
- `served/`: one file per `whirr serve` and what it is serving (answers, tokens, energy, the
  rate now, its processes), which the app's meters panel shows. The server rewrites it at most
  a few times a second while something changes, and removes it when it exits.

A process that was killed leaves its file behind; reading skips and deletes files whose process
is gone (a pid reused by another program is told apart by the process's start time).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psutil

from tui.files import write_atomically
from tui.paths import Paths

log = logging.getLogger("whirr.runner")


def registry_dir(paths: Paths) -> Path:
    """Where runners keep their files."""
    return paths.cache_dir / "runners"


def served_dir(paths: Paths) -> Path:
    """Where `whirr serve` keeps its file."""
    return paths.cache_dir / "served"


class Entry(Protocol):
    """What every registry file holds: the process it describes."""

    @property
    def pid(self) -> int:
        """The process's id."""
        ...

    @property
    def started(self) -> float:
        """The process's start time (psutil's create_time), which tells a reused pid apart."""
        ...


E = TypeVar("E", bound=Entry)


@dataclass(frozen=True)
class LoadedModel:
    """One runner and the model it holds (what `whirr ps` prints)."""

    pid: int
    started: float
    """The process's start time (psutil's create_time), which tells a reused pid apart."""
    name: str
    model_id: str
    path: str
    processor: str
    """Where the model runs, as Ollama prints it: "100% CPU", "100% GPU", "48%/52% CPU/GPU"."""
    context: int
    until: float | None
    """When keep_alive unloads it (seconds since the epoch); None: kept until unloaded."""
    threads: int = 0

    @property
    def memory_bytes(self) -> int:
        """The runner's resident memory now (0 when it is gone)."""
        try:
            return psutil.Process(self.pid).memory_info().rss
        except psutil.Error:
            return 0


@dataclass(frozen=True)
class ServedEntry:
    """What one `whirr serve` has served (its running totals) and is serving now."""

    pid: int
    started: float
    """The server's start time (psutil's create_time), which tells a reused pid apart."""
    address: str
    """Where it listens, host:port."""
    answers: int
    """Answers it finished (and measured)."""
    tokens: int
    """Tokens it generated, those of the answers under way included."""
    energy_j: float
    """The energy of its answers (each answer's share, as in its API replies), those under way included."""
    measured: bool
    """Whether every component's energy is measured (RAPL/NVML) rather than estimated."""
    answering: int
    """Answers being written now."""
    rate: float
    """Tokens per second it generated over the last second."""
    pids: tuple[int, ...]
    """The server's process and its runners."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServedEntry:
        """From the file's JSON (TypeError or ValueError when it is not one)."""
        values = dict(data)
        values["pids"] = tuple(int(pid) for pid in values["pids"])
        return cls(**values)


def _file(directory: Path, pid: int) -> Path:
    return directory / f"{pid}.json"


def write_entry(directory: Path, entry: LoadedModel | ServedEntry) -> None:
    """Record (or update) a process's entry; a folder that cannot be written is only logged."""
    try:
        write_atomically(_file(directory, entry.pid), json.dumps(asdict(entry)))
    except OSError as error:
        log.warning("cannot write the registry in %s: %s", directory, error)


def remove_entry(directory: Path, pid: int) -> None:
    """Forget a process's entry (nothing happens when there is none)."""
    _file(directory, pid).unlink(missing_ok=True)


def _alive(entry: Entry) -> bool:
    try:
        return abs(psutil.Process(entry.pid).create_time() - entry.started) < 1.0
    except psutil.Error:
        return False


def _entries(directory: Path, build: Callable[[dict[str, Any]], E]) -> list[E]:
    """The entries of live processes in `directory`; unreadable ones and those of processes that
    are gone are deleted."""
    entries = []
    try:
        paths = sorted(directory.glob("*.json"))
    except OSError:
        return []
    for path in paths:
        try:
            entry = build(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue  # its process exited while we looked
        except (OSError, ValueError, TypeError, KeyError) as error:
            log.warning("unreadable registry entry %s: %s", path, error)
            _drop(path)
            continue
        if _alive(entry):
            entries.append(entry)
        else:
            _drop(path)
    return entries


def _drop(path: Path) -> None:
    with contextlib.suppress(OSError):  # a read-only cache folder: the entry is only skipped
        path.unlink(missing_ok=True)


def loaded_models(directory: Path) -> list[LoadedModel]:
    """The models loaded now, by name; entries of runners that are gone are deleted."""
    return sorted(_entries(directory, lambda data: LoadedModel(**data)), key=lambda m: m.name)


def serving(directory: Path) -> list[ServedEntry]:
    """What every `whirr serve` on this machine is serving, by address; entries of servers that
    are gone are deleted."""
    return sorted(_entries(directory, ServedEntry.from_dict), key=lambda s: s.address)
