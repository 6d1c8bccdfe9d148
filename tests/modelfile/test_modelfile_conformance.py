"""Ollama's documentation and example Modelfiles read the same in whirr as in Ollama.

fixtures/ollama.json holds what Ollama's own parser returned for each file (see
fixtures/README.md): its commands and canonical form, or its error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tui.modelfile import ParseError, parse, write

FIXTURES = Path(__file__).parent / "fixtures"
OLLAMA: dict[str, dict[str, Any]] = json.loads((FIXTURES / "ollama.json").read_text(encoding="utf-8"))
CASES = [(name, variant) for name, variants in sorted(OLLAMA.items()) for variant in variants]
# Accepted by Ollama's parser but refused by `ollama create` (and so by whirr's parse).
CREATE_ERRORS = {("docs-16.Modelfile", "after_FROM_base"): "requires must be a valid semver (e.g. 0.14.0)"}


def _source(name: str, variant: str) -> bytes:
    data = (FIXTURES / name).read_bytes()
    return b"FROM base\n" + data if variant == "after_FROM_base" else data


def test_fixtures_cover_docs_and_examples() -> None:
    names = set(OLLAMA)
    assert {p.name for p in FIXTURES.glob("*.Modelfile")} == names
    assert sum(n.startswith("docs-") for n in names) == 16
    assert sum(n.startswith("example-") for n in names) == 8
    valid = [c for c in CASES if "commands" in OLLAMA[c[0]][c[1]]]
    invalid = [c for c in CASES if "error" in OLLAMA[c[0]][c[1]]]
    assert len(valid) >= 15 and len(invalid) >= 10


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_parses_like_ollama(name: str, variant: str) -> None:
    expected = OLLAMA[name][variant]
    source = _source(name, variant)
    if (name, variant) in CREATE_ERRORS:
        with pytest.raises(ParseError) as caught:
            parse(source)
        assert caught.value.message == CREATE_ERRORS[name, variant]
    elif "commands" in expected:
        modelfile = parse(source)
        assert [{"name": c.name, "args": c.args} for c in modelfile.commands] == expected["commands"]
        assert modelfile.warnings == []
    else:
        with pytest.raises(ParseError) as caught:
            parse(source)
        # Ollama appends what it had read to "unexpected EOF"; the meaning is the same.
        message = "unexpected EOF" if expected["error"].startswith("unexpected EOF") else expected["error"]
        assert caught.value.message == message
        if "line" in expected:
            assert caught.value.line == expected["line"]


@pytest.mark.parametrize(
    ("name", "variant"), [c for c in CASES if "canonical" in OLLAMA[c[0]][c[1]] and c not in CREATE_ERRORS]
)
def test_writes_the_canonical_form_ollama_writes(name: str, variant: str) -> None:
    modelfile = parse(_source(name, variant))
    text = write(modelfile)
    assert text == OLLAMA[name][variant]["canonical"]
    assert parse(text) == modelfile


def test_a_docs_example_in_detail() -> None:
    """The `ollama show --modelfile` output shown in the docs, read through the accessors."""
    modelfile = parse((FIXTURES / "docs-03.Modelfile").read_bytes())
    assert modelfile.base_model is not None and modelfile.base_model.endswith(
        "sha256-00e1317cbf74d901080d7100f57580ba8dd8de57203072dc6f668324ba545f29"
    )
    assert modelfile.parameters == {
        "stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|reserved_special_token"]
    }
    assert modelfile.template is not None and modelfile.template.startswith("{{ if .System }}<|start_header_id|>")
    assert modelfile.template.endswith("{{ .Response }}<|eot_id|>")
    assert modelfile.to_options().stop == (
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
        "<|reserved_special_token",
    )
