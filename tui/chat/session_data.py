"""One session's data in the database, as the chat uses it, and the conversation to send.

Every database call the chat makes goes through here, so the view never depends on how the
store spells things. Calls are small and quick (one row, or one page of rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from tui.engine.base import ChatMessage, Stats
from tui.engine.options import Options, options_from_parameters
from tui.meters.answer import AnswerEnergy
from tui.models.personas import RunTarget
from tui.store.db import Database
from tui.store.records import Session, StoredMessage

HISTORY_CHARS_PER_TOKEN = 6  # generous: the engine drops what still does not fit
_SCAN = 500


class SessionData:
    """A session record plus the database it lives in; also the transcript's MessageSource."""

    def __init__(self, db: Database, session: Session) -> None:
        self.db = db
        self.session = session

    @property
    def id(self) -> int:
        """The session's id."""
        return self.session.id

    @property
    def options(self) -> Options:
        """The session's generation options (the store keeps those that differ from Ollama's)."""
        return options_from_parameters(self.session.options)

    def update(self, **fields: Any) -> None:
        """Change and store session fields (title, model, system, options, position, open...)."""
        self.db.update_session(self.id, **fields)
        self.session = self.db.get_session(self.id)

    def rename(self, title: str) -> None:
        """Give the session a new title."""
        self.update(title=title)

    def count(self) -> int:
        """How many messages the session has."""
        return self.db.count_messages(self.id)

    def page(self, offset: int, limit: int) -> Sequence[StoredMessage]:
        """Messages [offset, offset + limit), oldest first."""
        return self.db.messages(self.id, offset=offset, limit=limit)

    def index_of(self, message_id: int) -> int | None:
        """The position of a message in the session (scans ids a page at a time)."""
        offset = 0
        while True:
            page = self.page(offset, _SCAN)
            for position, message in enumerate(page):
                if message.id == message_id:
                    return offset + position
            if len(page) < _SCAN:
                return None
            offset += _SCAN

    def add_user(self, text: str) -> StoredMessage:
        """Store the user's message."""
        return self.db.add_message(self.id, "user", text, state="done", stats=None)

    def start_answer(self) -> int:
        """Create an empty, streaming answer; returns its id."""
        return self.db.start_answer(self.id)

    def save_partial(self, message_id: int, text: str) -> None:
        """Store the answer so far."""
        self.db.save_partial(message_id, text)

    def finish_answer(
        self, message_id: int, text: str, state: str, stats: Stats, energy: AnswerEnergy | None = None
    ) -> None:
        """Store the final answer and its statistics (the store adds the model and options),
        with what it cost when it was measured."""
        record = asdict(stats)
        if energy is not None:
            record.update(energy.stats_fields())
        self.db.finish_answer(message_id, text, state, record)

    def _last_answer(self) -> StoredMessage | None:
        """The latest answer, when one of the last two messages is an answer."""
        count = self.count()
        for message in reversed(self.page(max(0, count - 2), 2)):
            if message.role == "assistant":
                return message
        return None

    def last_answer_energy(self) -> AnswerEnergy | None:
        """The cost of the session's latest answer, if it was measured."""
        last = self._last_answer()
        return None if last is None else AnswerEnergy.from_stats(last.stats)

    def last_answer_server(self) -> str:
        """The server that wrote the session's latest answer; empty when this machine did."""
        last = self._last_answer()
        return str(last.stats.get("server") or "") if last is not None else ""

    def delete_message(self, message_id: int) -> None:
        """Delete one message."""
        self.db.delete_message(message_id)

    def view_start(self) -> int:
        """Where the model's view began for the latest answer (0: it saw everything)."""
        last = self._last_answer()
        return 0 if last is None else int(last.stats.get("messages_dropped", 0))


def history_for(data: SessionData) -> tuple[list[ChatMessage], list[int]]:
    """The conversation to send: system prompt, then the newest messages that could fit.

    Returns the messages and, for each non-system one, its index in the session. Older
    messages are left out by a character budget well above the context size; the engine then
    drops the oldest of those that still do not fit, exactly.
    """
    budget = data.options.num_ctx * HISTORY_CHARS_PER_TOKEN
    count = data.count()
    picked: list[tuple[int, ChatMessage]] = []
    used, end = 0, count
    while end > 0 and used < budget:
        start = max(0, end - 64)
        for offset, stored in reversed(list(enumerate(data.page(start, end - start), start=start))):
            if used >= budget:
                break
            if stored.role in ("user", "assistant") and stored.content:
                picked.append((offset, ChatMessage(stored.role, stored.content)))
                used += len(stored.content)
        end = start
    picked.reverse()
    system = data.session.system
    messages = ([ChatMessage("system", system)] if system else []) + [m for _, m in picked]
    return messages, [index for index, _ in picked]


def with_persona(
    messages: list[ChatMessage], indices: list[int], data: SessionData, target: RunTarget | None
) -> tuple[list[ChatMessage], list[int], Options, str | None]:
    """Apply a persona to a conversation: its system prompt when the session has none, its
    few-shot MESSAGEs before the history, its parameters under the session's own, its template.

    Returns the messages, their session indices (few-shot ones map to the first real message),
    the options and the template.
    """
    if target is None:
        return messages, indices, data.options, None
    system = messages[:1] if messages and messages[0].role == "system" else []
    history = messages[len(system):]
    if not system and target.system:
        system = [ChatMessage("system", target.system)]
    first = indices[0] if indices else 0
    options = options_from_parameters(data.session.options, base=target.options(Options()))
    return [*system, *target.messages, *history], [first] * len(target.messages) + indices, options, target.template


def view_start_index(indices: list[int], engine_dropped: int) -> int:
    """The session index of the first message the model saw.

    `indices` are the session positions of the messages sent; the engine left out the first
    `engine_dropped` of them.
    """
    if engine_dropped < len(indices):
        return indices[engine_dropped]
    return indices[-1] + 1 if indices else 0
