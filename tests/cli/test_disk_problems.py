"""A read-only or full home: commands that only read still work; commands that write say in one
line what they could not write, and change nothing (real read-only and full tmpfs mounts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.disk import Disk, disk_home  # noqa: F401  (a fixture)
from tui.paths import resolve_paths
from tui.store.db import Database

PIRATE = "FROM smollm2:135m\nSYSTEM Arr.\n"


@pytest.fixture
def filled_home(disk_home: Disk, run_whirr, tmp_path: Path) -> Disk:  # noqa: F811
    """A home with a persona, an alias and a saved chat."""
    modelfile = tmp_path / "Modelfile"
    modelfile.write_text(PIRATE)
    assert run_whirr("create", "pirate", "-f", str(modelfile)).returncode == 0
    assert run_whirr("cp", "smollm2:135m", "tiny").returncode == 0
    db = Database.open(resolve_paths().database_file)
    session = db.create_session("Sea shanties", "pirate:latest")
    db.add_message(session.id, "user", "Sing!")
    db.add_message(session.id, "assistant", "Yo ho ho")
    db.close()
    return disk_home


READS = [
    (("list",), "pirate:latest"),
    (("show", "pirate"), "Arr."),
    (("show", "smollm2:135m"), "repeat_penalty"),
    (("sessions",), "Sea shanties"),
    (("export", "1"), "Yo ho ho"),
    (("export", "Sea shanties", "--format", "json"), '"Yo ho ho"'),
    (("modelfile", "parse", "{modelfile}"), '"model"'),
]
WRITES = [
    ("create", "parrot", "-f", "{modelfile}"),
    ("cp", "pirate", "parrot"),
    ("cp", "smollm2:135m", "tiny2"),
    ("rm", "tiny"),
    ("rm", "pirate"),
    ("export", "1", "-o", "{home}/chat.md"),
]


def _fill(args: tuple[str, ...], home: Path, tmp_path: Path) -> list[str]:
    return [a.format(modelfile=tmp_path / "Modelfile", home=home) for a in args]


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_home_that_cannot_be_written(filled_home: Disk, run_whirr, tmp_path: Path, fault: str) -> None:
    reason = "Read-only file system" if fault == "read-only" else "No space left on device"
    if fault == "read-only":
        filled_home.read_only()
    else:
        filled_home.fill()
    if not filled_home.mounted:
        reason = "Permission denied"
    try:
        for args, expected in READS:
            result = run_whirr(*_fill(args, filled_home.root, tmp_path))
            assert result.returncode == 0 and expected in result.stdout, (args, result.stderr)
        for args in WRITES:
            if fault == "full" and args == ("rm", "pirate"):
                continue  # deleting a file needs no space: that works on a full disk
            result = run_whirr(*_fill(args, filled_home.root, tmp_path))
            assert result.returncode == 1, (args, result.stdout)
            assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert result.stderr.startswith("Error: ") and reason in result.stderr, (args, result.stderr)
            assert ".tmp" not in result.stderr
    finally:
        filled_home.writable() if fault == "read-only" else filled_home.free()
    listing = run_whirr("list").stdout
    assert "pirate:latest" in listing and "tiny:latest" in listing and "parrot" not in listing
    assert not list(resolve_paths().data_dir.rglob("*.tmp"))


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_pull_to_a_home_that_cannot_be_written_says_why(disk_home: Disk, run_whirr, fake_hub, fault: str) -> None:  # noqa: F811, ANN001
    from tests.hubserver import STARTER_REPO

    resolve_paths().models_dir.mkdir(parents=True)
    disk_home.read_only() if fault == "read-only" else disk_home.fill()
    try:
        result = run_whirr("pull", f"hf.co/{STARTER_REPO}:Q4_1")
    finally:
        disk_home.writable() if fault == "read-only" else disk_home.free()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    expected = ("Read-only file system", "Permission denied") if fault == "read-only" else ("No space left", "disk space", "free")
    assert last.startswith("Error: ") and any(word in last for word in expected), result.stderr
