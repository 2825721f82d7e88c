"""API tokens (``:tokens``): the operator's own personal tokens for the HTTP API, to make (shown
once, valid 90 days), to make read-only, and to revoke."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
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
from itsm_tui.ui.render import cell
from itsm_tui.ui.widgets.paged_table import Column, cells_line, fit_columns, flex_for

LIFETIME = "90d"


# The list's columns (``paged_table.fit_columns``): the name takes what is left; a terminal
# narrower than 80 columns drops Last used, then Prefix (the line under the list says them).
COLUMNS = (
    Column("name", "Name", 0, None),
    Column("prefix", "Prefix", 12, None, drop=2),
    Column("state", "State", 10, None),
    Column("expires", "Expires", 10, None),
    Column("used", "Last used", 10, None, drop=1),
)
NAME_MIN = 16


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "never"


def _cells(row: ApiToken) -> dict[str, Text]:
    return {
        "name": cell(row.name),
        "prefix": cell(row.prefix),
        "state": Text(tokens.state(row), style="dim"),
        "expires": Text(_when(row.expires_at), style="dim"),
        "used": Text(_when(row.last_used_at), style="dim"),
    }


def _about(row: ApiToken) -> str:
    """The highlighted token's whole name (the list may cut it), with what a narrow list drops."""
    return f"{row.name} ({row.prefix}), made {_when(row.created_at)}, last used {_when(row.last_used_at)}"


class TokensModal(ModalBase[None]):
    BINDINGS = [
        Binding("n", "new(False)", "New token"),
        Binding("o", "new(True)", "New read-only token"),
        Binding("d,delete", "revoke", "Revoke"),
        Binding("q", "cancel", show=False),
    ]
    HINT = "n new token · o new read-only token · d revoke · esc close"
    # Wide enough at 80 columns for a token on one line: a wrapped one is copied with a line break.
    # The rows never wrap either: their columns fit the list's width (see _fill). The list is
    # short enough that at 24 lines the secret just made (3 lines) and the hint stay in the box.
    DEFAULT_CSS = """
    TokensModal #dialog { width: 100%; }
    TokensModal #shown { color: $success; width: 1fr; }
    TokensModal #columns { padding: 0 2; width: 1fr; }
    TokensModal #tokens { max-height: 30vh; text-wrap: nowrap; text-overflow: ellipsis; }
    TokensModal #about { color: $text-muted; width: 1fr; }
    """

    def __init__(self, user: User):
        super().__init__("API tokens", "For itsm-tui serve: send one as 'Authorization: Bearer <token>'")
        self.user = user
        self.rows: list[ApiToken] = []
        self.shown_id: int | None = None  # the token whose secret is on show
        self.fitted_to = -1  # the list's width its rows were last cut to

    def compose_body(self) -> ComposeResult:
        yield Label("", id="columns")
        yield OptionList(id="tokens")
        yield Label("", id="about")
        yield Label("", id="shown")
        yield ErrorLine(id="error")

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit)

    @work(exclusive=True, group="tokens", exit_on_error=False)
    async def reload(self) -> None:
        try:
            self.rows = await asyncio.to_thread(tokens.list_tokens, self.user)
        except ItsmError as exc:
            self.query_one(ErrorLine).show(str(exc))
            return
        self._fill(0 if self.rows else None)

    def _fill(self, highlighted: int | None) -> None:
        """The rows in the columns that fit the list's width, under their header."""
        options = self.query_one(OptionList)
        self.fitted_to = width = options.scrollable_content_region.width
        columns = fit_columns(COLUMNS, width, NAME_MIN, lead=0)
        flex = max(NAME_MIN, flex_for(columns, width, lead=0))

        def line(cells: dict[str, Text]) -> Text:
            text = cells_line(cells, columns, flex)
            text.rstrip()  # not the last column's space: a line as wide as the list
            return text

        header = self.query_one("#columns", Label)
        header.update(line({c.key: Text(c.header, style="bold underline") for c in columns}))
        header.display = bool(self.rows)
        options.set_options(
            [Option(line(_cells(row))) for row in self.rows]
            or [Option(Text("No tokens yet: press n to make one."), disabled=True)]
        )
        options.highlighted = highlighted
        if highlighted is None:
            self.query_one("#about", Label).update("")
        # A scroll bar that comes with the rows narrows the list: cut them again to its width.
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        options = self.query_one(OptionList)
        if self.rows and options.scrollable_content_region.width != self.fitted_to:
            self._fill(options.highlighted)

    @on(OptionList.OptionHighlighted, "#tokens")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = event.option_index
        about = _about(self.rows[index]) if 0 <= index < len(self.rows) else ""
        self.query_one("#about", Label).update(literal(about))

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
