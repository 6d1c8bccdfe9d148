"""Keeps one engine per model and unloads the least recently used when memory runs short."""

from __future__ import annotations

import threading
from collections import OrderedDict

import psutil

from tui.engine.base import EngineError
from tui.engine.llama import LlamaEngine
from tui.models.library import Library, ModelEntry

# Keep this much RAM free beyond a model's file size when deciding to unload others.
HEADROOM_BYTES = 512 * 1024 * 1024


class EngineManager:
    """Hands out the engine for a model name; several models may stay loaded side by side."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._engines: OrderedDict[str, LlamaEngine] = OrderedDict()
        self._lock = threading.Lock()

    def entry_for(self, model_name: str) -> ModelEntry:
        """The usable library entry for a name; raises ModelNotFound or EngineError."""
        entry = self.library.resolve(model_name)
        if not entry.usable:
            raise EngineError(f"model '{entry.name}' cannot be used: {entry.problem} ({entry.path})")
        return entry

    def engine_for(self, model_name: str) -> LlamaEngine:
        """The engine for `model_name`, most recently used first; frees memory for it if needed."""
        entry = self.entry_for(model_name)
        key = str(entry.path)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = LlamaEngine(entry.path, name=entry.name)
                self._make_room(entry.size, keep=engine)
            self._engines.move_to_end(key)
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
