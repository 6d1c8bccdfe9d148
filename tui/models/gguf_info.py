"""Read what whirr shows about a model from a GGUF file's header.

Written by hand on purpose: gguf's GGUFReader turns every metadata array (the tokenizer's
~50,000 tokens and merges) into numpy views, which takes ~2.8 s for the 98 MB starter model.
This reader walks the same header with `struct`, skipping array contents it does not need,
and reads only the fields below (a few ms). The gguf package still supplies the type tables.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

GGUF_MAGIC = b"GGUF"

# GGUF metadata value types -> struct format of a scalar (8: string, 9: array).
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9

_WANTED_SCALARS = (
    "general.architecture",
    "general.name",
    "general.size_label",
    "general.file_type",
    "general.license",
    "general.alignment",
    "tokenizer.chat_template",
    "tokenizer.ggml.model",
)
_WANTED_SUFFIXES = (
    ".context_length",
    ".embedding_length",
    ".block_count",
    ".attention.head_count",
    ".attention.head_count_kv",
    ".attention.key_length",
    ".attention.value_length",
    ".rope.freq_base",
)


class GGUFError(ValueError):
    """The file is not a usable GGUF (wrong format, truncated, unreadable)."""


class GGUFTruncated(GGUFError):
    """The header ends before its last field: a truncated file, or too few bytes read so far."""


@dataclass(frozen=True)
class GGUFInfo:
    """What whirr needs to know about a model file, without loading it."""

    architecture: str
    name: str
    parameter_count: int
    size_label: str
    quantization: str
    context_length: int
    embedding_length: int
    block_count: int
    head_count: int
    head_count_kv: int
    key_length: int
    value_length: int
    chat_template: str | None
    license: str
    tensor_bytes: int
    tokenizer: str = ""  # tokenizer.ggml.model: gpt2, llama, ...; empty in caches written before it was read
    rope_freq_base: float = 0.0  # 0: not in the header (llama.cpp then uses 10,000)

    @property
    def parameters_human(self) -> str:
        """Parameter count like Ollama shows it: 135M, 7.2B."""
        count = self.parameter_count
        for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
            if count >= size:
                value = count / size
                return f"{value:.0f}{unit}" if value >= 100 else f"{value:.3g}{unit}"
        return str(count)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the metadata cache."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GGUFInfo":
        """The inverse of to_dict."""
        return cls(**data)


class _Cursor:
    """Reads little-endian GGUF values from a buffer, raising GGUFError past its end."""

    def __init__(self, buffer: mmap.mmap | bytes) -> None:
        self.buffer = buffer
        self.offset = 0

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize("<" + fmt)
        if self.offset + size > len(self.buffer):
            raise GGUFTruncated(f"truncated: the header ends early at byte {self.offset:,}")
        value = struct.unpack_from("<" + fmt, self.buffer, self.offset)[0]
        self.offset += size
        return value

    def string(self) -> str:
        length = self.unpack("Q")
        end = self.offset + length
        if end > len(self.buffer):
            raise GGUFTruncated(f"truncated: the header ends early at byte {self.offset:,}")
        text = bytes(self.buffer[self.offset : end]).decode("utf-8", errors="replace")
        self.offset = end
        return text

    def skip_string(self) -> None:
        length = self.unpack("Q")
        self.offset += length

    def value(self, kind: int, keep: bool) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            if keep:
                return self.string()
            self.skip_string()
            return None
        if kind == _ARRAY:
            item_kind, count = self.unpack("I"), self.unpack("Q")
            if item_kind in _SCALARS:
                self.offset += struct.calcsize("<" + _SCALARS[item_kind]) * count
            else:
                for _ in range(count):
                    self.value(item_kind, keep=False)
            return None
        raise GGUFError(f"corrupt header: unknown value type {kind} at byte {self.offset:,}")


def _check_magic(start: bytes) -> None:
    """GGUFError unless a file starts with GGUF's magic bytes; an empty or tiny file says so."""
    if not start:
        raise GGUFError("empty file")
    if len(start) < len(GGUF_MAGIC):
        raise GGUFError(f"not a GGUF file (only {len(start)} byte{'s' if len(start) > 1 else ''})")
    if start != GGUF_MAGIC:
        raise GGUFError("not a GGUF file (wrong magic bytes)")


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read a GGUF file's metadata and check that its tensor data is all there."""
    try:
        with open(path, "rb") as file:
            _check_magic(file.read(4))
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
                return _parse(buffer, path.stat().st_size)
    except OSError as error:
        raise GGUFError(f"cannot read file: {error.strerror or error}") from None
    except ValueError as error:
        if isinstance(error, GGUFError):
            raise
        raise GGUFError(f"corrupt header: {error}") from None


def read_gguf_info_from_bytes(data: bytes, file_size: int) -> GGUFInfo:
    """Read metadata from the first bytes of a GGUF whose full size is `file_size` (a remote
    file read with an HTTP Range request). Raises GGUFTruncated when `data` ends inside the
    header (read more and retry) and GGUFError when it is not a usable GGUF."""
    _check_magic(data[:4])
    try:
        return _parse(data, file_size)
    except ValueError as error:
        if isinstance(error, GGUFError):
            raise
        raise GGUFError(f"corrupt header: {error}") from None


def _parse(buffer: mmap.mmap | bytes, file_size: int) -> GGUFInfo:
    import gguf  # type tables only; deferred so cached listings never import numpy

    cursor = _Cursor(buffer)
    cursor.offset = 4
    version = cursor.unpack("I")
    if version not in (2, 3):
        raise GGUFError(f"unsupported GGUF version {version}")
    tensor_count, kv_count = cursor.unpack("Q"), cursor.unpack("Q")
    meta: dict[str, Any] = {}
    for _ in range(kv_count):
        key = cursor.string()
        kind = cursor.unpack("I")
        keep = key in _WANTED_SCALARS or key.endswith(_WANTED_SUFFIXES)
        value = cursor.value(kind, keep)
        if keep:
            meta[key] = value
    parameters, data_end = 0, 0
    for _ in range(tensor_count):
        cursor.skip_string()
        dims = [cursor.unpack("Q") for _ in range(cursor.unpack("I"))]
        ggml_type, offset = cursor.unpack("I"), cursor.unpack("Q")
        elements = 1
        for dim in dims:
            elements *= dim
        parameters += elements
        try:
            block, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(ggml_type)]
        except ValueError:
            raise GGUFError(f"unknown tensor type {ggml_type}") from None
        data_end = max(data_end, offset + elements // block * type_size)
    alignment = int(meta.get("general.alignment", gguf.GGUF_DEFAULT_ALIGNMENT))
    data_start = -(-cursor.offset // alignment) * alignment
    if data_start + data_end > file_size:
        raise GGUFError(
            f"truncated: the file is {file_size:,} bytes but its tensors need {data_start + data_end:,}"
        )
    return _info(meta, parameters, data_end, gguf)


def _info(meta: dict[str, Any], parameters: int, tensor_bytes: int, gguf: Any) -> GGUFInfo:
    arch = str(meta.get("general.architecture", "unknown"))

    def arch_int(suffix: str) -> int:
        return int(meta.get(f"{arch}.{suffix}", 0) or 0)

    head_count = arch_int("attention.head_count")
    embedding = arch_int("embedding_length")
    head_dim = embedding // head_count if head_count else 0
    file_type = meta.get("general.file_type")
    try:
        quantization = gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_").removeprefix("ALL_")
    except ValueError:
        quantization = "unknown" if file_type is None else f"type {file_type}"
    return GGUFInfo(
        architecture=arch,
        name=str(meta.get("general.name", "")),
        parameter_count=parameters,
        size_label=str(meta.get("general.size_label", "")),
        quantization=quantization,
        context_length=arch_int("context_length"),
        embedding_length=embedding,
        block_count=arch_int("block_count"),
        head_count=head_count,
        head_count_kv=arch_int("attention.head_count_kv") or head_count,
        key_length=arch_int("attention.key_length") or head_dim,
        value_length=arch_int("attention.value_length") or head_dim,
        chat_template=meta.get("tokenizer.chat_template"),
        license=str(meta.get("general.license", "")),
        tensor_bytes=tensor_bytes,
        tokenizer=str(meta.get("tokenizer.ggml.model", "")),
        rope_freq_base=float(meta.get(f"{arch}.rope.freq_base", 0.0) or 0.0),
    )
