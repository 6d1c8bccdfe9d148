"""Memory fit: the estimate formula on the real starter model's header, and the refusal text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.engine.base import EngineError
from tui.format import human_size
from tui.models.fit import DoesNotFit, Fit, MemoryEstimate, OVERHEAD_BYTES, available_memory, check_fit, estimate_memory
from tui.models.gguf_info import read_gguf_info


def test_estimate_is_weights_plus_f16_kv_cache_plus_overhead(starter_path: Path) -> None:
    info = read_gguf_info(starter_path)
    size = starter_path.stat().st_size
    # SmolLM2-135M: 30 layers, 3 KV heads of 64 dimensions.
    assert (info.block_count, info.head_count_kv, info.key_length, info.value_length) == (30, 3, 64, 64)
    estimate = estimate_memory(info, size, 2048)
    assert estimate == MemoryEstimate(weights=size, kv_cache=2 * 30 * 3 * 64 * 2048 * 2, overhead=OVERHEAD_BYTES)
    assert estimate.total == size + 47_185_920 + OVERHEAD_BYTES
    assert estimate_memory(info, size, 8192).kv_cache == 4 * estimate.kv_cache


def test_unknown_header_counts_only_the_file_and_overhead() -> None:
    assert estimate_memory(None, 1000, 4096) == MemoryEstimate(1000, 0, OVERHEAD_BYTES)


def test_fit_compares_with_what_is_available(starter_path: Path) -> None:
    info = read_gguf_info(starter_path)
    size = starter_path.stat().st_size
    need = estimate_memory(info, size, 2048).total
    assert check_fit(info, size, 2048, available=need).fits
    small = check_fit(info, size, 2048, available=need - 1)
    assert not small.fits
    assert small.describe() == f"needs {human_size(need)}, {human_size(need - 1)} available"


def test_refusal_names_both_numbers_and_a_suggestion(starter_path: Path) -> None:
    info = read_gguf_info(starter_path)
    fit = check_fit(info, starter_path.stat().st_size, 2048, available=50_000_000)
    error = DoesNotFit(fit, "smollm2:135m")
    assert isinstance(error, EngineError) and error.fit is fit
    assert str(error) == (
        "model 'smollm2:135m' does not fit in memory: needs 171 MB, 50 MB available; "
        "try a smaller quantization or a smaller context (num_ctx)"
    )
    # When the KV cache is the bigger part, a smaller context is what helps.
    long = check_fit(info, starter_path.stat().st_size, 131072, available=50_000_000)
    assert str(DoesNotFit(long)).endswith("; try a smaller context (num_ctx)")


def test_available_memory_is_the_free_ram_on_a_cpu_only_load() -> None:
    import psutil

    free = available_memory(0)
    assert 0 < free <= psutil.virtual_memory().total
    assert check_fit(None, 1, 16).available > 0


def test_fit_is_a_value() -> None:
    assert Fit(MemoryEstimate(1, 2, 3), 6).fits
    assert not Fit(MemoryEstimate(1, 2, 3), 5).fits


@pytest.mark.parametrize(("size", "text"), [(999, "999 B"), (98_000_000, "98 MB"), (4_700_000_000, "4.7 GB")])
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.model
def test_the_engine_refuses_to_load_what_does_not_fit_unless_forced(starter_path: Path) -> None:
    from tui.engine.llama import LlamaEngine
    from tui.engine.options import Options

    info = read_gguf_info(starter_path)
    options = Options().updated(num_ctx=512, num_gpu=0)
    # The size is what the library says the model's files take (here: more than any machine has).
    engine = LlamaEngine(starter_path, "huge", info=info, file_size=10**15)
    with pytest.raises(DoesNotFit, match=r"model 'huge' does not fit in memory: needs 1000 TB, .* available"):
        engine.load(options)
    assert not engine.loaded
    engine.force = True
    engine.load(options)
    assert engine.loaded
    engine.unload()


def test_the_engine_manager_checks_the_fit_of_the_whole_model(whirr_home: Path) -> None:
    from tui.engine.manager import EngineManager
    from tui.models.library import Library
    from tui.paths import resolve_paths

    engine = EngineManager(Library(resolve_paths())).engine_for("smollm2:135m")
    assert engine.file_size == engine.model_path.stat().st_size and engine.info is not None
    assert not engine.force
