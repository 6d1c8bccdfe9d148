"""What screens and widgets use of the app, as one typed protocol: its settings, stores, engines
and meters. The app is a `Services`; screens and widgets are handed one instead of importing
the app (which would make app -> screens -> app a cycle)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tui.config import Config
    from tui.meters import EnergyMeter, Sampler
    from tui.models.personas import PersonaStore, RunTarget
    from tui.models.download import DownloadManager
    from tui.models.library import Library
    from tui.paths import Paths
    from tui.store.db import Database


class EngineSource(Protocol):
    """Hands out the engine for a model name (EngineManager, or SyntheticEngines in tests)."""

    def engine_for(self, model_name: str) -> Any:
        """The engine for `model_name`; raises LookupError or EngineError when it cannot be used."""
        ...

    def engine_for_target(self, target: RunTarget) -> Any:
        """The engine for a resolved RunTarget (its file and adapter)."""
        ...

    def close(self) -> None:
        """whirr is exiting: let go of every model now, without waiting (runner processes end)."""
        ...


class Services(Protocol):
    """The app's settings, stores, engines and meters, and the few things it does for screens."""

    paths: Paths
    config: Config
    db: Database
    library: Library
    personas: PersonaStore
    downloads: DownloadManager
    sampler: Sampler | None
    energy_meter: EnergyMeter | None

    @property
    def engines(self) -> EngineSource:
        """The engine source (its first use, in a thread, builds it)."""
        ...

    def persona_target(self, model: str) -> RunTarget | None:
        """A session model name's persona or model defaults, or None (blocking)."""
        ...

    def save_settings(self, what: str) -> None:
        """Write the config after a choice made in the app; a failure is reported, not raised."""
        ...

    def copy_text(self, text: str, what: str) -> None:
        """Copy to the terminal's clipboard and the local one when there is one."""
        ...

    def export_session(self, session_id: int, fmt: str, path: Path) -> None:
        """Write a session to a Markdown or JSON file; failures are reported, not raised."""
        ...

    @property
    def chats_unsaved(self) -> bool:
        """True while chats are not being saved (no database, or its last write failed)."""
        ...

    def saving_result(self, error: Exception | None) -> None:
        """Report how a chat write went (the first failure, and the first success after, are said)."""
        ...
