"""What decides how a model is loaded, without importing llama.cpp (the app and the runner
client need these too, and must start fast)."""

from __future__ import annotations

from tui.engine.options import Options

LOAD_OPTIONS = ("num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread")


def load_settings(options: Options) -> tuple:
    """The options that need a reload when they change."""
    return tuple(getattr(options, name) for name in LOAD_OPTIONS)


def physical_cores() -> int:
    """What Ollama uses when num_thread is 0: the physical cores (hyper-threads don't help)."""
    import psutil

    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1
