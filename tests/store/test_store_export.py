"""Exporting a session (Markdown, JSON) and the `whirr sessions` / `whirr export` commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from tui.commands import sessions as sessions_module
from tui.commands.common import CommandError
from tui.engine.base import Stats
from tui.paths import resolve_paths
from tui.store import Database
from tui.store.export import to_json, to_markdown


def fill(db: Database) -> int:
    """A session with a system prompt, a finished answer, a stopped one and an error."""
    session = db.create_session("Volcano facts", "smollm2:135m", system="Answer in one sentence.", options={"temperature": 0.0})
    db.add_message(session.id, "user", "What is a volcano?")
    answer = db.start_answer(session.id)
    measured = {**dataclasses.asdict(Stats(eval_count=9, eval_duration=0.25, total_duration=0.5)), "energy_j": 2.46, "co2_g": 0.000325}
    db.finish_answer(answer, "A volcano is an opening in the crust.", "stop", measured)
    db.add_message(session.id, "user", "Name one.")
    stopped = db.start_answer(session.id)
    db.finish_answer(stopped, "Etna", "cancelled", Stats(eval_count=1, finish_reason="cancelled"))
    failed = db.start_answer(session.id)
    db.finish_answer(failed, "", "error", Stats(finish_reason="error", error="model file missing"))
    return session.id


def test_markdown_has_the_settings_each_message_under_its_role_and_answer_stats(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "whirr.db")
    text = to_markdown(db, fill(db))
    assert text.startswith("# Volcano facts\n")
    assert "- Model: smollm2:135m" in text and "- Options: temperature=0.0" in text
    assert "## System prompt\n\nAnswer in one sentence.\n" in text
    blocks = text.split("### ")[1:]
    assert [block.split("\n", 1)[0] for block in blocks] == ["User", "Assistant", "User", "Assistant", "Assistant"]
    assert "A volcano is an opening in the crust.\n\n*9 tokens · 36.0 tok/s · 0.50 s · 2.46 J, 325 µg CO2e*" in blocks[1]
    assert blocks[3].rstrip().endswith("*1 token · stopped*")
    assert "*(no text)*" in blocks[4] and "*error: model file missing*" in blocks[4]
    db.close()


def test_json_round_trips_the_session_and_its_messages(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "whirr.db")
    session_id = fill(db)
    document = json.loads(to_json(db, session_id))
    assert document["format"] == "whirr.session" and document["version"] == 1
    assert document["session"]["title"] == "Volcano facts" and document["session"]["options"] == {"temperature": 0.0}
    stored = db.messages(session_id)
    assert [m["id"] for m in document["messages"]] == [m.id for m in stored]
    assert [m["state"] for m in document["messages"]] == ["done", "done", "done", "stopped", "error"]
    assert document["messages"][1]["stats"] == stored[1].stats
    db.close()


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="whirr")
    sessions_module.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def run(*argv: str) -> int:
    args = parse(*argv)
    return args.func(args)


@pytest.fixture
def saved(whirr_home: Path) -> dict[str, int]:
    db = Database.open(resolve_paths().database_file)
    ids = {"volcano": fill(db)}
    for title in ("Twin", "twin", "Old"):
        ids[title] = db.create_session(title, "other:1b").id
    db.add_message(ids["Old"], "user", "archived question")
    db.archive_session(ids["Old"])
    db.close()
    return ids


def test_sessions_lists_active_or_archived_sessions(saved: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("sessions") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "TITLE", "MODEL", "MESSAGES", "UPDATED"]
    assert lines[1].split()[:6] == [str(saved["volcano"]), "Volcano", "facts", "smollm2:135m", "5", "Less"]
    assert [line.split()[1] for line in lines[2:]] == ["Twin", "twin"]
    assert run("sessions", "--archived") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:4] for line in lines[1:]] == [[str(saved["Old"]), "Old", "other:1b", "1"]]


def test_sessions_without_a_database_creates_nothing(whirr_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("sessions") == 0
    assert capsys.readouterr().out == "no sessions\n"
    assert not whirr_home.exists()
    with pytest.raises(CommandError, match="no sessions saved yet"):
        run("export", "anything")


def test_export_by_id_or_title_to_stdout_or_a_file(saved: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("export", str(saved["volcano"])) == 0
    assert capsys.readouterr().out.startswith("# Volcano facts\n")
    assert run("export", "volcano FACTS", "--format", "json") == 0  # a title, ignoring case
    assert json.loads(capsys.readouterr().out)["session"]["id"] == saved["volcano"]
    assert run("export", "Old", "--output", str(tmp_path / "old.md")) == 0  # archived ones too
    assert "archived question" in (tmp_path / "old.md").read_text()
    assert f"exported session {saved['Old']} (Old)" in capsys.readouterr().err
    assert run("export", "Twin") == 0  # an exact title match wins over a case-insensitive one
    assert capsys.readouterr().out.startswith("# Twin\n")


def test_export_errors_name_the_candidates(saved: dict[str, int], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no session has the id or title 'nothing'"):
        run("export", "nothing")
    with pytest.raises(CommandError, match="no session has the id or title '999'"):
        run("export", "999")
    with pytest.raises(CommandError) as caught:
        run("export", "TWIN")
    assert str(caught.value) == f"'TWIN' matches 2 sessions: {saved['Twin']} ('Twin'), {saved['twin']} ('twin'); give the id instead"
    with pytest.raises(CommandError, match="cannot write"):
        run("export", "Old", "--output", str(tmp_path / "missing-dir" / "old.md"))
    with pytest.raises(SystemExit):
        parse("export", "Old", "--format", "html")


def test_a_damaged_database_is_a_command_error(whirr_home: Path) -> None:
    path = resolve_paths().database_file
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not sqlite at all")
    with pytest.raises(CommandError, match="not an SQLite database"):
        run("sessions")
    assert path.read_bytes() == b"not sqlite at all"
