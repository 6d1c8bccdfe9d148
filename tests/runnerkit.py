"""For the runner tests: a GGUF that llama.cpp refuses at load (a valid header and metadata,
tensors of the wrong shape), and waiting, with a deadline, for a process to end."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import psutil


def gone_within(pid: int, seconds: float) -> bool:
    """True when process `pid` has ended (or is a zombie) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def write_bad_gguf(path: Path) -> Path:
    """A tiny 'llama' model whose token embedding is 8 x 3 where its metadata says 8 x 4."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("broken")
    writer.add_context_length(64)
    writer.add_embedding_length(8)
    writer.add_block_count(1)
    writer.add_feed_forward_length(16)
    writer.add_head_count(2)
    writer.add_head_count_kv(2)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(["<unk>", "<s>", "</s>", "a"])
    writer.add_token_scores([0.0, 0.0, 0.0, 0.0])
    writer.add_token_types([2, 3, 3, 1])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_tensor("token_embd.weight", np.zeros((3, 8), dtype=np.float32))  # 4 tokens in the vocabulary
    writer.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
