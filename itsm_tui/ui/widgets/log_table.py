"""The activity log and the user list over the paged table.

``LogTable`` shows audit entries newest first (``activity.page`` pages them from the database).
``UserTable`` shows the users; there are a few thousand at most, so its loader pages over the
list that ``users.list_users`` returns, with the same keys as every other list.

Both post ``Highlighted`` when the row under the cursor changes (moving, paging, a page that
arrived, a refresh), so a screen can show more about that row in a status line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.binding import Binding

from itsm_tui.core.audit.activity import action_label, entity_label
from itsm_tui.ui.messages import RowHighlighted
from itsm_tui.ui.render import cell
from itsm_tui.ui.widgets.paged_table import Column, UnmarkedTable


@dataclass(frozen=True)
class Order:
    """The ``sort`` a PagedTable expects: a key and a direction."""

    key: str
    descending: bool


NEWEST_FIRST = Order("at", True)
BY_USERNAME = Order("username", False)


def ago(moment: datetime | None, now: datetime) -> str:
    """'just now', '5 minutes ago', '1 hour ago', '3 days ago', '2 months ago', '1 year ago'."""
    if moment is None:
        return ""
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return "in the future" if seconds < -60 else "just now"
    if seconds < 60:
        return "just now"
    for size, unit in (
        (365 * 86400, "year"),
        (30 * 86400, "month"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"  # not reached


class HighlightingTable(UnmarkedTable):
    """A PagedTable that says when the row under the cursor changed."""

    def __init__(self, loader, **kwargs) -> None:
        super().__init__(loader, **kwargs)
        self._shown: tuple | None = ()

    def _highlight_changed(self) -> None:
        row = self.current
        key = (row["id"], row.get("version"), row.get("locked_until"), row.get("is_active")) if row else None
        if key != self._shown:
            self._shown = key
            self.post_message(RowHighlighted(row))

    def _move_to(self, target: int, paging: bool = False) -> None:
        super()._move_to(target, paging)
        self._highlight_changed()

    def _arrived(self, generation, page, apply, fresh) -> None:
        super()._arrived(generation, page, apply, fresh)
        self._highlight_changed()

    def render_lines(self, crop):
        # Any repaint may follow a cursor change made elsewhere (a refresh, a test, a screen).
        self._highlight_changed()
        return super().render_lines(crop)


class LogTable(HighlightingTable):
    """At 80 columns the entity goes (the line under the list says it), for the summary."""

    BINDINGS = [Binding("enter", "open", "Details")]
    COLUMNS = (
        Column("when", "When", 16, "at"),
        Column("actor", "Who", 14, None),
        Column("action", "Action", 16, None),
        Column("entity", "Entity", 16, None, drop=1),
        Column("summary", "Summary", 0, None),
    )
    EMPTY = "No log entries match this filter."

    def __init__(self, loader, **kwargs) -> None:
        super().__init__(loader, **kwargs)
        self.sort = NEWEST_FIRST

    def cells(self, row: dict) -> dict[str, Text]:
        failed = bool(row.get("failed"))
        actor = row.get("actor")
        cells = {
            "when": Text(ago(row["at"], self.now)),
            "actor": cell(actor or "—", "" if actor else "dim"),
            "action": cell(action_label(row["action"])),
            "entity": cell(entity_label(row["entity_type"], row["entity_id"], row.get("entity_name"))),
            "summary": cell(row["summary"]),
        }
        if failed:
            for text in cells.values():
                text.stylize("bold red")
            cells["action"].stylize("bold white on dark_red")
        return cells


class UserTable(HighlightingTable):
    """At 80 columns the department, then the last login (the line under the list says it) go."""

    BINDINGS = [Binding("enter", "open", "Details")]
    FLEX_MIN = 16
    COLUMNS = (
        Column("username", "Username", 16, "username"),
        Column("full_name", "Full name", 0, None),
        Column("role", "Role", 11, None),
        Column("department", "Department", 16, None, drop=2),
        Column("active", "Status", 8, None),
        Column("locked", "Locked until", 16, None),
        Column("last_login", "Last login", 14, None, drop=1),
    )
    EMPTY = "No users match."

    def __init__(self, loader, **kwargs) -> None:
        super().__init__(loader, **kwargs)
        self.sort = BY_USERNAME

    def cells(self, row: dict) -> dict[str, Text]:
        locked = row["locked_until"]
        is_locked = locked is not None and locked > self.now
        return {
            "username": cell(row["username"], "" if row["is_active"] else "dim"),
            "full_name": cell(row["full_name"], "" if row["is_active"] else "dim"),
            "role": Text(row["role"], style="bold" if row["role"] == "admin" else ""),
            "department": cell(row["department"] or "—", "" if row["department"] else "dim"),
            "active": Text("active", style="green")
            if row["is_active"]
            else Text("disabled", style="bold red"),
            "locked": (
                Text(f"{locked:%Y-%m-%d %H:%M}", style="bold yellow") if is_locked else Text("—", style="dim")
            ),
            "last_login": Text(
                ago(row["last_login_at"], self.now) or "never", style="" if row["last_login_at"] else "dim"
            ),
        }
