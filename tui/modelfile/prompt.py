"""Turn a conversation into a prompt with a Go-template TEMPLATE, the way Ollama does.

Ollama (template/template.go) has two modes. A template that mentions .Messages runs once,
with .System (every system message) and .Messages. Any other template runs once per exchange
of system/prompt/response, and the last run stops right after `{{ .Response }}` so the model
writes the answer from there; such a template that lacks `{{ .Response }}` gets it appended.
Before either, consecutive messages of one role are merged with a blank line between.
whirr has no tools or thinking, so .Tools, .Think and the like are always empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

from tui.engine.base import ChatMessage
from tui.modelfile.gotemplate import Call, Expr, Field, If, Node, Output, Range, TemplateError, parse

_EMPTY_TOP: dict[str, Any] = {
    "System": "",
    "Prompt": "",
    "Response": "",
    "Messages": [],
    "Tools": [],
    "Suffix": "",
    "Think": False,
    "ThinkLevel": "",
    "IsThinkSet": False,
}
_EMPTY_MESSAGE: dict[str, Any] = {"Thinking": "", "ToolCalls": [], "ToolName": ""}
_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_GO_ACTION = re.compile(r"[.$]|/\*|(?:if|else|end|range|with|template|define|block)\b")


def template_syntax(text: str) -> Literal["go", "jinja"]:
    """Whether a TEMPLATE is Jinja (as GGUF files carry) or Go-template (as Ollama uses).

    Jinja has `{% %}` blocks; Go actions start with a field, `$`, a comment or a keyword.
    Text without actions counts as Go-template, Ollama's format.
    """
    if "{%" in text or "{#" in text:
        return "jinja"
    actions = [m.group(1) for m in _ACTION.finditer(text)]
    if not actions or any(_GO_ACTION.match(action) for action in actions):
        return "go"
    return "jinja"


def template_error(template: str | None) -> str:
    """What is wrong with a Modelfile's TEMPLATE, as saving it reports it ('' when it renders)."""
    problem = template_problem(template) if template is not None else ""
    return f"invalid TEMPLATE: {problem}" if problem else ""


def template_problem(template: str) -> str:
    """Why a TEMPLATE cannot render (a Go construct outside the subset, bad Jinja); '' when it can."""
    import jinja2

    try:
        if template_syntax(template) == "go":
            GoTemplate(template)
        else:
            jinja2.Environment().parse(template)
    except (TemplateError, jinja2.TemplateSyntaxError) as error:
        return str(error)
    return ""


class GoTemplate:
    """A parsed Go-template TEMPLATE; raises TemplateError for anything outside the subset.

    `uses_messages` tells which of Ollama's two modes it runs in; `nodes` is its syntax tree.
    """

    def __init__(self, text: str) -> None:
        nodes, fields = parse(text)
        names = {name.lower() for name in fields}
        self.uses_messages = "messages" in names
        if not self.uses_messages and "response" not in names:
            nodes.append(Output(Field("Response")))
        self.nodes = nodes
        self._last_exchange = _cut_after_response(nodes)[0]

    def render(self, system: str, messages: Sequence[ChatMessage], prompt: str) -> str:
        """The prompt for answering `prompt` after `messages`, under the `system` prompt.

        `messages` are earlier turns (few-shot MESSAGE lines first, then the conversation).
        """
        conversation = [ChatMessage("system", system)] if system else []
        conversation += [*messages, ChatMessage("user", prompt)]
        merged = _merge_turns(conversation)
        if self.uses_messages:
            root = {
                **_EMPTY_TOP,
                "System": "\n\n".join(m.content for m in conversation if m.role == "system"),
                "Messages": [{**_EMPTY_MESSAGE, "Role": m.role, "Content": m.content} for m in merged],
            }
            return _execute(self.nodes, root)
        out: list[str] = []
        exchange = {"System": "", "Prompt": "", "Response": ""}

        def flush(nodes: list[Node]) -> None:
            out.append(_execute(nodes, {**_EMPTY_TOP, **exchange}))
            exchange.update(System="", Prompt="", Response="")

        for message in merged:
            if message.role == "system":
                if exchange["Prompt"] or exchange["Response"]:
                    flush(self.nodes)
                exchange["System"] = message.content
            elif message.role == "user":
                if exchange["Response"]:
                    flush(self.nodes)
                exchange["Prompt"] = message.content
            else:
                exchange["Response"] = message.content
        flush(self._last_exchange)
        return "".join(out)


def _merge_turns(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, merged[-1].content + "\n\n" + message.content)
        else:
            merged.append(message)
    return merged


def _cut_expr(expr: Expr) -> tuple[Expr, bool]:
    """`expr` up to its first .Response (later arguments of the same call dropped); whether found."""
    if isinstance(expr, Call):
        args: list[Expr] = []
        for arg in expr.args:
            kept, found = _cut_expr(arg)
            args.append(kept)
            if found:
                return Call(expr.function, tuple(args)), True
        return expr, False
    return expr, isinstance(expr, Field) and expr.name == "Response" and not expr.from_root


def _cut_after_response(nodes: list[Node]) -> tuple[list[Node], bool]:
    """The nodes up to and including the first output of .Response; and whether it was found.

    Conditions are not searched, as in Ollama.
    """
    kept: list[Node] = []
    for node in nodes:
        if isinstance(node, (If, Range)):
            then, found = _cut_after_response(node.then)
            otherwise, found_else = ([], True) if found else _cut_after_response(node.otherwise)
            kept.append(replace(node, then=then, otherwise=otherwise))
            if found or found_else:
                return kept, True
        elif isinstance(node, Output):
            expr, found = _cut_expr(node.expr)
            kept.append(Output(expr))
            if found:
                return kept, True
        else:
            kept.append(node)
    return kept, False


def _execute(nodes: list[Node], root: dict[str, Any]) -> str:
    out: list[str] = []
    _render(nodes, root, root, out)
    return "".join(out)


def _render(nodes: list[Node], dot: Any, root: dict[str, Any], out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Output):
            out.append(_text(_evaluate(node.expr, dot, root)))
        elif isinstance(node, If):
            _render(node.then if _evaluate(node.condition, dot, root) else node.otherwise, dot, root, out)
        else:
            items = _evaluate(node.expr, dot, root)
            if not isinstance(items, list):
                raise TemplateError(f"range can't iterate over {items!r}")
            for item in items:
                _render(node.then, item, root, out)
            if not items:
                _render(node.otherwise, dot, root, out)


def _evaluate(expr: Expr, dot: Any, root: dict[str, Any]) -> Any:
    """The value of `expr`. Python truthiness of these values (str, bool, list, dict) is Go's."""
    if isinstance(expr, Field):
        target = root if expr.from_root else dot
        if expr.name is None:
            return target
        if expr.name not in target:
            hint = f" (inside range, use $.{expr.name})" if expr.name in root else ""
            raise TemplateError(f"can't evaluate field {expr.name} here{hint}")
        return target[expr.name]
    if not isinstance(expr, Call):
        return expr.value
    values = (_evaluate(arg, dot, root) for arg in expr.args)
    if expr.function == "not":
        return not next(values)
    if expr.function in ("and", "or"):
        # Go returns the first argument that decides, else the last one.
        value = None
        for value in values:
            if bool(value) != (expr.function == "and"):
                return value
        return value
    first = next(values)
    matches = [_equal(first, other) for other in values]
    if not matches:  # only after cutting at .Response, as in Ollama
        raise TemplateError(f"missing argument for {expr.function}")
    return any(matches) if expr.function == "eq" else not matches[0]


def _equal(left: Any, right: Any) -> bool:
    if type(left) is not type(right) or not isinstance(left, (str, bool)):
        raise TemplateError(f"incompatible types for comparison: {left!r} and {right!r}")
    return bool(left == right)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise TemplateError(f"cannot print a {type(value).__name__}; print one of its fields instead")
