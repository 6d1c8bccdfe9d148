"""Keeps one engine per model and unloads the least recently used when memory runs short.

Local models answer from runner processes (RunnerEngine), one per loaded model; importing
this module does not import llama.cpp.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import psutil

from tui.engine.base import EngineError
from tui.engine.keepalive import DEFAULT_KEEP_ALIVE_S
from tui.engine.runner.client import RunnerEngine
from tui.engine.runner.registry import LoadedModel, loaded_models, registry_dir
from tui.models.library import Library
from tui.models.personas import PersonaStore, RunTarget, model_target, resolve_target

# Keep this much RAM free beyond a model's file size when deciding to unload others.
HEADROOM_BYTES = 512 * 1024 * 1024


class EngineManager:
    """Hands out the engine for a model name; several models may stay loaded side by side."""

    def __init__(
        self, library: Library, personas: PersonaStore | None = None, keep_alive: float = DEFAULT_KEEP_ALIVE_S
    ) -> None:
        """`keep_alive`: seconds a model stays loaded after its last request (Ollama's meaning:
        0 unloads at once, negative keeps it loaded)."""
        self.library = library
        self.personas = personas
        self.keep_alive = keep_alive
        self.registry = registry_dir(library.paths)
        self._engines: OrderedDict[str, RunnerEngine] = OrderedDict()
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

    def engine_for(self, model_name: str) -> RunnerEngine:
        """The engine for `model_name` (a persona runs its base model with its adapter), most
        recently used first; frees memory for it if needed. Its load checks the memory fit
        (DoesNotFit) unless the caller sets `engine.force`."""
        return self.engine_for_target(self.target_for(model_name))

    def engine_for_target(self, target: RunTarget) -> RunnerEngine:
        """The engine for a resolved target: its file with its adapter (an unsaved persona's too)."""
        entry = target.entry
        if entry.server:  # `SERVER/MODEL`: answered by a server, nothing loads here
            return self._remote_engine(entry.name)
        key = f"{entry.path}|{target.adapter or ''}"
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = RunnerEngine(
                    entry.path, name=entry.name, adapter=target.adapter, info=entry.info, file_size=entry.size,
                    model_id=entry.id, registry=self.registry, keep_alive=self.keep_alive,
                )
                self._make_room(entry.size, keep=engine)
            self._engines.move_to_end(key)
            return engine

    def loaded(self) -> list[LoadedModel]:
        """The models loaded now by any whirr process (what `whirr ps` lists)."""
        return loaded_models(self.registry)

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
        """Free every loaded model (their runners exit)."""
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.unload()

    def unload_runner(self, pid: int) -> bool:
        """Unload the model whose runner has process id `pid`, if it is one of this manager's
        (waits for its running answer); False when it is not."""
        with self._lock:
            key = next((k for k, engine in self._engines.items() if engine.pid == pid), None)
            engine = self._engines.pop(key) if key is not None else None
        if engine is None:
            return False
        engine.unload()
        return True

    def close(self) -> None:
        """whirr is exiting: tell every runner to exit now, without waiting for them."""
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.close()

    def _make_room(self, needed: int, keep: RunnerEngine) -> None:
        available = psutil.virtual_memory().available
        for key, engine in list(self._engines.items()):
            if available >= needed + HEADROOM_BYTES:
                return
            if engine is not keep and engine.loaded:
                available += engine.model_path.stat().st_size
                # Unloading waits for that model's running answer: never make the caller wait.
                threading.Thread(target=engine.unload, name="whirr-unload", daemon=True).start()
                del self._engines[key]
