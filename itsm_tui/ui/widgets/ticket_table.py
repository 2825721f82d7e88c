"""The ticket list: the columns of the queue over the paged table."""

from __future__ import annotations

from rich.text import Text

from ..render import age, literal, one_line, priority_text, sla_due, status_text
from .paged_table import Column, PagedTable

COLUMNS = (
    Column("number", "Number", 10, "number"),
    Column("priority", "Priority", 9, "priority"),
    Column("status", "Status", 12, "status"),
    Column("title", "Title", 0, "title"),
    Column("requester", "Requester", 11, "requester"),
    Column("assignee", "Assignee", 11, "assignee"),
    Column("category", "Category", 9, "category"),
    Column("age", "Age", 5, "created"),
    Column("due", "SLA due", 10, "due"),
)


class TicketTable(PagedTable):
    COLUMNS = COLUMNS
    EMPTY = "No tickets match this view."

    def cells(self, row: dict) -> dict[str, Text]:
        return {
            "number": Text(row["number"]),
            "priority": priority_text(row["priority"]),
            "status": status_text(row["status"], compact=True),
            "title": literal(one_line(row["title"])),
            "requester": literal(row["requester"]),
            "assignee": literal(row["assignee"] or "—", "" if row["assignee"] else "dim"),
            "category": literal(row["category"]),
            "age": Text(age(row["created_at"], self.now)),
            "due": sla_due(row, self.now),
        }
