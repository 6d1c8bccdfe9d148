"""Chat templates: the GGUF's own Jinja template, a Jinja TEMPLATE, or Ollama's Go-template subset.

Jinja is rendered by llama-cpp-python's Jinja2ChatFormatter (the same sandbox and extensions
as Transformers' chat templates); Go templates by tui.modelfile's GoTemplate, which follows
Ollama's two rendering modes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from llama_cpp.llama_chat_format import CHATML_CHAT_TEMPLATE, Jinja2ChatFormatter

from tui.engine.base import EngineError, ChatMessage
from tui.modelfile.gotemplate import TemplateError
from tui.modelfile.prompt import GoTemplate, template_syntax


@dataclass(frozen=True)
class RenderedPrompt:
    """The prompt text and whether the tokenizer should add the BOS token itself."""

    text: str
    add_bos: bool


class ChatTemplate(Protocol):
    """Anything that turns a conversation into prompt text."""

    def render(self, messages: Sequence[ChatMessage]) -> RenderedPrompt:
        """The prompt that asks the model for the next assistant turn."""
        ...


class JinjaTemplate:
    """A Jinja chat template (GGUF tokenizer.chat_template or a Jinja TEMPLATE)."""

    def __init__(self, text: str, eos_token: str, bos_token: str) -> None:
        try:
            self._formatter = Jinja2ChatFormatter(template=text, eos_token=eos_token, bos_token=bos_token)
        except Exception as error:  # jinja2's TemplateSyntaxError and friends
            raise EngineError(f"invalid Jinja template: {error}") from None

    def render(self, messages: Sequence[ChatMessage]) -> RenderedPrompt:
        """Render with add_generation_prompt, as llama-cpp-python's chat handler does."""
        try:
            result = self._formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        except Exception as error:  # raise_exception() in the template, undefined names...
            raise EngineError(f"the chat template failed: {error}") from None
        return RenderedPrompt(result.prompt, add_bos=not result.added_special)


class OllamaTemplate:
    """An Ollama Go-template TEMPLATE (the common subset; others fail when built)."""

    def __init__(self, text: str) -> None:
        try:
            self._template = GoTemplate(text)
        except TemplateError as error:
            raise EngineError(f"unsupported TEMPLATE: {error}") from None

    def render(self, messages: Sequence[ChatMessage]) -> RenderedPrompt:
        """System messages become .System; the last user message is .Prompt."""
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        turns = [m for m in messages if m.role != "system"]
        prompt = turns.pop().content if turns and turns[-1].role == "user" else ""
        return RenderedPrompt(self._template.render(system, turns, prompt), add_bos=True)


def make_template(text: str | None, gguf_template: str | None, eos_token: str, bos_token: str) -> ChatTemplate:
    """The template for a request: `text` when given (Jinja or Go), else the GGUF's, else ChatML."""
    if text is None:
        return JinjaTemplate(gguf_template or CHATML_CHAT_TEMPLATE, eos_token, bos_token)
    if template_syntax(text) == "go":
        return OllamaTemplate(text)
    return JinjaTemplate(text, eos_token, bos_token)
