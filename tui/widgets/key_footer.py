"""The footer of key hints: Textual's Footer, composed only when what it shows changes.

Textual's Footer mounts one widget per key again after every change of the active bindings
(each focus change) and restyles each of them twice; at start-up that happened three times
and put the keys on screen about 0.15 s after the first frame. This one is ready at once (the
screen's and the app's keys are known when it mounts) and recomposes only when the keys it
shows, their labels or whether they are enabled change.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's Footer without the recomposes that change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.set_reactive(Footer._bindings_ready, True)  # compose the keys in the first frame
        self._shown: tuple[tuple[str, str, bool], ...] | None = None

    def _keys(self, screen: Screen) -> tuple[tuple[str, str, bool], ...]:
        return tuple(
            (binding.key, binding.description, enabled)
            for _, binding, enabled, _ in screen.active_bindings.values()
            if binding.show
        )

    def compose(self):  # type: ignore[override]
        self._shown = self._keys(self.screen)
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and self._keys(screen) == self._shown:
            return
        super().bindings_changed(screen)
