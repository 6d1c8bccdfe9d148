"""Constrained answers: Ollama's `format` ("json" or a JSON schema) as a llama.cpp GBNF grammar.

The grammar is text, so it travels in a ChatRequest to any engine; the engine turns it into
llama.cpp's grammar sampler. The conversion is llama-cpp-python's own (the JSON grammar it
ships and its JSON-schema converter), imported only when a request asks for a format.
"""

from __future__ import annotations

import json
from typing import Any

from tui.engine.base import EngineError


def grammar_for_format(format: Any) -> str | None:
    """The GBNF grammar for an Ollama `format` value: None or "" for none, "json" for any JSON
    object, a dict for a JSON schema. EngineError for anything else or a schema that cannot be
    turned into a grammar."""
    if format is None or format == "":
        return None
    from llama_cpp import llama_grammar

    if format == "json":
        return llama_grammar.JSON_GBNF
    if not isinstance(format, dict):
        raise EngineError(f'invalid format: {json.dumps(format)[:80]}; use "json" or a JSON schema object')
    try:
        return llama_grammar.json_schema_to_gbnf(json.dumps(format))
    except Exception as error:  # the converter raises plain exceptions for schemas it cannot express
        raise EngineError(f"invalid JSON schema in format: {error}") from None
