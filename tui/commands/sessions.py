"""`whirr sessions` and `whirr export SESSION`: saved chats from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands.common import CommandError
from tui.paths import resolve_paths

if TYPE_CHECKING:
    from tui.store import Database, Session


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr sessions`, `whirr export` and `whirr doctor`."""
    listing = subparsers.add_parser(
        "sessions", help="list saved chat sessions", description="List saved chat sessions, in tab order."
    )
    listing.add_argument("--archived", action="store_true", help="list the archived sessions instead")
    listing.set_defaults(func=sessions_command)
    export = subparsers.add_parser(
        "export", help="export a chat session", description="Write a chat session as Markdown or JSON."
    )
    export.add_argument("session", metavar="SESSION", help="the session's id or title (see `whirr sessions`)")
    export.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    export.add_argument("--output", "-o", metavar="FILE", type=Path, help="write to FILE instead of the standard output")
    export.set_defaults(func=export_command)
    doctor = subparsers.add_parser(
        "doctor",
        help="check the chat database and repair a damaged one",
        description="Check the chat database. When it is damaged, every session and message that "
        "can still be read is copied into a new database, which takes its place; the damaged file is "
        "kept beside it as whirr.db.damaged-<time>.",
    )
    doctor.set_defaults(func=doctor_command)


def open_database() -> Database | None:
    """The chat database, read only (so listing and exporting work on a read-only or full
    disk), or None when whirr has not saved any chat yet (nothing is created)."""
    from tui.store import Database, DatabaseError
    from tui.store.records import DamagedDatabase

    path = resolve_paths().database_file
    if not path.exists():
        return None
    try:
        return Database.open_read_only(path)
    except DamagedDatabase as error:
        from tui.store.recover import salvage

        rescued = Database.open(":memory:")
        found = salvage(path, rescued)
        print(f"warning: {error}; showing the {found.sessions} session(s) and {found.messages} message(s) "
              "that can be read (`whirr doctor` repairs the file)", file=sys.stderr)
        return rescued
    except DatabaseError as error:
        raise CommandError(str(error)) from None


def doctor_command(args: argparse.Namespace) -> int:
    """Check the chat database; when it is damaged, replace it with what can be read of it."""
    from tui.store import Database, DatabaseError
    from tui.store.recover import repair
    from tui.store.records import DamagedDatabase

    path = resolve_paths().database_file
    if not path.exists():
        print(f"no chat database yet ({path})")
        return 0
    try:
        Database.open_read_only(path).close()
    except DamagedDatabase as error:
        print(f"{error}; salvaging what can be read")
    except DatabaseError as error:
        raise CommandError(str(error)) from None
    else:
        print(f"the chat database is sound ({path})")
        return 0
    try:
        found, aside = repair(path)
    except DatabaseError as error:
        raise CommandError(str(error)) from None
    damage = f"; {found.damaged_reads} read(s) met damaged pages, whose rows are lost" if found.damaged_reads else ""
    print(f"recovered {found.sessions} session(s) and {found.messages} message(s) into {path}{damage}")
    print(f"the damaged file is kept as {aside}")
    return 0


def sessions_command(args: argparse.Namespace) -> int:
    """Print id, title, model, message count and last update of each session."""
    from tui.format import human_age

    db = open_database()
    sessions: list[Session] = []
    counts: dict[int, int] = {}
    if db is not None:
        try:
            sessions = db.list_sessions(archived=args.archived)
            counts = {s.id: db.count_messages(s.id) for s in sessions}
        finally:
            db.close()
    if not sessions:
        print("no archived sessions" if args.archived else "no sessions")
        return 0
    rows = [("ID", "TITLE", "MODEL", "MESSAGES", "UPDATED")]
    rows += [(str(s.id), s.title, s.model, str(counts[s.id]), human_age(s.updated)) for s in sessions]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("    ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "    " + row[4])
    return 0


def find_session(sessions: list[Session], wanted: str) -> Session:
    """The session whose id is `wanted`, else the one whose title it is (exactly, then ignoring
    case); CommandError naming the candidates when there is none or more than one."""
    by_id = [s for s in sessions if wanted.isdigit() and s.id == int(wanted)]
    matches = by_id or [s for s in sessions if s.title == wanted] or [
        s for s in sessions if s.title.casefold() == wanted.casefold()
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(f"{s.id} ({s.title!r})" for s in matches)
        raise CommandError(f"'{wanted}' matches {len(matches)} sessions: {listed}; give the id instead")
    raise CommandError(
        f"no session has the id or title '{wanted}' (`whirr sessions` lists them, "
        "`whirr sessions --archived` the archived ones)"
    )


def export_command(args: argparse.Namespace) -> int:
    """Write one session as Markdown or JSON to a file or the standard output."""
    from tui.store import export

    db = open_database()
    if db is None:
        raise CommandError("no sessions saved yet")
    try:
        session = find_session(db.list_sessions(archived=None), args.session)
        text = export.to_json(db, session.id) if args.format == "json" else export.to_markdown(db, session.id)
    finally:
        db.close()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"exported session {session.id} ({session.title}) to {args.output}", file=sys.stderr)
    return 0
