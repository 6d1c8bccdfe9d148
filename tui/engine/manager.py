"""Keeps one engine per model and unloads the least recently used when memory runs short."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import psutil

from tui.engine.base import EngineError
from tui.engine.llama import LlamaEngine
from tui.models.library import Library
from tui.models.personas import PersonaStore, RunTarget, model_target, resolve_target

# Keep this much RAM free beyond a model's file size when deciding to unload others.
HEADROOM_BYTES = 512 * 1024 * 1024


class EngineManager:
    """Hands out the engine for a model name; several models may stay loaded side by side."""

    def __init__(self, library: Library, personas: PersonaStore | None = None) -> None:
        self.library = library
        self.personas = personas
        self._engines: OrderedDict[str, LlamaEngine] = OrderedDict()
        self._lock = threading.Lock()
        self._remotes: dict[str, Any] = {}  # remote engines by `SERVER/MODEL`

    def target_for(self, model_name: str) -> RunTarget:
        """What a name runs (a persona's layers over its base, or a plain model).

        Raises ModelNotFound, PersonaError, or EngineError for a file that cannot be used.
        """
        if self.personas is not None:
            target = resolve_target(model_name, self.library, self.personas)
        else:
            target = model_target(self.library.resolve(model_name))
        entry = target.entry
        if not entry.usable:
            raise EngineError(f"model '{entry.name}' cannot be used: {entry.problem} ({entry.path})")
        return target

    def engine_for(self, model_name: str) -> LlamaEngine:
        """The engine for `model_name` (a persona runs its base model with its adapter), most
        recently used first; frees memory for it if needed. Its load checks the memory fit
        (DoesNotFit) unless the caller sets `engine.force`."""
        return self.engine_for_target(self.target_for(model_name))

    def engine_for_target(self, target: RunTarget) -> LlamaEngine:
        """The engine for a resolved target: its file with its adapter (an unsaved persona's too)."""
        entry = target.entry
        if entry.server:  # `SERVER/MODEL`: answered by a server, nothing loads here
            return self._remote_engine(entry.name)
        key = f"{entry.path}|{target.adapter or ''}"
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = LlamaEngine(
                    entry.path, name=entry.name, adapter=target.adapter, info=entry.info, file_size=entry.size
                )
                self._make_room(entry.size, keep=engine)
            self._engines.move_to_end(key)
            return engine

    def _remote_engine(self, name: str) -> Any:
        from tui.engine.remote import remote_engine
        from tui.servers import split_remote

        remote = split_remote(name, self.library.servers)
        if remote is None:
            raise EngineError(f"no server is configured for '{name}'")
        with self._lock:
            engine = self._remotes.get(name)
            if engine is None or engine.server != remote[0]:
                engine = self._remotes[name] = remote_engine(*remote)
            return engine

    def unload_all(self) -> None:
        """Free every loaded model."""
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.unload()

    def _make_room(self, needed: int, keep: LlamaEngine) -> None:
        available = psutil.virtual_memory().available
        for key, engine in list(self._engines.items()):
            if available >= needed + HEADROOM_BYTES:
                return
            if engine is not keep and engine.loaded:
                available += engine.model_path.stat().st_size
                # Unloading waits for that model's running answer: never make the caller wait.
                threading.Thread(target=engine.unload, name="whirr-unload", daemon=True).start()
                del self._engines[key]
