"""The top line of every screen: who is logged in, as what, on which database."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from itsm_tui.ui.render import literal


class Frame(Static):
    DEFAULT_CSS = """
    Frame { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        app = self.app
        line = Text()
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
        line.append("   ")
        line.append_text(literal(app.database_label, "dim"))
        line.append("   ? keys  : command  ctrl+p palette", style="dim")
        self.update(line, layout=False)  # one line, always: no layout of the screen needed
