"""The view picker (``v``): choose a view; ctrl+r renames and ctrl+d deletes a saved one."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import OptionList

from itsm_tui.ui.modals.base import ErrorLine
from itsm_tui.ui.modals.pickers import ChoicePicker


class ViewPicker(ChoicePicker):
    """Dismisses with a view, or with ("rename" | "delete", view) for the queue to carry out."""

    BINDINGS = [
        Binding("ctrl+r", "manage('rename')", "Rename", show=False, priority=True),
        Binding("ctrl+d", "manage('delete')", "Delete", show=False, priority=True),
    ]
    HINT = "type to filter · enter choose · ctrl+r rename · ctrl+d delete (saved views) · esc cancel"

    def __init__(self, views) -> None:
        super().__init__("Views", [(v.name + ("" if v.builtin else "  (saved)"), v) for v in views])

    def action_manage(self, what: str) -> None:
        index = self.query_one(OptionList).highlighted
        view = self.values[index] if index is not None and index < len(self.values) else None
        if view is None:
            return
        if view.builtin:
            self.query_one(ErrorLine).show(
                f"{view.name!r} is built in: only saved views can be renamed or deleted"
            )
            return
        self.dismiss((what, view))
