"""A WHIRR_HOME on its own small disk that a test can make read-only or full, as the OS does it.

As root (where chmod does not stop writes) the home is a tmpfs mount, covered by a read-only
bind mount of itself, or filled to its last byte for a full disk. Without the right to mount, a read-only home is made
with chmod (which binds users other than root), and a full disk cannot be had: those tests skip.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class Disk:
    """A folder on a 16 MiB tmpfs (or a plain folder when mounting is not allowed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.mounted = os.geteuid() == 0 and _mount(["-t", "tmpfs", "-o", "size=16m", "tmpfs", str(root)])
        if os.geteuid() == 0 and not self.mounted:
            pytest.skip("root without the right to mount: a read-only folder cannot be made")

    def read_only(self) -> None:
        """From now on nothing under the folder can be written (EROFS, or EACCES with chmod)."""
        if self.mounted:  # a read-only bind mount over it: files a program holds open stay so
            assert _mount(["--bind", str(self.root), str(self.root)])
            assert _mount(["-o", "remount,bind,ro", str(self.root)])
        else:
            for folder, _dirs, _files in os.walk(self.root):
                os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)

    def writable(self) -> None:
        """Undo `read_only`."""
        if self.mounted:
            assert subprocess.run(["umount", str(self.root)], capture_output=True).returncode == 0
        else:
            for folder, _dirs, _files in os.walk(self.root):
                os.chmod(folder, stat.S_IRWXU)

    def fill(self) -> None:
        """Use every free byte (ENOSPC from now on) with one filler file."""
        if not self.mounted:
            pytest.skip("a full disk needs a tmpfs, which only root can mount")
        with open(self.root / "filler", "wb", buffering=0) as file:
            chunk = 1 << 20
            while chunk:
                try:
                    file.write(b"\0" * chunk)
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    chunk //= 2

    def free(self) -> None:
        """Undo `fill`."""
        (self.root / "filler").unlink()

    def close(self) -> None:
        """Unmount (or make writable again so pytest can remove it)."""
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.root)], check=False)
        else:
            self.writable()
            shutil.rmtree(self.root, ignore_errors=True)


def _mount(arguments: list[str]) -> bool:
    return subprocess.run(["mount", *arguments], capture_output=True).returncode == 0


@pytest.fixture
def disk_home(whirr_home: Path) -> Iterator[Disk]:
    """WHIRR_HOME on its own small disk (see Disk)."""
    disk = Disk(whirr_home)
    try:
        yield disk
    finally:
        disk.close()
