"""Which models are loaded: one small JSON file per runner, under whirr's cache folder.

A runner writes its file once its model is loaded and after every answer (the keep-alive
deadline moves), and removes it when it exits. A runner that was killed leaves its file
behind; `loaded_models()` skips and deletes files whose process is gone (a pid reused by
another program is told apart by the process's start time).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from tui.files import write_atomically
from tui.paths import Paths

log = logging.getLogger("whirr.runner")


def registry_dir(paths: Paths) -> Path:
    """Where runners keep their files."""
    return paths.cache_dir / "runners"


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


def _file(directory: Path, pid: int) -> Path:
    return directory / f"{pid}.json"


def write_entry(directory: Path, entry: LoadedModel) -> None:
    """Record (or update) a runner's entry; a folder that cannot be written is only logged."""
    try:
        write_atomically(_file(directory, entry.pid), json.dumps(asdict(entry)))
    except OSError as error:
        log.warning("cannot write the runner registry in %s: %s", directory, error)


def remove_entry(directory: Path, pid: int) -> None:
    """Forget a runner's entry (nothing happens when there is none)."""
    _file(directory, pid).unlink(missing_ok=True)


def _alive(entry: LoadedModel) -> bool:
    try:
        return abs(psutil.Process(entry.pid).create_time() - entry.started) < 1.0
    except psutil.Error:
        return False


def loaded_models(directory: Path) -> list[LoadedModel]:
    """The models loaded now, by name; entries of runners that are gone are deleted."""
    models = []
    for path in sorted(directory.glob("*.json")):
        try:
            entry = LoadedModel(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue  # its runner exited while we looked
        except (OSError, ValueError, TypeError) as error:
            log.warning("unreadable runner entry %s: %s", path, error)
            path.unlink(missing_ok=True)
            continue
        if _alive(entry):
            models.append(entry)
        else:
            path.unlink(missing_ok=True)
    return sorted(models, key=lambda m: m.name)
