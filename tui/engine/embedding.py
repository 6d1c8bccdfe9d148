"""Embeddings: a model loaded in llama.cpp's embedding mode, beside (not instead of) its chat engine.

A model with a pooling of its own (embedding models say so in their GGUF header) is pooled by
llama.cpp. A chat model has none: llama.cpp then gives one vector per token, and whirr takes
their mean (`MEAN_POOLING_NOTE`), the usual way to get one vector from a decoder model.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.engine.base import EngineError
from tui.engine.options import Options

MEAN_POOLING_NOTE = "mean of the token vectors (by whirr: the model has no pooling of its own)"
_POOLING_NAMES = {1: "mean", 2: "cls", 3: "last", 4: "rank"}
OWN_POOLING_ARCHITECTURES = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "modern-bert", "neo-bert", "t5encoder"})
"""Encoder architectures whose GGUFs carry a pooling of their own (embedding models)."""


class InputTooLong(EngineError):
    """An input longer than the context, with truncation off."""


@dataclass(frozen=True)
class Embeddings:
    """Vectors for some inputs, in order, and how many tokens the inputs took."""

    vectors: list[list[float]]
    prompt_tokens: int


def normalized(vector: Sequence[float]) -> list[float]:
    """The vector scaled to length 1 (a zero vector stays as it is)."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else list(vector)


def shortened(vector: Sequence[float], dimensions: int | None) -> list[float]:
    """The first `dimensions` values, scaled to length 1 again (None: the whole vector)."""
    return list(vector) if dimensions is None else normalized(vector[:dimensions])


class Embedder:
    """One model in embedding mode, loaded on first use; one call at a time."""

    def __init__(self, model_path: Path, name: str = "", context_length: int = 0) -> None:
        """`context_length`: the model's trained context (0: unknown); inputs are cut to the
        smaller of it and num_ctx."""
        self.model_path = Path(model_path)
        self.name = name or self.model_path.name
        self.context_length = context_length
        self._lock = threading.Lock()
        self._llm = None
        self._settings: tuple | None = None
        self.pooling = ""
        """How one vector is made from an input's tokens (known once loaded)."""

    @property
    def loaded(self) -> bool:
        """True while the model is in memory."""
        return self._llm is not None

    def embed(self, texts: Sequence[str], options: Options, truncate: bool = True, normalize: bool = True) -> Embeddings:
        """One vector per text (blocking). Inputs longer than the context are cut when
        `truncate`, else refused with EngineError."""
        with self._lock:
            llm = self._ensure_loaded(options)
            try:
                rows, count = llm.embed(list(texts), truncate=truncate, return_count=True)
            except ValueError as error:  # an input over the context with truncate off
                raise InputTooLong(f"the input does not fit in the context: {error}") from None
        if self.pooling == MEAN_POOLING_NOTE:
            rows = [[sum(column) / len(tokens) for column in zip(*tokens)] for tokens in rows]
        return Embeddings([normalized(v) if normalize else list(v) for v in rows], count)

    def unload(self) -> None:
        """Free the model's memory."""
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    def _ensure_loaded(self, options: Options):
        from tui.engine.llama_runtime import load_llama

        n_ctx = min(options.num_ctx, self.context_length) if self.context_length else options.num_ctx
        settings = (n_ctx, options.num_gpu, options.num_thread)
        if self._llm is not None and self._settings == settings:
            return self._llm
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        if not self.model_path.is_file():
            raise EngineError(f"model file not found: {self.model_path}")
        try:
            llm = load_llama(
                self.model_path, options.updated(num_ctx=n_ctx), embedding=True, n_batch=n_ctx, n_ubatch=n_ctx
            )
        except (ValueError, RuntimeError) as error:
            raise EngineError(f"cannot load {self.model_path.name} for embeddings: {error}") from None
        self.pooling = _POOLING_NAMES.get(llm.pooling_type(), MEAN_POOLING_NOTE)
        self._llm, self._settings = llm, settings
        return llm


class Embedders:
    """Embedders by model file, the least recently used unloaded beyond `keep`."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._embedders: OrderedDict[Path, Embedder] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model_path: Path, name: str, context_length: int = 0) -> Embedder:
        """The embedder of `model_path`, most recently used first."""
        with self._lock:
            embedder = self._embedders.get(model_path)
            if embedder is None:
                embedder = self._embedders[model_path] = Embedder(model_path, name, context_length)
            self._embedders.move_to_end(model_path)
            extra = list(self._embedders.values())[: -self.keep]
            for old in extra:
                del self._embedders[old.model_path]
        for old in extra:
            threading.Thread(target=old.unload, name="whirr-unload-embedder", daemon=True).start()
        return embedder

    def peek(self, model_path: Path) -> Embedder | None:
        """The embedder of `model_path` if there is one (nothing is made or loaded)."""
        with self._lock:
            return self._embedders.get(model_path)

    def unload(self, model_path: Path) -> None:
        """Free the embedder of `model_path`, if loaded."""
        with self._lock:
            embedder = self._embedders.pop(model_path, None)
        if embedder is not None:
            embedder.unload()

    def unload_all(self) -> None:
        """Free every embedder."""
        with self._lock:
            embedders = list(self._embedders.values())
            self._embedders.clear()
        for embedder in embedders:
            embedder.unload()
