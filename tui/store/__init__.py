"""The chat store: sessions, messages and per-answer statistics in SQLite (no Textual here)."""

from tui.store.db import Database
from tui.store.records import DatabaseError, SearchHit, Session, StoredMessage

__all__ = ["Database", "DatabaseError", "SearchHit", "Session", "StoredMessage"]
