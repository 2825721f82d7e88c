"""The top line of every screen: who is logged in, as what, on which database.

One line, always: a long database path or server list is shortened to the room left (a path
keeps its file name, a server its database name and port), and the key hint gives way first.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from itsm_tui.ui.render import literal, one_line

# The key hint, longest first: the first that leaves the database DATABASE_ROOM cells is shown.
HINTS = ("   ? keys  : command  ctrl+p palette", "   ? keys  ctrl+p palette", "   ? keys", "")
DATABASE_ROOM = 24


def _head(text: str, cells: int) -> str:
    """The start of ``text`` that fits in ``cells``."""
    kept = ""
    for char in text:
        if cell_len(kept + char) > cells:
            break
        kept += char
    return kept


def _tail(text: str, cells: int) -> str:
    """The end of ``text`` that fits in ``cells``."""
    kept = ""
    for char in reversed(text):
        if cell_len(char + kept) > cells:
            break
        kept = char + kept
    return kept


def shortened(label: str, room: int, path: bool) -> str:
    """``label`` (``db.describe_url``: the engine, a space, the path or server; a URL it could not
    read, masked) in ``room`` cells: a ``path`` loses its start, so its file name stays; a server
    its middle. "" when not even the engine and a few cells of the rest would fit."""
    if cell_len(label) <= room:
        return label
    engine, space, rest = label.partition(" ")
    if not space:
        engine, rest = "", label
    engine += space
    room -= cell_len(engine) + 1  # and "…"
    if room < 4:
        return ""
    if path:
        return f"{engine}…{_tail(rest, room)}"
    start = _head(rest, room // 2)
    return f"{engine}{start}…{_tail(rest, room - cell_len(start))}"


class Frame(Static):
    DEFAULT_CSS = """
    Frame { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.show()

    def on_resize(self) -> None:
        self.show()

    def show(self) -> None:
        app = self.app
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("itsm-tui", style="bold")
        title = getattr(self.screen, "frame_title", "")
        if title:
            line.append("  ›  ")
            line.append_text(literal(title))
        user = getattr(app, "user", None)
        if user is not None:
            line.append("   ")
            line.append_text(literal(f"{user.username} ({user.role})"))
            unread = getattr(app, "unread", 0)
            if unread:
                line.append(f"   ✉ {unread} unread (N)", style="bold yellow")
        width = self.size.width or 10_000  # not laid out yet: shown again once it is (on_resize)
        label = one_line(app.database_label)
        for hint in HINTS:
            room = width - line.cell_len - 3 - cell_len(hint)
            if room >= min(DATABASE_ROOM, cell_len(label)):
                break
        database = shortened(label, room, urlsplit(app.url).scheme == "sqlite")
        if database:
            line.append("   ")
            line.append_text(literal(database, "dim"))
        line.append(hint, style="dim")
        line.truncate(width, overflow="ellipsis")  # a long title or name: still one line
        self.update(line, layout=False)  # one line, always: no layout of the screen needed
