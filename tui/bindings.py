"""Textual bindings made from the action table in `tui.actions`."""

from __future__ import annotations

import string

from textual.binding import Binding
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, _character_to_key

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


MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_KEY_NAMES = frozenset(
    {key.value for key in Keys}
    | {KEY_NAME_REPLACEMENTS.get(_character_to_key(c), _character_to_key(c)) for c in string.punctuation + " "}
    | set(string.ascii_letters + string.digits)
)


def key_problem(keys: str) -> str:
    """What is wrong with a [keys] value such as "ctrl+t" or "f2,ctrl+shift+tab" ('' when
    nothing): Textual would silently never match a key it does not know."""
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+")
        unknown = [m for m in modifiers if m not in MODIFIERS]
        if unknown:
            return f"'{key.strip()}': unknown modifier '{unknown[0]}' (use ctrl, shift, alt, meta, super)"
        if name not in _KEY_NAMES:
            return f"'{key.strip()}': unknown key '{name}' (names as in Textual: ctrl+t, f2, pagedown, question_mark)"
    return ""
