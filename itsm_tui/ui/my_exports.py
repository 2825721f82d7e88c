"""My exports (``:exports``): the files in the operator's own export folder, to delete or, when
SMTP is configured, to e-mail to their address. On a shared host this is how an export reaches
the person who made it (they cannot browse the server's disks)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from itsm_tui.core import files
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.notify import mailer
from itsm_tui.core.text import strip_controls
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine, ModalBase


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:,} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


class MyExportsModal(ModalBase[None]):
    BINDINGS = [
        Binding("d,delete", "delete", "Delete"),
        Binding("m", "mail", "E-mail it to me"),
        Binding("r", "reload", "Refresh"),
        Binding("q", "cancel", show=False),
    ]
    DEFAULT_CSS = "MyExportsModal OptionList { height: auto; max-height: 60vh; }"

    def __init__(self, username: str, email: str | None):
        self.mail_on = mailer.settings() is not None and bool(email)
        self.HINT = "d delete · " + ("m e-mail it to me · " if self.mail_on else "") + "esc close"
        super().__init__("My exports")
        self.username, self.email = username, email
        self.entries: list[files.Entry] = []

    def compose_body(self) -> ComposeResult:
        yield OptionList(id="files")
        yield ErrorLine(id="error")

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        error = self.query_one(ErrorLine)
        try:
            self.entries = files.listing(files.EXPORTS, self.username)
        except (OSError, ItsmError) as exc:
            error.show(f"cannot read your export folder: {exc}")
            return
        options = self.query_one(OptionList)
        width = max((len(strip_controls(e.name)) for e in self.entries), default=0)
        options.set_options(
            [
                Option(
                    Text.assemble(
                        strip_controls(e.name).ljust(width),
                        "  ",
                        (f"{_size(e.size):>10}  {e.modified:%Y-%m-%d %H:%M}", "dim"),
                    )
                )
                for e in self.entries
            ]
            or [Option(Text(self._nothing()), disabled=True)]
        )
        options.highlighted = 0 if self.entries else None

    def _nothing(self) -> str:
        if files.served():
            return "No exports yet: press e (or E) on a list, a ticket or a system."
        # Not on a shared host: an export goes where its dialog's "Save to" says, never here.
        start = files.start_folder(files.EXPORTS, self.username)
        return (
            "Nothing here: this list is a shared server's export folder. On this computer an "
            f"export is saved where its dialog's Save to says ({strip_controls(str(start))} first)."
        )

    def _chosen(self) -> files.Entry | None:
        index = self.query_one(OptionList).highlighted
        return self.entries[index] if index is not None and index < len(self.entries) else None

    def action_delete(self) -> None:
        entry = self._chosen()
        if entry is None:
            return
        self.app.push_screen(
            ConfirmModal(
                "Delete export?", f"Delete {entry.name}? It cannot be undone.", yes="Delete", no="Keep it"
            ),
            lambda yes: self._delete(entry, yes),
        )

    def _delete(self, entry: files.Entry, confirmed: bool) -> None:
        if not confirmed:
            return
        try:
            files.delete(files.EXPORTS, self.username, entry.name)
        except (OSError, ItsmError) as exc:
            self.query_one(ErrorLine).show(str(exc))
            return
        self.app.notify(f"Deleted {entry.name}")
        self.action_reload()

    @work(exclusive=True, group="mail-export", exit_on_error=False)
    async def action_mail(self) -> None:
        entry = self._chosen()
        error = self.query_one(ErrorLine)
        if entry is None:
            return
        if not self.mail_on:
            error.show("E-mail is not set up on this server, or your account has no address.")
            return
        error.show(f"Sending {entry.name} to {self.email}…")
        try:
            await asyncio.to_thread(files.mail_export, self.username, entry.name, self.email)
        except (OSError, ItsmError) as exc:
            error.show(f"could not send {entry.name}: {exc}")
            return
        error.clear()
        self.app.notify(f"Sent {entry.name} to {self.email}")
