"""whirr's log file (in the cache folder); llama.cpp's messages land here at debug level."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

from tui.paths import Paths


def setup_logging(paths: Paths) -> None:
    """Send the `whirr` loggers to the log file, rotating at 1 MB (idempotent)."""
    logger = logging.getLogger("whirr")
    if logger.handlers:
        return
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        paths.cache_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(
            paths.log_file, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()  # an unwritable cache folder must not stop whirr
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
