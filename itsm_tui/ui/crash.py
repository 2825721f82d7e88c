"""The app's crash report, in place of Textual's.

Textual prints a Rich traceback with every frame's local variables (a login password, the
database URL) on the terminal. Ours writes the traceback without local variables to a 0600 file
under the data directory, with any password of a URL masked, and leaves one line on screen.
"""

from __future__ import annotations

import os
import re
import traceback
from datetime import datetime
from pathlib import Path

from itsm_tui.core import config
from itsm_tui.core.store import db

# user:password@ in any scheme://... URL (the password masked, the rest kept for diagnosis)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^\s/]*@")


def mask(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with URL passwords and each of ``secrets`` replaced by ***."""
    text = db.mask(_URL_PASSWORD.sub(lambda m: f"{m.group('head')}***@", text))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def write(error: BaseException, secrets: tuple[str, ...] = ()) -> Path:
    """Write the report for ``error`` (no locals) and return its path."""
    folder = config.data_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    body = f"itsm-tui crash report, {datetime.now().isoformat(timespec='seconds')}\n\n{mask(text, secrets)}"
    for n in range(100):
        path = folder / (f"crash-{stamp}.log" if n == 0 else f"crash-{stamp}-{n}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        return path
    raise OSError("no free crash report name")
