"""TextAssembler: UTF-8 split across tokens, stop strings across tokens, bounded hold-back."""

from tui.engine.textstream import TextAssembler


def feed_all(assembler: TextAssembler, pieces: list[bytes]) -> list[str]:
    return [assembler.feed(piece) for piece in pieces] + [assembler.finish()]


def test_character_split_across_tokens_is_held_until_complete() -> None:
    euro = "€".encode()
    out = feed_all(TextAssembler(), [b"a", euro[:1], euro[1:2], euro[2:], b"b"])
    assert out == ["a", "", "", "€", "b", ""]


def test_stop_string_spanning_tokens_ends_the_text_before_it() -> None:
    assembler = TextAssembler(["\nUser:"])
    out = feed_all(assembler, [b"Hi", b" there\nUs", b"er", b": more"])
    assert "".join(out) == "Hi there"
    assert assembler.stopped
    assert assembler.text == "Hi there"


def test_near_miss_of_a_stop_string_is_released() -> None:
    assembler = TextAssembler(["STOP"])
    out = feed_all(assembler, [b"ST", b"OP?", b"no"])
    assert "".join(out) == "" and assembler.stopped
    assembler = TextAssembler(["STOP"])
    out = feed_all(assembler, [b"ST", b"ORY"])
    assert out == ["", "STORY", ""] and not assembler.stopped


def test_held_tail_is_bounded_by_the_longest_stop() -> None:
    assembler = TextAssembler(["abc"])
    for _ in range(1000):
        assembler.feed(b"xa")
        assert len(assembler._pending) <= 2


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assembler = TextAssembler()
    assert feed_all(assembler, [b"\xff", b"ok"]) == ["\ufffd", "ok", ""]


def test_unfinished_character_at_the_end_is_replaced() -> None:
    assembler = TextAssembler()
    assert feed_all(assembler, [b"a", "€".encode()[:2]]) == ["a", "", "\ufffd"]
