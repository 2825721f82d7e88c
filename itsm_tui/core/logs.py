"""The log file: what went wrong in detail (a driver's raw error, say), never on a screen.

Operators read sentences (see ``db_errors``); whoever runs the service reads
``<data dir>/itsm-tui.log`` (0600: a driver's text can name hosts and accounts).
"""

from __future__ import annotations

import logging
import os

from itsm_tui.core import config

LOGGER = "itsm_tui"


def setup() -> None:
    """Send the package's warnings to the log file; without a writable data folder, nowhere."""
    logger = logging.getLogger(LOGGER)
    if any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        return
    try:
        folder = config.data_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / "itsm-tui.log"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        os.close(descriptor)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
