"""The tokenizer and RoPE base the library's details pane shows, read from the GGUF header."""

from __future__ import annotations

from pathlib import Path

from tui.models.gguf_info import GGUFInfo, read_gguf_info


def test_starter_tokenizer_and_rope_base(starter_path: Path) -> None:
    info = read_gguf_info(starter_path)
    assert info.tokenizer == "gpt2"
    assert info.rope_freq_base == 100_000.0


def test_metadata_cached_before_these_fields_still_loads(starter_path: Path) -> None:
    data = read_gguf_info(starter_path).to_dict()
    del data["tokenizer"], data["rope_freq_base"]
    info = GGUFInfo.from_dict(data)
    assert (info.tokenizer, info.rope_freq_base) == ("", 0.0)
