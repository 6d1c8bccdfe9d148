"""What whirr changes in how Textual reads the terminal's keys.

Terminals on Linux, tmux and SSH send Alt+digit as ESC followed by the digit. Textual's key
table maps exactly those sequences to the characters macOS types for Option+digit ("¡", "™",
"£"...), because WezTerm on macOS sends them for Option, so Alt+1..9 would type those characters
instead of jumping to a tab. whirr drops those nine entries: ESC+digit then reaches the app as
alt+1..alt+9, as every other ESC+key is read as alt+key. The characters themselves, typed
directly (a £ key), still arrive as characters.
"""

from __future__ import annotations

ALT_DIGITS = tuple(f"\x1b{digit}" for digit in "123456789")


def read_alt_digits_as_alt() -> None:
    """Make ESC+1..9 the keys alt+1..alt+9 (call before the app starts reading the terminal)."""
    from textual import _ansi_sequences

    table = _ansi_sequences.ANSI_SEQUENCES_KEYS
    assert isinstance(table, dict), "Textual's key table is a dict (textual 8)"
    for sequence in ALT_DIGITS:
        table.pop(sequence, None)
