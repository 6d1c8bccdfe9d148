"""Will a model fit in memory? An estimate from the GGUF header, compared with what is free.

estimate = weights (the file's size) + KV cache (f16 keys and values for every layer and
position of the context) + a fixed overhead (llama.cpp's compute buffers, the runtime).

OVERHEAD_BYTES was measured with benchmarks/fit_overhead.py: the starter model
(SmolLM2-135M Q4_1, 98.4 MB file, 30 layers, 3 KV heads of 64) loaded CPU-only through whirr's
own loader in a fresh process; RSS after load and an 8-token answer minus RSS before the load,
on a 2-core x86 box (llama-cpp-python 0.3.36):
    num_ctx 2048: measured 169.8 MB, estimate 170.5 MB (+0.4 %)
    num_ctx 8192: measured 311.5 MB, estimate 312.1 MB (+0.2 %)
    (num_ctx  512: measured 133.4 MB, estimate 135.2 MB (+1.3 %))
What is left after the file and the KV formula is 23-24 MB at every size: the KV formula
matches llama.cpp's allocation exactly, and the overhead is a constant. It is measured on a
small model; llama.cpp's compute buffers grow with the embedding size and vocabulary, so for
much larger models the estimate runs low by that growth (not measured here).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.engine.base import EngineError
from tui.format import human_size
from tui.models.gguf_info import GGUFInfo

OVERHEAD_BYTES = 25_000_000
"""Memory a loaded model needs besides its weights and KV cache (measured; see the module doc)."""

_F16_BYTES = 2


@dataclass(frozen=True)
class MemoryEstimate:
    """The bytes a model needs once loaded, in parts."""

    weights: int
    kv_cache: int
    overhead: int

    @property
    def total(self) -> int:
        """All the parts together."""
        return self.weights + self.kv_cache + self.overhead


def kv_cache_bytes(info: GGUFInfo | None, n_ctx: int) -> int:
    """f16 keys and values for every layer and position: 2 x layers x kv heads x head dim x n_ctx x 2.

    Keys and values use the model's own key/value lengths (equal to the head dim in almost
    every model); 0 when the header is unknown.
    """
    if info is None:
        return 0
    per_position = info.block_count * info.head_count_kv * (info.key_length + info.value_length)
    return per_position * max(n_ctx, 0) * _F16_BYTES


def estimate_memory(info: GGUFInfo | None, file_size: int, n_ctx: int) -> MemoryEstimate:
    """What loading the model with a context of `n_ctx` tokens will take."""
    return MemoryEstimate(weights=file_size, kv_cache=kv_cache_bytes(info, n_ctx), overhead=OVERHEAD_BYTES)


def available_memory(num_gpu: int = 0) -> int:
    """Free RAM (psutil's `available`), plus free VRAM of all GPUs when layers go to a GPU.

    `num_gpu` is Ollama's option: layers offloaded, -1 as many as fit, 0 none.
    """
    import psutil

    free = int(psutil.virtual_memory().available)
    if num_gpu != 0:
        free += _free_vram()
    return free


def _free_vram() -> int:
    """Free memory over every GPU NVML sees; 0 without pynvml, a driver, or a GPU."""
    from tui.meters.nvml import NvmlSource

    source = NvmlSource.open()
    if source is None:
        return 0
    try:
        return sum(
            max((r.vram_total_bytes or 0) - (r.vram_used_bytes or 0), 0) for r in source.read()
        )
    finally:
        source.close()


@dataclass(frozen=True)
class Fit:
    """An estimate set against the memory available."""

    estimate: MemoryEstimate
    available: int

    @property
    def fits(self) -> bool:
        """True when the estimate is no more than what is available."""
        return self.estimate.total <= self.available

    def describe(self) -> str:
        """Both numbers, e.g. `needs 1.2 GB, 0.8 GB available`."""
        return f"needs {human_size(self.estimate.total)}, {human_size(self.available)} available"


def check_fit(
    info: GGUFInfo | None,
    file_size: int,
    n_ctx: int,
    num_gpu: int = 0,
    available: int | None = None,
) -> Fit:
    """Estimate the model at `n_ctx` and compare it with `available` (free memory when None)."""
    estimate = estimate_memory(info, file_size, n_ctx)
    return Fit(estimate, available_memory(num_gpu) if available is None else available)


class DoesNotFit(EngineError):
    """Loading was refused: the model would not fit. The message has both numbers and a suggestion.

    An EngineError, so an answer that needed the load ends with this message as its error.
    """

    def __init__(self, fit: Fit, name: str = "") -> None:
        self.fit = fit
        what = f"model '{name}'" if name else "the model"
        hint = "try a smaller context (num_ctx)" if fit.estimate.kv_cache > fit.estimate.weights else (
            "try a smaller quantization or a smaller context (num_ctx)"
        )
        super().__init__(f"{what} does not fit in memory: {fit.describe()}; {hint}")
