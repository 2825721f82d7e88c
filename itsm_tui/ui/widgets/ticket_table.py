"""The ticket list: the columns of the queue over the paged table."""

from __future__ import annotations

from rich.text import Text

from itsm_tui.ui.render import age, cell, priority_text, sla_due, status_text
from itsm_tui.ui.widgets.paged_table import Column, PagedTable

# Narrow screens drop category, team, requester, then assignee (highest ``drop`` first) so that
# the title stays readable; age and SLA always stay. At 120 columns the team shows, not the category.
COLUMNS = (
    Column("number", "Number", 10, "number"),
    Column("priority", "Priority", 9, "priority", drop=1),
    Column("status", "Status", 12, "status"),
    Column("title", "Title", 0, "title"),
    Column("requester", "Requester", 11, "requester", drop=3),
    Column("assignee", "Assignee", 11, "assignee", drop=2),
    Column("team", "Team", 12, None, drop=4),
    Column("category", "Category", 9, "category", drop=5),
    Column("age", "Age", 5, "created", reversed_arrow=True),  # newest first is the smallest age first
    Column("due", "SLA", 13, "due"),
)
SORT_CHOICES = tuple((c.header, c.sort) for c in COLUMNS if c.sort and c.key != "age") + (
    ("Created", "created"),
    ("Updated", "updated"),
)


class TicketTable(PagedTable):
    COLUMNS = COLUMNS
    EMPTY = "No tickets match this view."

    def cells(self, row: dict) -> dict[str, Text]:
        return {
            "number": Text(row["number"]),
            "priority": priority_text(row["priority"]),
            "status": status_text(row["status"], compact=True),
            "title": _titled(row),
            "requester": cell(row["requester"]),
            "assignee": cell(row["assignee"] or "—", "" if row["assignee"] else "dim"),
            "team": cell(row["team"] or "—", "" if row["team"] else "dim"),
            "category": cell(row["category"]),
            "age": Text(age(row["created_at"], self.now)),
            "due": sla_due(row, self.now),
        }


def _titled(row: dict) -> Text:
    """The title, then the ticket's tags, dim ("Printer jams  #paper #3f")."""
    text = cell(row["title"])
    if row.get("tags"):
        text.append("  " + " ".join(f"#{tag}" for tag in row["tags"]), style="dim")
    return text
