"""Textual bindings made from the action table in `tui.actions`."""

from __future__ import annotations

from textual.binding import Binding

from tui.actions import Action, action_by_id


def binding(action: Action) -> Binding:
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
