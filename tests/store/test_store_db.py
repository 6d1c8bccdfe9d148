"""The chat store on real SQLite files: sessions, messages, statistics, search and totals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.engine.base import Stats
from tui.engine.options import Options, options_from_parameters
from tui.store import Database


@pytest.fixture
def db(tmp_path: Path):
    database = Database.open(tmp_path / "data" / "whirr.db")
    yield database
    database.close()


def test_sessions_are_created_ordered_updated_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "whirr.db"
    db = Database.open(path)
    first = db.create_session("First", "smollm2:135m", system="Be brief.", options=Options(temperature=0.2, stop=("###",)))
    second = db.create_session("Second", "other:1b", persona="pirate", options={"seed": 7})
    assert (first.position, second.position) == (0, 1)
    assert first.options == {"temperature": 0.2, "stop": ["###"]}
    assert options_from_parameters(first.options) == Options(temperature=0.2, stop=("###",))
    assert first.open and not first.archived and first.persona is None
    moved = db.update_session(first.id, position=5, open=False)
    assert (moved.position, moved.open, moved.updated) == (5, False, first.updated)  # placement is not an edit
    renamed = db.update_session(second.id, title="Renamed", options=Options(num_ctx=2048))
    assert renamed.title == "Renamed" and renamed.options == {"num_ctx": 2048}
    assert renamed.updated >= second.updated
    db.close()

    db = Database.open(path)
    assert [s.title for s in db.list_sessions()] == ["Renamed", "First"]
    assert [s.title for s in db.list_sessions(open_only=True)] == ["Renamed"]
    assert db.get_session(first.id).system == "Be brief."
    with pytest.raises(TypeError, match="created"):
        db.update_session(first.id, created=0)
    with pytest.raises(KeyError):
        db.get_session(999)
    db.close()


def test_archive_unarchive_and_delete(db: Database) -> None:
    kept = db.create_session("kept", "m")
    old = db.create_session("old", "m")
    db.add_message(old.id, "user", "remember the parrot")
    db.archive_session(old.id)
    assert [s.title for s in db.list_sessions()] == ["kept"]
    assert [s.title for s in db.list_sessions(archived=True)] == ["old"]
    assert [s.title for s in db.list_sessions(archived=None)] == ["kept", "old"]
    assert not db.get_session(old.id).open  # an archived session has no tab
    assert db.search("parrot")[0].session_id == old.id  # archived chats are still searchable
    db.unarchive_session(old.id)
    assert [s.title for s in db.list_sessions()] == ["kept", "old"]
    db.delete_session(old.id)
    assert [s.id for s in db.list_sessions(archived=None)] == [kept.id]
    assert db.count_messages(old.id) == 0 and db.search("parrot") == []
    with pytest.raises(KeyError):
        db.archive_session(old.id)


def test_messages_page_in_order_and_validate_their_fields(db: Database) -> None:
    session = db.create_session("chat", "m")
    ids = [db.add_message(session.id, "user" if i % 2 == 0 else "assistant", f"message {i}").id for i in range(7)]
    assert db.count_messages(session.id) == 7
    assert [m.content for m in db.messages(session.id, offset=5)] == ["message 5", "message 6"]
    assert [m.id for m in db.messages(session.id, offset=2, limit=3)] == ids[2:5]
    assert [m.id for m in db.messages(session.id)] == ids
    db.delete_message(ids[1])
    assert db.count_messages(session.id) == 6
    with pytest.raises(ValueError, match="role"):
        db.add_message(session.id, "tool", "x")
    with pytest.raises(ValueError, match="state"):
        db.add_message(session.id, "user", "x", state="finished")
    with pytest.raises(ValueError):
        db.messages(session.id, offset=-1)
    with pytest.raises(KeyError):
        db.add_message(12345, "user", "nobody's")


def test_an_answer_streams_then_finishes_with_its_statistics(db: Database) -> None:
    session = db.create_session("chat", "smollm2:135m", options={"temperature": 0.0})
    db.add_message(session.id, "user", "Count to three.")
    answer = db.start_answer(session.id)
    assert db.messages(session.id)[-1].state == "streaming"
    db.save_partial(answer, "One,")
    db.save_partial(answer, "One, two,")
    assert db.messages(session.id)[-1].content == "One, two,"
    assert db.search("two") == []  # a streaming answer is indexed once it is finished
    db.finish_answer(answer, "One, two, three.", "stop", Stats(eval_count=6, eval_duration=0.5, total_duration=0.75))
    stored = db.messages(session.id)[-1]
    assert (stored.role, stored.content, stored.state) == ("assistant", "One, two, three.", "done")
    assert stored.stats["eval_count"] == 6 and stored.stats["finish_reason"] == "stop"
    assert stored.stats["model"] == "smollm2:135m" and stored.stats["options"] == {"temperature": 0.0}
    assert [hit.message_id for hit in db.search("two")] == [answer]
    db.save_partial(answer, "overwritten?")  # a late save after finishing must not undo it
    assert db.messages(session.id)[-1].content == "One, two, three."


@pytest.mark.parametrize(
    ("given", "stored"),
    [("stop", "done"), ("length", "done"), ("cancelled", "stopped"), ("error", "error"), ("stopped", "stopped")],
)
def test_engine_finish_reasons_become_states(db: Database, given: str, stored: str) -> None:
    session = db.create_session("chat", "m")
    answer = db.start_answer(session.id)
    db.finish_answer(answer, "text", given, Stats(finish_reason="length" if given == "length" else "stop"))
    assert db.messages(session.id)[-1].state == stored


def test_an_answer_whose_session_was_deleted_is_dropped_quietly(db: Database) -> None:
    session = db.create_session("chat", "m")
    answer = db.start_answer(session.id)
    db.delete_session(session.id)
    db.save_partial(answer, "still streaming")
    db.finish_answer(answer, "done", "stop", {"eval_count": 1})
    assert db.session_totals() == {"answers": 0}


def test_search_quotes_any_user_text_and_ranks_matches(db: Database) -> None:
    cooking = db.create_session("Cooking", "m")
    code = db.create_session("Code", "m")
    db.add_message(cooking.id, "user", "How long should pasta boil? It's for a café.")
    db.add_message(code.id, "assistant", "Use pasta-like names sparingly: c++ AND python OR rust NEAR(x).")
    hits = db.search("pasta")
    assert {(h.session_title, h.role) for h in hits} == {("Cooking", "user"), ("Code", "assistant")}
    assert "pasta" in hits[0].snippet
    assert [h.session_id for h in db.search("cafe")] == [cooking.id]  # diacritics do not matter
    assert [h.session_id for h in db.search("boi")] == [cooking.id]  # the last word is a prefix
    assert [h.session_id for h in db.search("pasta pyth")] == [code.id]  # every word must match
    for text in ['"', "AND", "NEAR(x", "c++", "it's", "*", "col:umn", "-rust", "a OR"]:
        db.search(text)  # FTS5 syntax in user text is never parsed as syntax
    assert [h.session_id for h in db.search("AND")] == [code.id]
    assert db.search("   ") == []
    assert len(db.search("pasta", limit=1)) == 1


def test_totals_sum_numeric_statistics_per_session_and_overall(db: Database) -> None:
    one = db.create_session("one", "m")
    two = db.create_session("two", "m")
    db.add_message(one.id, "user", "q", stats={"eval_count": 1000})  # only answers count
    for session, tokens, joules in ((one, 10, 1.5), (one, 5, 0.5), (two, 7, 2.0)):
        answer = db.start_answer(session.id)
        db.finish_answer(answer, "a", "stop", {"eval_count": tokens, "energy_j": joules, "finish_reason": "stop", "streamed": True})
    totals = db.session_totals(one.id)
    assert totals["answers"] == 2 and totals["eval_count"] == 15 and totals["energy_j"] == pytest.approx(2.0)
    assert "finish_reason" not in totals and "options" not in totals and "streamed" not in totals
    everything = db.session_totals()
    assert everything["answers"] == 3 and everything["eval_count"] == 22
    assert db.session_totals(999) == {"answers": 0}
