"""API tokens (``:tokens``): the operator's own personal tokens for the HTTP API, to make (shown
once, valid 90 days), to make read-only, and to revoke."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from itsm_tui.core.errors import ItsmError
from itsm_tui.core.people import tokens
from itsm_tui.core.store.models import ApiToken, User
from itsm_tui.core.text import strip_controls
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine, ModalBase, literal
from itsm_tui.ui.modals.prompts import TextPrompt

LIFETIME = "90d"


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "never"


def _line(row: ApiToken) -> Text:
    state = "revoked" if row.revoked_at else "read-only" if row.read_only else "read-write"
    return Text.assemble(
        f"{row.prefix}  ",
        strip_controls(row.name).ljust(24),
        (f"  {state:<10}  expires {_when(row.expires_at)}  last used {_when(row.last_used_at)}", "dim"),
    )


class TokensModal(ModalBase[None]):
    BINDINGS = [
        Binding("n", "new(False)", "New token"),
        Binding("o", "new(True)", "New read-only token"),
        Binding("d,delete", "revoke", "Revoke"),
        Binding("q", "cancel", show=False),
    ]
    HINT = "n new token · o new read-only token · d revoke · esc close"
    # Wide enough at 80 columns for a token on one line: a wrapped one is copied with a line break.
    DEFAULT_CSS = """
    TokensModal #dialog { width: 100%; }
    TokensModal #shown { color: $success; width: 1fr; }
    """

    def __init__(self, user: User):
        super().__init__("API tokens", "For itsm-tui serve: send one as 'Authorization: Bearer <token>'")
        self.user = user
        self.rows: list[ApiToken] = []
        self.shown_id: int | None = None  # the token whose secret is on show

    def compose_body(self) -> ComposeResult:
        yield OptionList(id="tokens")
        yield Label("", id="shown")
        yield ErrorLine(id="error")

    def on_mount(self) -> None:
        self.reload()

    @work(exclusive=True, group="tokens", exit_on_error=False)
    async def reload(self) -> None:
        try:
            self.rows = await asyncio.to_thread(tokens.list_tokens, self.user)
        except ItsmError as exc:
            self.query_one(ErrorLine).show(str(exc))
            return
        options = self.query_one(OptionList)
        options.set_options(
            [Option(_line(row)) for row in self.rows]
            or [Option(Text("No tokens yet: press n to make one."), disabled=True)]
        )
        options.highlighted = 0 if self.rows else None

    def action_new(self, read_only: bool) -> None:
        kind = "read-only token" if read_only else "token"

        def make(name: str, _key: str | None):
            return tokens.create(self.user, name, tokens.parse_expiry(LIFETIME), read_only)

        self.app.push_screen(
            TextPrompt(
                f"New {kind}",
                "What is it for? (e.g. monitoring)",
                multiline=False,
                max_length=60,
                submit=make,
            ),
            self._made,
        )

    def _made(self, made: tuple[ApiToken, str] | None) -> None:
        if made is None:
            return
        row, token = made
        self.shown_id = row.id
        self.query_one(ErrorLine).clear()
        shown = f"{row.name}:\n{token}\nCopy it now: it is shown only once (valid {LIFETIME})."
        self.query_one("#shown", Label).update(literal(shown, multiline=True))
        self.reload()

    def action_revoke(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.rows):
            return
        row = self.rows[index]
        if row.revoked_at:
            self.query_one(ErrorLine).show(f"{row.name} ({row.prefix}) is already revoked.")
            return
        self.app.push_screen(
            ConfirmModal(
                "Revoke token?",
                f"Revoke {row.name} ({row.prefix})? Anything using it stops working.",
                yes="Revoke",
                no="Keep it",
            ),  # fmt: skip
            lambda yes: self._revoke(row, yes),
        )

    @work(exclusive=True, group="tokens-revoke", exit_on_error=False)
    async def _revoke(self, row: ApiToken, confirmed: bool | None) -> None:
        if not confirmed:
            return
        try:
            await asyncio.to_thread(tokens.revoke, self.user, row.id)
        except ItsmError as exc:
            self.query_one(ErrorLine).show(str(exc))
            return
        self.app.notify(f"Revoked {strip_controls(row.name)}", markup=False)
        if row.id == self.shown_id:  # its secret is no longer one to copy
            self.shown_id = None
            self.query_one("#shown", Label).update("")
        self.query_one(ErrorLine).clear()
        self.reload()
