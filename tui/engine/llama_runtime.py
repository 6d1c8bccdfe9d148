"""Loading llama.cpp models quietly, and the low-level calls the engine needs per token.

llama.cpp writes its logs straight to stderr, and llama-cpp-python's `verbose=False` hides
them by redirecting file descriptors 1 and 2 while a model loads — which would swallow a
full-screen UI's output. So whirr loads with verbose on, routes llama.cpp's C logs to its
own log at debug level (a no-print llama_log_set callback), captures the Python-side prints
of the constructor into the same log, then turns verbose off.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import llama_cpp

from tui.engine.loading import physical_cores
from tui.engine.options import Options, context_size

log = logging.getLogger("whirr.llama")

_PIECE_BUFFER = 256


@llama_cpp.llama_log_callback
def _log_to_whirr(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    log.debug("%s", text.decode("utf-8", errors="replace").rstrip())


_install_lock = threading.Lock()
_installed = False


def silence_llama_logs() -> None:
    """Route llama.cpp's C-level logging to whirr's log (idempotent)."""
    global _installed
    with _install_lock:
        if not _installed:
            llama_cpp.llama_log_set(_log_to_whirr, ctypes.c_void_p(0))
            _installed = True


def _cpu_has_amx() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            return any(line.startswith("flags") and " amx_tile" in line for line in cpuinfo)
    except OSError:
        return False


def use_extra_buffer_types() -> bool:
    """Whether llama.cpp may place weights in its extra CPU buffer types (AMX, repacked).

    On CPUs that advertise AMX, ggml's AMX kernels fault at their first `ldtilecfg` under some
    hypervisors (seen on this project's build machines: every batched decode died with a
    general protection fault), so whirr leaves them off there unless WHIRR_AMX=1 says the
    machine runs them. Other CPUs keep llama.cpp's default.
    """
    return os.environ.get("WHIRR_AMX") == "1" or not _cpu_has_amx()


@contextlib.contextmanager
def machine_safe_defaults() -> Iterator[None]:
    """While active, `llama_cpp.Llama(...)` loads without the extra buffer types when this
    machine cannot run them. llama-cpp-python's constructor takes no `use_extra_bufts`, so
    this adjusts the defaults it reads."""
    if use_extra_buffer_types():
        yield
        return
    original = llama_cpp.llama_cpp.llama_model_default_params

    def defaults() -> llama_cpp.llama_model_params:
        params = original()
        params.use_extra_bufts = False
        return params

    with _install_lock:
        llama_cpp.llama_cpp.llama_model_default_params = defaults
        try:
            yield
        finally:
            llama_cpp.llama_cpp.llama_model_default_params = original


def load_llama(
    path: Path,
    options: Options,
    adapter: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
    **extra: Any,
) -> llama_cpp.Llama:
    """Load a model (and a LoRA adapter) with Ollama's meaning for the load-time options,
    printing nothing. `on_progress(fraction)` hears llama.cpp's load progress (0.0 to 1.0);
    `extra` are further llama_cpp.Llama arguments (embedding mode)."""
    silence_llama_logs()
    arguments: dict[str, Any] = dict(
        model_path=str(path),
        n_ctx=context_size(options.num_ctx),
        n_batch=options.num_batch,
        n_gpu_layers=options.num_gpu,
        main_gpu=options.main_gpu,
        use_mmap=options.use_mmap,
        n_threads=options.num_thread or physical_cores(),
        last_n_tokens_size=options.repeat_last_n,
        lora_path=str(adapter) if adapter is not None else None,
        verbose=True,
    )
    captured = io.StringIO()
    with (
        machine_safe_defaults(),
        _reporting(on_progress),
        contextlib.redirect_stderr(captured),
        contextlib.redirect_stdout(captured),
    ):
        llm = llama_cpp.Llama(**{**arguments, **extra})
    llm.verbose = False
    for line in captured.getvalue().splitlines():
        log.debug("%s", line)
    return llm


_progress_lock = threading.Lock()


@contextlib.contextmanager
def _reporting(on_progress: Callable[[float], None] | None) -> Iterator[None]:
    """Give the next Llama() a progress callback.

    llama-cpp-python's constructor takes no progress callback: it fills the model parameters
    from llama_model_default_params(), so that function is wrapped while the model loads.
    """
    if on_progress is None:
        yield
        return

    def report(progress: float, _data: ctypes.c_void_p) -> bool:
        try:
            on_progress(progress)
        except Exception:  # an exception cannot cross into C; loading goes on
            log.exception("load progress listener failed")
        return True

    callback = llama_cpp.llama_progress_callback(report)
    module = llama_cpp.llama_cpp
    original = module.llama_model_default_params

    def with_progress() -> llama_cpp.llama_model_params:
        params = original()
        params.progress_callback = callback
        return params

    with _progress_lock:
        module.llama_model_default_params = with_progress
        try:
            yield
        finally:
            module.llama_model_default_params = original


def set_threads(llm: llama_cpp.Llama, threads: int) -> None:
    """Change how many threads the live context uses for generation and prompts (no reload)."""
    llama_cpp.llama_set_n_threads(llm.ctx, threads, threads)


def sampling_arguments(options: Options) -> dict[str, float | int]:
    """Options as keyword arguments of llama-cpp-python's generate()/sample() (temperature: `temp`)."""
    return dict(
        top_k=options.top_k,
        top_p=options.top_p,
        min_p=options.min_p,
        typical_p=options.typical_p,
        temp=options.temperature,
        repeat_penalty=options.repeat_penalty,
        frequency_penalty=options.frequency_penalty,
        presence_penalty=options.presence_penalty,
    )


class TokenPieces:
    """Bytes of each token, looked up once per token id.

    llama-cpp-python's detokenize() asserts on pieces over 32 bytes; this reads any length.
    """

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._buffer = (ctypes.c_char * _PIECE_BUFFER)()
        self._cache: dict[int, bytes] = {}

    def __call__(self, token: int) -> bytes:
        piece = self._cache.get(token)
        if piece is None:
            piece = self._cache[token] = self._read(token)
        return piece

    def _read(self, token: int) -> bytes:
        size = _PIECE_BUFFER
        buffer = self._buffer
        while True:
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buffer, size, 0, False)
            if n >= 0:
                return bytes(buffer[:n])
            size = -n
            buffer = (ctypes.c_char * size)()

    def is_end_of_generation(self, token: int) -> bool:
        """True for end-of-turn tokens (EOS, <|im_end|>, <|eot_id|>...)."""
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def text(self, token: int) -> str:
        """A special token's text, as the chat template writes it."""
        return llama_cpp.llama_vocab_get_text(self._vocab, token).decode("utf-8", errors="replace")


class PromptAbort:
    """An abort callback for llama_decode, armed only while a prompt is evaluated.

    llama.cpp calls it between graph nodes; leaving it armed during generation would cost a
    Python call per node on every token, so it is disarmed after the prompt.
    """

    def __init__(self, llm: llama_cpp.Llama, cancelled: threading.Event) -> None:
        self._ctx = llm.ctx
        self._cancelled = cancelled
        self._callback = llama_cpp.ggml_abort_callback(lambda _data: self._cancelled.is_set())

    def __enter__(self) -> "PromptAbort":
        llama_cpp.llama_set_abort_callback(self._ctx, self._callback, None)
        return self

    def __exit__(self, *exc: object) -> None:
        llama_cpp.llama_set_abort_callback(self._ctx, llama_cpp.ggml_abort_callback(), None)
