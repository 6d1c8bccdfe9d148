"""Parsing: Ollama's lexing rules, its error texts, encodings, and the create-time checks.

Expected commands are what Ollama's parser returns for the same text (checked against it).
"""

from __future__ import annotations

import pytest

from tui.engine.base import ChatMessage
from tui.engine.options import Options
from tui.modelfile import Command, Modelfile, ParseError, ParseWarning, decode, parse
from tui.modelfile.parser import INVALID_COMMAND, INVALID_ROLE, NO_FROM, UNEXPECTED_EOF


def commands(text: str | bytes) -> list[tuple[str, str]]:
    return [(c.name, c.args) for c in parse(text).commands]


LLAMA3_TEMPLATE = (
    "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"
    "{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}"
    "<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Every instruction, keywords in any case; FROM is stored as "model".
        (
            "from base\nAdapter ./lora.gguf\nLICENSE MIT\nlicense Apache-2.0\nsystem hi\nDRAFT ./small\n"
            "renderer qwen3\nPARSER qwen3\nREQUIRES 0.14.0\nTEMPLATE {{ .Prompt }}",
            [
                ("model", "base"),
                ("adapter", "./lora.gguf"),
                ("license", "MIT"),
                ("license", "Apache-2.0"),
                ("system", "hi"),
                ("draft", "./small"),
                ("renderer", "qwen3"),
                ("parser", "qwen3"),
                ("requires", "0.14.0"),
                ("template", "{{ .Prompt }}"),
            ],
        ),
        # Comments are whole lines; a later # is part of the value.
        ("# a comment\n  # indented comment\nFROM base # not a comment", [("model", "base # not a comment")]),
        # FROM may come anywhere; blanks around bare values are trimmed, inner ones kept.
        ("PARAMETER temperature 0.5\nFROM     some model   \t", [("temperature", "0.5"), ("model", "some model")]),
        ('FROM "     model 1"', [("model", "     model 1")]),
        ('FROM x\nLICENSE "MIT       "', [("model", "x"), ("license", "MIT       ")]),
        # Repeated stop accumulates; quotes keep edge spaces.
        (
            'FROM x\nPARAMETER stop ### User:\nPARAMETER stop "### User: "\nPARAMETER stop """</s>"""',
            [("model", "x"), ("stop", "### User:"), ("stop", "### User: "), ("stop", "</s>")],
        ),
        # Triple quotes span lines and may hold quotes; no escapes.
        (
            'FROM x\nSYSTEM """\nYou are "Mario".\nSay \\n literally.\n"""\n',
            [("model", "x"), ("system", '\nYou are "Mario".\nSay \\n literally.\n')],
        ),
        ('FROM x\nSYSTEM """"""', [("model", "x"), ("system", "")]),
        ('FROM x\nSYSTEM ""', [("model", "x"), ("system", "")]),
        ('FROM x\nSYSTEM "\'"', [("model", "x"), ("system", "'")]),
        # Plain double quotes may span lines too.
        ('FROM x\nSYSTEM "two\nlines"', [("model", "x"), ("system", "two\nlines")]),
        # A quote only counts at the start: this value is bare.
        ('FROM x\nSYSTEM say "hi"', [("model", "x"), ("system", 'say "hi"')]),
        ('FROM x\nSYSTEM """a""" """b"""', [("model", "x"), ("system", 'a""" """b')]),
        # A blank after the keyword and nothing else gives an empty value.
        ("FROM x\nSYSTEM \nLICENSE \t ", [("model", "x"), ("system", ""), ("license", "")]),
        # Messages: role case-sensitive, args "role: content".
        (
            'FROM x\nMESSAGE system Be brief.\nMESSAGE user """Hi\nthere"""\nMESSAGE assistant Hello!',
            [
                ("model", "x"),
                ("message", "system: Be brief."),
                ("message", "user: Hi\nthere"),
                ("message", "assistant: Hello!"),
            ],
        ),
        # Instructions may be indented; tabs separate like spaces; tabs inside values stay.
        ("FROM test\n\tSYSTEM 你好👋\nPARAMETER\tseed\t7", [("model", "test"), ("system", "你好👋"), ("seed", "7")]),
        ("FROM x\nSYSTEM a\tb", [("model", "x"), ("system", "a\tb")]),
        # CRLF: the CR ends a bare value; inside quotes both stay.
        ('FROM x\r\nSYSTEM """a\r\nb"""\r\n', [("model", "x"), ("system", "a\r\nb")]),
        # Unprintable characters are dropped from values (and a leading one before a keyword).
        ("FROM x\nSYSTEM a\x00b\x0bc\u200b", [("model", "x"), ("system", "abc")]),
        ("\u200bFROM x", [("model", "x")]),
    ],
)
def test_lexing_matches_ollama(text: str, expected: list[tuple[str, str]]) -> None:
    assert commands(text) == expected


def test_the_llama3_template_from_ollamas_tests() -> None:
    text = f'\nFROM model1\nADAPTER adapter1\nLICENSE MIT\nTEMPLATE """{LLAMA3_TEMPLATE}"""    \n'
    assert commands(text) == [
        ("model", "model1"),
        ("adapter", "adapter1"),
        ("license", "MIT"),
        ("template", LLAMA3_TEMPLATE),
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", NO_FROM, 1),
        ("# only a comment\nPARAMETER temperature 1", NO_FROM, 1),
        ("\nFROM foo\nBADCOMMAND param1 value1\n", INVALID_COMMAND, 3),
        ("FROM foo\nFR0M bar", INVALID_COMMAND, 2),
        ("FROM foo\nFROM: bar", INVALID_COMMAND, 2),
        # The keyword needs a blank after it. (Ollama says line 3 here: it counts the line
        # break before reporting; whirr names the keyword's line.)
        ("FROM foo\nSYSTEM\nhello", INVALID_COMMAND, 2),
        ("FROM foo\nSYSTEM", UNEXPECTED_EOF, 2),
        ("\nFROM foo\nMESSAGE badguy I'm a bad guy!\n", INVALID_ROLE, 3),
        ("FROM foo\nMESSAGE User hi", INVALID_ROLE, 2),  # roles are case-sensitive
        ("FROM foo\nMESSAGE  user hi", INVALID_ROLE, 2),  # a second blank makes an empty role
        ("\nFROM foo\nMESSAGE system\n", UNEXPECTED_EOF, 3),
        ("FROM foo\nMESSAGE user: hi", UNEXPECTED_EOF, 2),
        ("\nFROM foo\nPARAMETER param1\n", UNEXPECTED_EOF, 3),
        ("FROM foo\nPARAMETER top-k 1", UNEXPECTED_EOF, 2),
        ('\nFROM foo\nSYSTEM """This is a multiline system.""\n', UNEXPECTED_EOF, 3),
        ('FROM foo\nSYSTEM "\n\n', UNEXPECTED_EOF, 2),
        ('FROM foo\nSYSTEM """a\nb', UNEXPECTED_EOF, 2),
        ('FROM "foo" # a comment', UNEXPECTED_EOF, 1),
    ],
)
def test_errors_carry_ollamas_message_and_the_line(text: str, message: str, line: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.line) == (message, line)
    assert str(caught.value) == f"line {line}: {message}"
    assert isinstance(caught.value, ValueError)


def test_error_lines_count_crlf_as_one_break() -> None:
    with pytest.raises(ParseError) as caught:
        parse("FROM a\r\n\r\nPARAMETER temperature hot\r\n")
    assert caught.value.line == 3


def test_the_lexing_error_wins_over_the_missing_from() -> None:
    with pytest.raises(ParseError, match="command must be one of"):
        parse("PARAMETER temperature 1\nOOPS x")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("PARAMETER temprature 1", "unknown parameter 'temprature'"),
        ("PARAMETER Temperature 1", "unknown parameter 'Temperature'"),
        ("PARAMETER temperature hot", "invalid float value [hot]"),
        ("PARAMETER num_ctx 4096.0", "invalid int value [4096.0]"),
        ("PARAMETER use_mmap maybe", "invalid bool value [maybe]"),
        ("PARAMETER  temperature 1", "unknown parameter ''"),
        ("REQUIRES latest", "requires must be a valid semver (e.g. 0.14.0)"),
        ("REQUIRES 0.14", None),
        ("REQUIRES v0.14.0-rc1+build.5", None),
        ("REQUIRES 01.2.3", "requires must be a valid semver (e.g. 0.14.0)"),
        ("REQUIRES 1.2-rc1", "requires must be a valid semver (e.g. 0.14.0)"),
    ],
)
def test_create_time_checks(line: str, message: str | None) -> None:
    text = f"FROM base\n# a comment\n{line}\n"
    if message is None:
        assert parse(text).commands[-1].name == "requires"
        return
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.line) == (message, 3)


def test_deprecated_parameters_warn_and_are_skipped() -> None:
    modelfile = parse("FROM base\nPARAMETER mirostat 2\nPARAMETER temperature 0\nPARAMETER tfs_z 1.0\n")
    assert [(c.name, c.args) for c in modelfile.commands] == [("model", "base"), ("temperature", "0")]
    assert modelfile.warnings == [
        ParseWarning(2, "warning: parameter mirostat is deprecated"),
        ParseWarning(4, "warning: parameter tfs_z is deprecated"),
    ]


def test_commands_know_their_lines() -> None:
    modelfile = parse('# c\nFROM base\n\nSYSTEM """one\ntwo"""\nPARAMETER seed 1\n')
    assert [c.line for c in modelfile.commands] == [2, 4, 6]
    assert Command("system", "x", line=4) == Command("system", "x")


ENCODED_TEXT = "FROM bob\nPARAMETER num_keep 1\nPARAMETER num_ctx 4096\nSYSTEM You are a utf16 file: 你好👋\n"


@pytest.mark.parametrize(
    "data",
    [
        ENCODED_TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + ENCODED_TEXT.encode("utf-8"),
        b"\xff\xfe" + ENCODED_TEXT.encode("utf-16-le"),
        b"\xfe\xff" + ENCODED_TEXT.encode("utf-16-be"),
        "\ufeff" + ENCODED_TEXT,
    ],
    ids=["utf-8", "utf-8 BOM", "utf-16 LE", "utf-16 BE", "str with BOM"],
)
def test_encodings(data: str | bytes) -> None:
    assert commands(data) == [
        ("model", "bob"),
        ("num_keep", "1"),
        ("num_ctx", "4096"),
        ("system", "You are a utf16 file: 你好👋"),
    ]


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"FROM a\xffb", 1, "not UTF-8 text: byte 0xff at column 7"),
        (b"FROM a\nSYSTEM ok\r\nPARAMETER stop \xc3(", 3, "not UTF-8 text: byte 0xc3 at column 16"),
        (b"\xef\xbb\xbfFROM a\n\n\x80", 3, "not UTF-8 text: byte 0x80 at column 1"),
        ("FROM a\n".encode("utf-16-le").join([b"\xff\xfe", b""]) + b"\x00\xdc", 2, "not UTF-16 text"),
    ],
)
def test_bytes_that_are_not_text_are_an_error_at_their_line(data: bytes, line: int, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        decode(data)
    assert caught.value.line == line and message in caught.value.message


def test_accessors() -> None:
    modelfile = parse(
        "FROM ./base.gguf\nFROM ./projector.gguf\nSYSTEM first\nSYSTEM You are terse.\n"
        "PARAMETER temperature 0.2\nPARAMETER temperature 0\nPARAMETER stop <|im_end|>\nPARAMETER stop ###\n"
        "PARAMETER num_ctx 2048\nPARAMETER use_mmap false\nADAPTER ./lora.gguf\nLICENSE one\nLICENSE two\n"
        "MESSAGE user Is Toronto in Canada?\nMESSAGE assistant yes\nREQUIRES v0.14.0\n"
        'TEMPLATE "{{ .Prompt }}"\n'
    )
    assert modelfile.base_model == "./base.gguf"
    assert modelfile.system == "You are terse."
    assert modelfile.parameters == {
        "temperature": 0.0,
        "stop": ["<|im_end|>", "###"],
        "num_ctx": 2048,
        "use_mmap": False,
    }
    assert modelfile.adapter == "./lora.gguf"
    assert modelfile.licenses == ["one", "two"]
    assert modelfile.messages == [ChatMessage("user", "Is Toronto in Canada?"), ChatMessage("assistant", "yes")]
    assert modelfile.requires == "0.14.0"
    assert modelfile.template == "{{ .Prompt }}"
    options = modelfile.to_options()
    assert (options.temperature, options.stop, options.num_ctx, options.use_mmap) == (
        0.0,
        ("<|im_end|>", "###"),
        2048,
        False,
    )
    assert options.top_k == Options().top_k
    based = modelfile.to_options(Options(top_k=5, temperature=0.9))
    assert (based.top_k, based.temperature) == (5, 0.0)


def test_accessors_of_a_bare_modelfile() -> None:
    modelfile = parse("FROM base")
    assert (modelfile.system, modelfile.template, modelfile.adapter, modelfile.requires) == (None, None, None, None)
    assert (modelfile.licenses, modelfile.messages, modelfile.parameters) == ([], [], {})
    assert modelfile.to_options() == Options()
    assert Modelfile().base_model is None
