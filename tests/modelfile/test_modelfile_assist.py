"""The editor's helpers: problems from the real parser, highlighting, completion, parameter help."""

from __future__ import annotations

import pytest

from tui.modelfile.assist import (
    INSTRUCTION_NAMES,
    Problem,
    Span,
    check,
    completions,
    highlight,
    instruction_at,
    parameter_help,
    suggestion,
)

DOC = '''# a pirate
FROM smollm2:135m
PARAMETER temperature 0.2
PARAMETER stop "<|im_end|>"
SYSTEM """You are a pirate.
Answer like one."""
MESSAGE user Hello
'''


def test_a_valid_document_has_no_problems() -> None:
    modelfile, problems = check(DOC)
    assert problems == []
    assert modelfile is not None and modelfile.system == "You are a pirate.\nAnswer like one."


def test_a_bad_value_is_reported_at_its_line_with_ollamas_message() -> None:
    modelfile, problems = check("FROM smollm2:135m\nSYSTEM hi\nPARAMETER temperature hot\n")
    assert modelfile is None
    assert problems == [Problem(3, "invalid float value [hot]")]
    assert str(problems[0]) == "line 3: invalid float value [hot]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM x\nPARAMETER temprature 1\n", Problem(2, "unknown parameter 'temprature'")),
        ("FROM x\nFOO bar\n", Problem(2, 'command must be one of "from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter", "message", or "requires"')),
        ("SYSTEM hi\n", Problem(1, "no FROM line")),
        ('FROM x\nSYSTEM """open\n', Problem(2, "unexpected EOF")),
        ("FROM x\nTEMPLATE {{ printf \"%s\" .Prompt }}\n", None),
    ],
)
def test_problems_match_what_saving_refuses(text: str, expected: Problem | None) -> None:
    modelfile, problems = check(text)
    assert modelfile is None and len(problems) == 1
    if expected is not None:
        assert problems[0] == expected
    else:
        assert problems[0].line == 2 and problems[0].message.startswith("invalid TEMPLATE")


def test_deprecated_parameters_are_warnings() -> None:
    modelfile, problems = check("FROM x\nPARAMETER mirostat 1\n")
    assert modelfile is not None
    assert problems == [Problem(2, "warning: parameter mirostat is deprecated", "warning")]


def test_highlighting_marks_keywords_names_values_strings_and_comments() -> None:
    spans = highlight(DOC.splitlines())
    assert spans[0] == [Span(0, None, "comment")]
    assert spans[1] == [Span(0, 4, "keyword"), Span(5, 17, "string")]
    assert spans[2] == [Span(0, 9, "keyword"), Span(10, 21, "parameter"), Span(22, 25, "number")]
    assert spans[3][-1] == Span(15, None, "string")
    assert spans[4] == [Span(0, 6, "keyword"), Span(7, None, "string")]
    assert spans[5] == [Span(0, None, "string")]  # inside the triple-quoted value
    assert spans[6] == [Span(0, 7, "keyword"), Span(8, 12, "role"), Span(13, 18, "string")]


def test_a_line_inside_a_value_is_not_an_instruction() -> None:
    lines = ['FROM x', 'SYSTEM """', 'PARAMETER temperature 1', '"""', 'PARAMETER seed 3']
    assert highlight(lines)[2] == [Span(0, None, "string")]
    assert instruction_at(lines, 2) == ("system", None)
    assert instruction_at(lines, 4) == ("parameter", "seed")
    assert completions(lines, 2, 3) == []


def test_instruction_names_complete_in_the_case_typed() -> None:
    assert completions(["PA"], 0, 2) == ["PARAMETER"]
    assert suggestion(["PA"], 0, 2) == "RAMETER "
    assert suggestion(["  s"], 0, 3) == "ystem "
    assert completions(["M"], 0, 1) == ["MESSAGE"]
    assert completions(["x"], 0, 1) == []
    assert {name[0] for name in INSTRUCTION_NAMES} >= {"F", "P", "S", "T", "M", "A", "L", "R"}
    assert suggestion([""], 0, 0) == ""  # nothing typed, nothing suggested
    assert suggestion(["FROM"], 0, 4) == ""  # already complete


def test_parameter_names_and_roles_complete() -> None:
    assert completions(["PARAMETER t"], 0, 11)[0] == "temperature"
    assert suggestion(["PARAMETER te"], 0, 12) == "mperature "
    assert suggestion(["parameter num_c"], 0, 15) == "tx "
    assert "mirostat" not in completions(["PARAMETER m"], 0, 11)
    assert suggestion(["MESSAGE as"], 0, 10) == "sistant "


def test_nothing_is_suggested_in_the_middle_of_a_line_or_a_value() -> None:
    assert suggestion(["PA rest"], 0, 2) == ""
    assert suggestion(["SYSTEM Pa"], 0, 9) == ""


def test_parameter_help_gives_type_default_and_meaning() -> None:
    help = parameter_help("temperature")
    assert help is not None
    assert (help.type, help.default) == ("float", "0.8")
    assert "randomness" in help.meaning
    stop = parameter_help("stop")
    assert stop is not None and stop.type.startswith("string") and stop.default == "none"
    mmap = parameter_help("use_mmap")
    assert mmap is not None and (mmap.type, mmap.default) == ("bool", "true")
    old = parameter_help("mirostat")
    assert old is not None and old.deprecated
    assert parameter_help("nonsense") is None
