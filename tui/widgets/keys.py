"""Textual bindings made from the action table in `tui.ui_state`."""

from __future__ import annotations

from textual.binding import Binding

from tui.ui_state import ChatAction, action_by_id


def binding(action: ChatAction) -> Binding:
    """The binding for an action: its keys, id, and footer label when it has one."""
    return Binding(
        action.keys,
        action.action,
        action.footer or action.description,
        show=bool(action.footer),
        priority=action.priority,
        id=action.id,
    )


def bindings(*ids: str) -> list[Binding]:
    """Bindings for these action ids."""
    found = [action_by_id(i) for i in ids]
    return [binding(a) for a in found if a is not None]
