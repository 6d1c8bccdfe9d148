"""Writing: Ollama's canonical form, quoting, and the round-trip and robustness properties."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.engine.options import DEPRECATED_PARAMETERS, OPTION_FIELDS, option_range, option_type
from tui.modelfile import Command, Modelfile, ParseError, format_command, parse, quote, write
from tui.modelfile.document import ROLES


@pytest.mark.parametrize(
    ("value", "written"),
    [
        # Ollama's rule: bare unless a line break or an edge space; """ when a " is inside.
        ("plain words", "plain words"),
        ('say "hi"', 'say "hi"'),
        ("#1 fan", "#1 fan"),
        ("### User: ", '"### User: "'),
        (" lead", '" lead"'),
        ("two\nlines", '"two\nlines"'),
        ('You are "Mario".\n', '"""You are "Mario".\n"""'),
        (' "x" ', '""" "x" """'),
        # Where Ollama's rule would not read back the same, whirr quotes as well.
        ("", '""'),
        ('"starts with a quote', '""""starts with a quote"""'),
        ("tab at the end\t", '"tab at the end\t"'),
        ("carriage\rreturn", '"carriage\rreturn"'),
    ],
)
def test_quote(value: str, written: str) -> None:
    assert quote(value) == written
    assert parse(f"FROM x\nSYSTEM {written}\n").system == value


@pytest.mark.parametrize(
    "value",
    ['ends in triple quotes"""\nthen more', 'a"""  \r\nb', "null\x00byte", "zero\u200bwidth"],
)
def test_values_no_quoting_can_carry_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        quote(value)


def test_format_command() -> None:
    assert format_command(Command("model", "llama3.2")) == "FROM llama3.2"
    assert format_command(Command("stop", "<|eot_id|>")) == "PARAMETER stop <|eot_id|>"
    assert format_command(Command("message", "user: Hey there!")) == "MESSAGE user Hey there!"
    assert format_command(Command("message", "assistant: a: b")) == "MESSAGE assistant a: b"
    assert format_command(Command("requires", "0.14.0")) == "REQUIRES 0.14.0"
    with pytest.raises(ValueError):
        format_command(Command("message", "narrator: once upon a time"))


def test_write_keeps_order_and_drops_comments() -> None:
    text = (
        "# persona\nFROM llama3.2\n\nPARAMETER temperature 1\n"
        'SYSTEM """\nYou are Mario from super mario bros, acting as an assistant.\n"""\n'
        'MESSAGE user """Hi"""\nPARAMETER stop "</s>"\nLICENSE """MIT"""\n'
    )
    assert write(parse(text)) == (
        "FROM llama3.2\nPARAMETER temperature 1\n"
        'SYSTEM "\nYou are Mario from super mario bros, acting as an assistant.\n"\n'
        "MESSAGE user Hi\nPARAMETER stop </s>\nLICENSE MIT\n"
    )


# Random valid Modelfiles: values of printable characters plus the blanks, breaks and quotes
# that make quoting hard; parameters with values of their type.
_VALUE = st.lists(
    st.one_of(
        st.sampled_from([" ", "\t", "\n", "\r", '"', '"""', "#", ":", "\\"]),
        st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")),
    ),
    max_size=20,
).map("".join)


def _representable(value: str) -> bool:
    try:
        quote(value)
    except ValueError:
        return False
    return True


_SAFE_VALUE = _VALUE.filter(_representable)
def _parameter_values(name: str) -> st.SearchStrategy[str]:
    """Valid values of option `name`, as Modelfile text: its type, within its accepted range."""
    low, high = option_range(name)
    kind = option_type(name)
    if kind is int:
        return st.integers(-(2**31) if low is None else int(low), 2**31 if high is None else int(high)).map(str)
    if kind is float:
        return st.floats(low, high, allow_nan=False, allow_infinity=False, width=32).map(repr)
    if kind is bool:
        return st.sampled_from(["true", "false", "1", "0", "True", "F"])
    return _SAFE_VALUE


_PARAMETER = st.sampled_from(sorted(set(OPTION_FIELDS) - DEPRECATED_PARAMETERS)).flatmap(
    lambda name: _parameter_values(name).map(lambda value: Command(name, value))
)
_SEMVER = st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.booleans()).map(
    lambda t: ("v" if t[3] else "") + f"{t[0]}.{t[1]}.{t[2]}"
)
_COMMAND = st.one_of(
    st.builds(
        Command,
        st.sampled_from(["model", "license", "template", "system", "adapter", "draft", "renderer", "parser"]),
        _SAFE_VALUE,
    ),
    st.builds(lambda role, content: Command("message", f"{role}: {content}"), st.sampled_from(ROLES), _SAFE_VALUE),
    st.builds(Command, st.just("requires"), _SEMVER),
    _PARAMETER,
)
_MODELFILE = st.tuples(
    st.lists(_COMMAND, max_size=8), st.builds(Command, st.just("model"), _SAFE_VALUE), st.integers(0, 8)
).map(lambda t: Modelfile([*t[0][: t[2]], t[1], *t[0][t[2] :]]))


@settings(
    max_examples=400, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_MODELFILE)
def test_round_trip(modelfile: Modelfile) -> None:
    assert parse(write(modelfile)) == modelfile


_TOKENS = [
    "FROM", "from", "PARAMETER", "MESSAGE", "SYSTEM", "TEMPLATE", "LICENSE", "REQUIRES", "user", "stop",
    "temperature", " ", "\t", "\n", "\r\n", '"', '"""', "#", "x", "1", "-", "\x00", "\u200b", "é", "🙂",
]  # fmt: skip
_MODELFILE_LIKE = st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join)
_BYTES = st.one_of(
    st.binary(max_size=64),
    _MODELFILE_LIKE.map(str.encode),
    _MODELFILE_LIKE.map(lambda text: b"\xff\xfe" + text.encode("utf-16-le")),
    st.binary(max_size=32).map(lambda data: b"\xfe\xff" + data),
)


# 10,000 byte strings in all: batches of 10 keep Hypothesis's per-example cost down.
@settings(max_examples=1_000, derandomize=True, database=None, deadline=None)
@given(st.lists(_BYTES, min_size=10, max_size=10))
def test_random_bytes_parse_or_raise_parse_error(batch: list[bytes]) -> None:
    for data in batch:
        try:
            modelfile = parse(data)
        except ParseError as error:
            assert error.line >= 1 and error.message
        else:
            assert any(c.name == "model" for c in modelfile.commands)
            assert parse(write(modelfile)) == modelfile
