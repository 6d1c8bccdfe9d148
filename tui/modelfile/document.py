"""A parsed Modelfile: its instructions in file order, with typed accessors.

Commands are named as Ollama's parser names them, so a list of them means the same thing
in both tools: "model" for FROM, the parameter's own name for PARAMETER, "message" with
args "role: content" for MESSAGE, and the lowercase keyword for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from tui.engine.base import ChatMessage, Role
from tui.engine.options import Options, options_from_parameters, parse_parameter

# Ollama's instruction keywords, in the order its error message lists them.
INSTRUCTIONS = (
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
)
# Command names that are not parameters ("from" is stored as "model").
KEYWORD_COMMANDS = frozenset(
    {"model", "license", "template", "system", "adapter", "draft", "renderer", "parser", "message", "requires"}
)
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@dataclass(frozen=True)
class Command:
    """One instruction. `line` (1-based; 0 when built in code) is not part of equality."""

    name: str
    args: str
    line: int = field(default=0, compare=False)

    @property
    def is_parameter(self) -> bool:
        """True for a PARAMETER line (its name is the parameter's)."""
        return self.name not in KEYWORD_COMMANDS


@dataclass(frozen=True)
class ParseWarning:
    """Something Ollama accepts but ignores, such as a deprecated parameter."""

    line: int
    message: str


@dataclass
class Modelfile:
    """The instructions of one Modelfile, in order. Warnings are not part of equality."""

    commands: list[Command] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list, compare=False)

    def _all(self, name: str) -> list[str]:
        return [c.args for c in self.commands if c.name == name]

    def _last(self, name: str) -> str | None:
        values = self._all(name)
        return values[-1] if values else None

    @property
    def base_model(self) -> str | None:
        """The first FROM: a model name or a path to a GGUF file.

        Ollama's `show --modelfile` writes later FROM lines for projector files.
        """
        values = self._all("model")
        return values[0] if values else None

    @property
    def parameters(self) -> dict[str, Any]:
        """Typed parameter values by Ollama name; `stop` is a list, otherwise the last line wins."""
        result: dict[str, Any] = {}
        for command in self.commands:
            if not command.is_parameter:
                continue
            value = parse_parameter(command.name, command.args)
            if command.name == "stop":
                result.setdefault("stop", []).append(value)
            else:
                result[command.name] = value
        return result

    @property
    def system(self) -> str | None:
        """The SYSTEM prompt (the last one wins, as in Ollama)."""
        return self._last("system")

    @property
    def template(self) -> str | None:
        """The TEMPLATE text: Jinja or Go-template."""
        return self._last("template")

    @property
    def adapter(self) -> str | None:
        """The ADAPTER path (a LoRA file; the last one wins, as in Ollama)."""
        return self._last("adapter")

    @property
    def licenses(self) -> list[str]:
        """Every LICENSE text, in order."""
        return self._all("license")

    @property
    def messages(self) -> list[ChatMessage]:
        """The MESSAGE lines: few-shot history placed before the conversation."""
        result = []
        for args in self._all("message"):
            role, _, content = args.partition(": ")
            result.append(ChatMessage(cast(Role, role), content))
        return result

    @property
    def requires(self) -> str | None:
        """The minimum Ollama version from REQUIRES, without a leading "v"."""
        value = self._last("requires")
        return value.removeprefix("v") if value is not None else None

    def to_options(self, base: Options | None = None) -> Options:
        """The generation options: these parameters on top of `base` (default: Ollama's)."""
        return options_from_parameters(self.parameters, base)
