"""Writing whirr's small files so that nothing is ever half written or silently lost.

`write_atomically` writes a temporary file beside the target and renames it over the target,
so a crash or a full disk leaves either the old file or the new one. `move_aside` keeps a file
whirr cannot read (a corrupt config or library file) next to where it was, for the user.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) in one rename; its folder is created when missing.

    On a read-only or full disk the old file stays as it was, no temporary file is left, and
    the OSError names `path` (not the temporary file) for the message the user sees."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from None


def write_problem(error: OSError) -> str:
    """An OSError met while saving, in one line: what could not be written, and why."""
    where = f" {error.filename}" if error.filename else ""
    return f"cannot write{where}: {error.strerror or error}"


def move_aside(path: Path) -> Path:
    """Rename an unreadable file to `<name>.bad-<time>` (never over an earlier one); returns where."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.bad-{stamp}")
    counter = 1
    while aside.exists():
        counter += 1
        aside = path.with_name(f"{path.name}.bad-{stamp}-{counter}")
    path.replace(aside)
    return aside
