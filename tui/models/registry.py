"""What the user added to or hid from the library, as a small JSON file in whirr's data folder.

    {"files": {name: path}, "aliases": {name: model name}, "forgotten": [{"name": ..., "path": ...}]}

Written atomically (a temporary file, then rename). A file that cannot be read is moved aside to
`library.json.bad-<time>` (nothing is lost) and reported once through the warnings list; the
library then starts from an empty registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui.files import move_aside, write_atomically


class Registry:
    """Single files, aliases and forgotten imports, read fresh on every call."""

    def __init__(self, file: Path, warnings: list[str]) -> None:
        self.file = file
        self.warnings = warnings

    def files(self) -> dict[str, Path]:
        """Single GGUF files added by path, by model name."""
        return {name: Path(path) for name, path in self._read()["files"].items()}

    def aliases(self) -> dict[str, str]:
        """Names made with `copy`, each to the model name it stands for."""
        return dict(self._read()["aliases"])

    def forgotten(self) -> set[tuple[str, str]]:
        """(name, path) of the imported models the user removed: they are not listed."""
        return {(f["name"], f["path"]) for f in self._read()["forgotten"]}

    def add_file(self, name: str, path: Path) -> None:
        """Remember a single file under `name` (and stop hiding it if it was forgotten)."""
        data = self._read()
        data["files"][name] = str(path)
        data["forgotten"] = [f for f in data["forgotten"] if f["path"] != str(path)]
        self._write(data)

    def remove_file(self, name: str) -> None:
        """Stop listing a file added by path (the file stays)."""
        data = self._read()
        data["files"].pop(name, None)
        self._write(data)

    def add_alias(self, name: str, target: str) -> None:
        """Make `name` stand for the model `target`."""
        data = self._read()
        data["aliases"][name] = target
        self._write(data)

    def remove_alias(self, name: str) -> None:
        """Drop one alias."""
        data = self._read()
        data["aliases"].pop(name, None)
        self._write(data)

    def remove_aliases_of(self, target: str) -> None:
        """Drop every alias of a model that is gone."""
        data = self._read()
        data["aliases"] = {k: v for k, v in data["aliases"].items() if v != target}
        self._write(data)

    def forget(self, name: str, path: Path) -> None:
        """Hide an imported model from the library (its files are not touched)."""
        data = self._read()
        record = {"name": name, "path": str(path)}
        if record not in data["forgotten"]:
            data["forgotten"].append(record)
        self._write(data)

    def _read(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"files": {}, "aliases": {}, "forgotten": []}
        try:
            raw = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty
        except OSError as error:
            self._warn(f"cannot read {self.file} ({error.strerror}); added files and aliases are not shown")
            return empty
        try:
            data = json.loads(raw)
            _check(data)
        except ValueError as error:
            aside = move_aside(self.file)
            self._warn(f"{self.file} is invalid ({error}); moved to {aside.name}, starting afresh")
            return empty
        return data

    def _write(self, data: dict[str, Any]) -> None:
        write_atomically(self.file, json.dumps(data, indent=2, sort_keys=True))

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)



def _check(data: Any) -> None:
    """ValueError unless `data` has the registry's shape."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    data.setdefault("files", {})
    data.setdefault("aliases", {})
    data.setdefault("forgotten", [])
    for key in ("files", "aliases"):
        if not isinstance(data[key], dict) or not all(isinstance(v, str) for v in data[key].values()):
            raise ValueError(f"'{key}' must map names to strings")
    forgotten = data["forgotten"]
    if not isinstance(forgotten, list) or not all(
        isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("path"), str) for f in forgotten
    ):
        raise ValueError("'forgotten' must be a list of {name, path}")
