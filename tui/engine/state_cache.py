"""Snapshots of the KV cache per conversation, so coming back to a tab does not re-evaluate it.

One loaded model has one KV cache; two conversations taking turns would each evaluate their
whole history again. After an answer the engine snapshots the cache under the conversation's
id; before the next prompt of that conversation it restores the snapshot when it covers more of
the prompt than what the cache holds now. llama-cpp-python's save_state() also copies a row of
logits per token (tens of MB for a few hundred tokens), so this keeps only the KV bytes and the
token ids. Snapshots are kept least recently used first, within a byte budget.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from dataclasses import dataclass

import llama_cpp
import numpy as np

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class KVSnapshot:
    """The KV cache's bytes and the tokens they hold."""

    tokens: np.ndarray
    data: bytes

    @property
    def size(self) -> int:
        """Bytes held."""
        return len(self.data) + self.tokens.nbytes


def common_prefix(a: np.ndarray | list[int], b: list[int]) -> int:
    """How many leading tokens two sequences share."""
    length = min(len(a), len(b))
    if length == 0:
        return 0
    same = np.asarray(a[:length]) == np.asarray(b[:length])
    mismatch = np.flatnonzero(~same)
    return int(mismatch[0]) if mismatch.size else length


def take_snapshot(llm: llama_cpp.Llama) -> KVSnapshot:
    """Copy the KV cache of `llm` (its first n_tokens tokens)."""
    size = llama_cpp.llama_state_get_size(llm.ctx)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_get_data(llm.ctx, buffer, size)
    return KVSnapshot(llm.input_ids[: llm.n_tokens].copy(), bytes(buffer[:written]))


def restore_snapshot(llm: llama_cpp.Llama, snapshot: KVSnapshot) -> None:
    """Put a snapshot back into `llm`'s KV cache."""
    data = (ctypes.c_uint8 * len(snapshot.data)).from_buffer_copy(snapshot.data)
    llama_cpp.llama_state_set_data(llm.ctx, data, len(snapshot.data))
    n = len(snapshot.tokens)
    llm.input_ids[:n] = snapshot.tokens
    llm.n_tokens = n


class StateCache:
    """KV snapshots by conversation id, least recently used dropped past the byte budget."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._snapshots: OrderedDict[str, KVSnapshot] = OrderedDict()

    @property
    def size(self) -> int:
        """Bytes held by all snapshots."""
        return sum(s.size for s in self._snapshots.values())

    def save(self, key: str, llm: llama_cpp.Llama) -> None:
        """Snapshot `llm` for conversation `key`, then trim to the budget."""
        self._snapshots.pop(key, None)
        snapshot = take_snapshot(llm)
        if snapshot.size > self.budget_bytes:
            return
        self._snapshots[key] = snapshot
        while self.size > self.budget_bytes:
            self._snapshots.popitem(last=False)

    def restore_if_better(self, key: str, llm: llama_cpp.Llama, tokens: list[int]) -> bool:
        """Restore `key`'s snapshot when it shares a longer prefix with `tokens` than the cache does."""
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            return False
        self._snapshots.move_to_end(key)
        current = common_prefix(llm.input_ids[: llm.n_tokens], tokens)
        if common_prefix(snapshot.tokens, tokens) <= current:
            return False
        restore_snapshot(llm, snapshot)
        return True

    def clear(self) -> None:
        """Drop every snapshot (the model was unloaded)."""
        self._snapshots.clear()
