"""The text helpers behind the chat: freezing Markdown blocks, thinking sections, titles, keys."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.actions import CHAT_ACTIONS, PROMPT_ACTIONS, auto_title, unknown_key_ids
from tui.chat.session_data import view_start_index
from tui.engine.base import Stats
from tui.markdown import ThinkSplitter, code_blocks, freeze_point, split_think
from tui.screens.help import key_text
from tui.widgets.message import stats_line


def test_freeze_point_is_the_start_of_the_last_block() -> None:
    text = "# Title\n\nA paragraph.\n\n- a\n- b"
    assert text[freeze_point(text) :] == "- a\n- b"
    assert freeze_point("just one paragraph") == 0
    assert freeze_point("") == 0


def test_an_open_code_fence_keeps_everything_after_it_live() -> None:
    text = "Intro.\n\n```python\nx = 1\n\n\ny = 2\n"
    assert text[freeze_point(text) :] == "```python\nx = 1\n\n\ny = 2\n"


@given(st.lists(st.sampled_from(["Para text.", "- item", "```", "code", "", "# Head", "| a |", "|---|", "> quote"]), max_size=30))
def test_freezing_then_continuing_never_loses_or_repeats_text(lines: list[str]) -> None:
    text = "\n".join(lines)
    cut = freeze_point(text)
    assert 0 <= cut <= len(text)
    assert text[:cut] + text[cut:] == text
    if cut:
        assert text[:cut].endswith("\n")


def test_think_splitter_handles_tags_split_across_tokens() -> None:
    splitter = ThinkSplitter()
    pieces = ["<th", "ink>", "Hmm, ", "let me see.</th", "ink>", "\n\nThe ", "answer."]
    think, answer = "", ""
    for piece in pieces:
        t, a = splitter.feed(piece)
        think, answer = think + t, answer + a
    t, a = splitter.finish()
    assert (think + t, answer + a) == ("Hmm, let me see.", "The answer.")
    assert splitter.has_think and splitter.think_closed


def test_think_splitter_passes_ordinary_answers_through() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<") == ("", "")
    assert splitter.feed("b>bold</b>") == ("", "<b>bold</b>")
    assert not splitter.has_think


@given(st.text(alphabet="<>/thinkab \n", max_size=60), st.lists(st.integers(1, 5), max_size=30))
def test_think_splitter_keeps_every_character(text: str, sizes: list[int]) -> None:
    splitter = ThinkSplitter()
    out = []
    position = 0
    for size in sizes:
        out.append(splitter.feed(text[position : position + size]))
        position += size
    out.append(splitter.feed(text[position:]))
    out.append(splitter.finish())
    think = "".join(t for t, _ in out)
    answer = "".join(a for _, a in out)
    assert (think, answer) == split_think(text) if splitter.has_think else answer == text


def test_split_think_of_a_stored_answer() -> None:
    assert split_think("<think>plan</think>\nDone.") == ("plan", "Done.")
    assert split_think("No thinking here.") == (None, "No thinking here.")


def test_code_blocks_are_found_in_order() -> None:
    assert code_blocks("a\n\n```py\nx\n```\n\n    indented\n\n```\ny\n```") == ["x\n", "indented\n", "y\n"]


def test_auto_title_cuts_at_a_word() -> None:
    assert auto_title("  Hello   world \nsecond line") == "Hello world"
    assert auto_title("How do I make a sourdough starter from scratch at home?") == "How do I make a sourdough…"
    assert auto_title("   ") == "New chat"


def test_stats_line_says_how_an_answer_ended() -> None:
    stats = Stats(eval_count=120, eval_duration=2.0)
    assert stats_line(stats, "stop") == "120 tokens · 60.0 tok/s"
    assert stats_line(stats, "stopped") == "120 tokens · 60.0 tok/s · stopped"
    assert stats_line(Stats(finish_reason="length", eval_count=5), "done") == "5 tokens · cut at the token limit"
    assert stats_line(Stats(error="out of memory"), "error") == "error: out of memory"
    assert stats_line(None, "interrupted") == "interrupted"


def test_view_start_maps_the_engines_drops_to_session_positions() -> None:
    assert view_start_index([0, 1, 2, 3], 0) == 0
    assert view_start_index([4, 5, 6, 7], 0) == 4  # older messages were not even sent
    assert view_start_index([4, 5, 6, 7], 2) == 6
    assert view_start_index([], 0) == 0


def test_every_binding_has_a_unique_id_and_a_description() -> None:
    actions = [*CHAT_ACTIONS, *PROMPT_ACTIONS]
    ids = [a.id for a in actions]
    assert len(ids) == len(set(ids))
    assert all(a.description and a.help for a in actions)
    assert unknown_key_ids({"session.new": "ctrl+t", "bogus": "x"}) == ["bogus"]


def test_key_text_reads_like_a_manual() -> None:
    assert key_text("ctrl+pagedown,ctrl+tab") == "Ctrl+PageDown\nCtrl+Tab"
    assert key_text("f1,question_mark") == "F1\n?"
