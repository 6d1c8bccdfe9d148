"""Turn a stream of token bytes into display text, holding back what is not final yet.

Two things are held back: an incomplete UTF-8 character at the end (a token may carry part
of a character), and a tail that could still grow into a stop string. Both holds are bounded
(3 bytes; the longest stop string minus one character), so each token costs O(1) work
whatever the answer's length.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence


class TextAssembler:
    """Feeds token bytes in, gives displayable text out, and notices stop strings."""

    def __init__(self, stop: Sequence[str] = ()) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = tuple(s for s in stop if s)
        self._hold_limit = max((len(s) for s in self._stops), default=1) - 1
        self._pending = ""
        self.stopped = False
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        """Everything emitted so far."""
        return "".join(self.parts)

    def feed(self, data: bytes) -> str:
        """Add one token's bytes; return the text that is now safe to show ('' if none).

        After a stop string is found, `stopped` is True and the stop string and anything after
        it are dropped.
        """
        if self.stopped:
            return ""
        return self._take(self._pending + self._decoder.decode(data))

    def finish(self) -> str:
        """The answer ended: return whatever was held back (without a partial stop string)."""
        if self.stopped:
            return ""
        return self._take(self._pending + self._decoder.decode(b"", final=True), final=True)

    def _take(self, window: str, final: bool = False) -> str:
        self._pending = ""
        for stop in self._stops:
            # The window is bounded: held-back tail plus one token's text.
            index = window.find(stop)
            if index != -1:
                self.stopped = True
                return self._emit(window[:index])
        if final or not self._stops:
            return self._emit(window)
        keep = self._partial_stop_length(window)
        self._pending = window[len(window) - keep :] if keep else ""
        return self._emit(window[: len(window) - keep])

    def _partial_stop_length(self, window: str) -> int:
        """Length of the longest suffix of `window` that begins some stop string."""
        for length in range(min(self._hold_limit, len(window)), 0, -1):
            tail = window[-length:]
            if any(stop.startswith(tail) for stop in self._stops):
                return length
        return 0

    def _emit(self, text: str) -> str:
        if text:
            self.parts.append(text)
        return text
