"""Generation options with Ollama's names, types, defaults and meaning.

One table serves the CLI flags, Modelfile PARAMETER lines and the session dialog, so a
setting means the same thing everywhere.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEPRECATED_PARAMETERS = frozenset(
    {
        "penalize_newline",
        "low_vram",
        "f16_kv",
        "logits_all",
        "vocab_only",
        "use_mlock",
        "mirostat",
        "mirostat_tau",
        "mirostat_eta",
        "tfs_z",
    }
)


def _opt(default: Any, help: str, low: float | None = None, high: float | None = None) -> Any:
    """A field with Ollama's default, one line of help, and the range of values it accepts."""
    return field(default=default, metadata={"help": help, "low": low, "high": high})


@dataclass(frozen=True)
class Options:
    """Sampling and runtime options for one answer.

    Defaults are those of Ollama's `DefaultOptions()` in api/types.go (checked at ollama/ollama
    commit fb30760, August 2026, where repeat_penalty became 1.0; num_ctx there comes from
    OLLAMA_CONTEXT_LENGTH, 4096 on small machines). Each field also carries the range every
    entry point accepts (`check_option`): what Ollama's samplers give a meaning to.
    """

    num_keep: int = _opt(4, "tokens of the prompt kept when the context is shifted; -1 all", -1)
    seed: int = _opt(-1, "random seed; -1 picks a new one for every answer")
    num_predict: int = _opt(-1, "most tokens to generate; -1 no limit, -2 until the context is full", -2)
    top_k: int = _opt(40, "sample only from the K most likely tokens (0 = off)", 0)
    top_p: float = _opt(0.9, "sample from the smallest set of tokens whose probability reaches P", 0, 1)
    min_p: float = _opt(0.0, "drop tokens less likely than P times the most likely one", 0, 1)
    typical_p: float = _opt(1.0, "locally typical sampling (1.0 = off)", 0, 1)
    repeat_last_n: int = _opt(64, "how many recent tokens the repeat penalty looks at; 0 off, -1 num_ctx", -1)
    temperature: float = _opt(0.8, "randomness: 0 always picks the most likely token", 0)
    repeat_penalty: float = _opt(1.0, "penalty for repeating recent tokens (1.0 = off)", 0)
    presence_penalty: float = _opt(0.0, "penalty for any token already present")
    frequency_penalty: float = _opt(0.0, "penalty growing with how often a token appeared")
    stop: tuple[str, ...] = _opt((), "strings that end the answer (not shown)")
    num_ctx: int = _opt(4096, "context window in tokens (prompt plus answer)", 1)
    num_batch: int = _opt(512, "prompt tokens evaluated per batch", 1)
    num_gpu: int = _opt(-1, "layers offloaded to the GPU; -1 as many as fit, 0 none", -1)
    main_gpu: int = _opt(0, "the GPU that holds small tensors when several are used", 0)
    use_mmap: bool = _opt(True, "memory-map the model file instead of reading it")
    num_thread: int = _opt(0, "CPU threads for generation; 0 picks the physical cores", 0)

    def updated(self, **changes: Any) -> "Options":
        """Return a copy with some options changed."""
        return replace(self, **changes)

    def to_parameters(self) -> dict[str, Any]:
        """The options that differ from Ollama's defaults, by Ollama name."""
        defaults = Options()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }


OPTION_FIELDS = {f.name: f for f in fields(Options)}
_TYPE_NAMES = {"int": int, "float": float, "bool": bool, "tuple[str, ...]": tuple}


def option_type(name: str) -> type:
    """The Python type of option `name` (int, float, bool or tuple for stop)."""
    return _TYPE_NAMES[str(OPTION_FIELDS[name].type)]


def option_help(name: str) -> str:
    """One line saying what option `name` does."""
    return str(OPTION_FIELDS[name].metadata["help"])


def option_range(name: str) -> tuple[float | None, float | None]:
    """The lowest and highest value option `name` accepts (None: no bound)."""
    metadata = OPTION_FIELDS[name].metadata
    return metadata["low"], metadata["high"]


# llama.cpp pads the context to a multiple of this; llama-cpp-python sizes its own buffers
# from the number it was given, so whirr asks for the padded size to keep the two in step.
CONTEXT_PADDING = 256


def context_size(num_ctx: int) -> int:
    """The context llama.cpp really allocates for `num_ctx`."""
    return max(1, -(-num_ctx // CONTEXT_PADDING)) * CONTEXT_PADDING


class ParameterError(ValueError):
    """A parameter name or value Ollama would reject; the text is Ollama's."""


def check_option(name: str, value: Any) -> Any:
    """The one rule for a typed option value, whatever it came from (a CLI flag, `/set`,
    config.toml's [options], the session dialog, a Modelfile PARAMETER): returns the value, or
    raises ParameterError saying the accepted range. Floats must be finite."""
    if name not in OPTION_FIELDS:
        raise ParameterError(f"unknown parameter '{name}'")
    if option_type(name) not in (int, float) or isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value}")
    low, high = option_range(name)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"{name} must be {_range_text(low, high)}, got {value}")
    return value


def _range_text(low: float | None, high: float | None) -> str:
    shown = [f"{b:g}" if b is not None else "" for b in (low, high)]
    if low is not None and high is not None:
        return f"between {shown[0]} and {shown[1]}"
    return f">= {shown[0]}" if low is not None else f"<= {shown[1]}"


def option_note(name: str, value: Any) -> str:
    """What whirr does to a valid value that it cannot use exactly (empty when nothing)."""
    if name == "num_ctx" and context_size(value) != value:
        return f"num_ctx {value} is rounded up to {context_size(value)} (llama.cpp sizes the context in steps of {CONTEXT_PADDING})"
    return ""


def parse_parameter(name: str, raw: str) -> Any:
    """Convert the text of a PARAMETER value to its typed value, as Ollama does, then check it
    with `check_option`.

    `stop` returns the single string; callers accumulate repeated stop lines.
    Raises ParameterError with Ollama's message for unknown names and bad values, and the
    accepted range for values out of it.
    """
    return check_option(name, _typed(name, raw))


def _typed(name: str, raw: str) -> Any:
    if name not in OPTION_FIELDS:
        raise ParameterError(f"unknown parameter '{name}'")
    kind = option_type(name)
    if kind is tuple:
        return raw
    if kind is bool:
        # Go's strconv.ParseBool, which Ollama uses.
        if raw in {"1", "t", "T", "TRUE", "true", "True"}:
            return True
        if raw in {"0", "f", "F", "FALSE", "false", "False"}:
            return False
        raise ParameterError(f"invalid bool value [{raw}]")
    if kind is int:
        if not _GO_INT.fullmatch(raw):
            raise ParameterError(f"invalid int value [{raw}]")
        return int(raw)
    # Go's strconv.ParseFloat at 32 bits: no spaces or underscores, ASCII digits, float32 range.
    value = float(raw) if _GO_FLOAT.fullmatch(raw) else None
    if value is None or (math.isfinite(value) and abs(value) > _FLOAT32_MAX):
        raise ParameterError(f"invalid float value [{raw}]")
    return value


_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_FLOAT = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])")
_FLOAT32_MAX = 3.4028234663852886e38


def options_from_parameters(parameters: dict[str, Any], base: Options | None = None) -> Options:
    """Apply already-typed parameters (by Ollama name) on top of `base` or the defaults."""
    changes = {k: (tuple(v) if k == "stop" else v) for k, v in parameters.items()}
    return replace(base or Options(), **changes)
