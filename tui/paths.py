"""Where whirr keeps its files.

Everything lives in platformdirs' per-user folders, unless the environment variable
WHIRR_HOME names one folder, in which case config, data and cache all go under it
(tests and demos use this so they never touch the user's home).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "whirr"


@dataclass(frozen=True)
class Paths:
    """The folders and files whirr reads and writes."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path

    @property
    def config_file(self) -> Path:
        """The user's settings (TOML)."""
        return self.config_dir / "config.toml"

    @property
    def models_dir(self) -> Path:
        """Models whirr owns: every `*.gguf` here is listed."""
        return self.data_dir / "models"

    @property
    def personas_dir(self) -> Path:
        """Personas created from Modelfiles."""
        return self.data_dir / "personas"

    @property
    def database_file(self) -> Path:
        """The SQLite database of chat sessions."""
        return self.data_dir / "whirr.db"

    @property
    def log_file(self) -> Path:
        """whirr's log, including llama.cpp's own messages at debug level."""
        return self.cache_dir / "whirr.log"

    @property
    def themes_dir(self) -> Path:
        """User themes (`*.toml`) added to the built-in ones."""
        return self.config_dir / "themes"


def resolve_paths() -> Paths:
    """Return whirr's folders for the current environment (nothing is created)."""
    home = os.environ.get("WHIRR_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "data", root / "cache")
    import platformdirs

    return Paths(
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_cache_dir(APP_NAME)),
    )


def export_folder() -> Path:
    """Where an export is proposed: the user's documents folder when there is one, else the home
    folder (never the folder whirr happened to be started from)."""
    import platformdirs

    documents = Path(platformdirs.user_documents_dir())
    return documents if documents.is_dir() else Path.home()
