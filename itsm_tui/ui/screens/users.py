"""User administration (admins): list, create, edit, disable/enable, reset passwords, unlock.

Every change goes through ``core.users``, which checks the role, keeps the last active admin an
admin and writes the audit entry. Generated passwords are shown once and kept nowhere.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from itsm_tui.core import clock
from itsm_tui.core.errors import ConflictError, PermissionDenied, ValidationError
from itsm_tui.core.people import users
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store.db_errors import DATABASE_ERRORS
from itsm_tui.core.store.models import ROLES, Department, User
from itsm_tui.core.tickets.queue import END, Cursor, Page
from itsm_tui.ui.failures import SHOWN_ERRORS, read_failed, said
from itsm_tui.ui.messages import RowOpened, RowsLoaded
from itsm_tui.ui.modals.base import ConfirmModal
from itsm_tui.ui.modals.draft_keeper import Draft
from itsm_tui.ui.modals.forms import FormField, ThreadedFormModal
from itsm_tui.ui.modals.panels import MessageModal
from itsm_tui.ui.render import literal, one_line, when
from itsm_tui.ui.table_screen import TableScreen
from itsm_tui.ui.widgets.filter_bar import FilterInput
from itsm_tui.ui.widgets.frame import Frame
from itsm_tui.ui.widgets.log_table import UserTable, ago

GENERATE_HINT = "leave empty to generate one (shown once)"


def generate_password() -> str:
    """16 URL-safe characters (96 random bits): above the 12-character minimum."""
    return secrets.token_urlsafe(12)


@dataclass
class Conflict:
    """An edit lost the optimistic-lock race: the message says who changed what."""

    message: str


@dataclass
class PasswordSet:
    username: str
    generated: str | None  # None: the admin typed it


def _password_from(values: dict) -> tuple[str, str | None]:
    """The typed password (checked against its repetition), or a generated one."""
    typed, again = values.get("password", ""), values.get("password again", "")
    if not typed and not again:
        password = generate_password()
        return password, password
    if typed != again:
        raise ValidationError("the two passwords differ", "password again")
    return typed, None


def read_users(actor: User) -> list[dict]:
    """Every user as a row of the list (runs in a thread; two queries)."""
    departments = {d.id: d.name for d in Department.select(Department.id, Department.name)}
    rows = []
    for u in users.list_users(actor):
        rows.append(
            {
                "id": u.id,
                "username": u.username,
                "full_name": u.full_name,
                "email": u.email,
                "role": u.role,
                "department": departments.get(u.department_id),
                "is_active": bool(u.is_active),
                "locked_until": u.locked_until,
                "failed_logins": u.failed_logins,
                "last_login_at": u.last_login_at,
                "created_at": u.created_at,
                "version": u.version,
                "_cursor": Cursor(u.username, u.id),
            }
        )
    return rows


def page_of(rows: list[dict], after: Cursor | None, before: Cursor | None, limit: int) -> Page:
    """Keyset paging over rows sorted by (username, id), like the database pages."""

    def key(row):
        return (row["username"], row["id"])

    rows = sorted(rows, key=key)
    if before is not None:
        if before != END:
            rows = [r for r in rows if key(r) < (before.value, before.id)]
        return Page(rows[-limit:] if limit else [], len(rows) > limit)
    if after is not None:
        rows = [r for r in rows if key(r) > (after.value, after.id)]
    return Page(rows[:limit], len(rows) > limit)


def matches(row: dict, needle: str) -> bool:
    if not needle:
        return True
    haystack = " ".join(str(row[k] or "") for k in ("username", "full_name", "email", "role", "department"))
    haystack += " active" if row["is_active"] else " disabled"
    if row["locked_until"] is not None and row["locked_until"] > clock.now():
        haystack += " locked"
    return all(word in haystack.casefold() for word in needle.casefold().split())


class UsersScreen(TableScreen):
    BINDINGS = [
        Binding("n", "create", "New user"),
        Binding("e", "edit", "Edit"),
        Binding("x", "toggle_active", "Disable/enable"),
        Binding("p", "reset_password", "Reset password"),
        Binding("u", "unlock", "Unlock"),
        Binding("slash", "filter", "Find"),
        Binding("r", "reload", "Refresh"),
        Binding("escape", "back", "Back", show=False),
    ]

    frame_title = "Users"
    LOAD_FAILED = "Could not load the users"

    def __init__(self) -> None:
        super().__init__()
        self.filter_text = ""
        self.total: int | None = None
        self.allowed = False

    def compose(self) -> ComposeResult:
        yield Frame()
        yield FilterInput(
            placeholder="find users: words in username, name, e-mail, role, department; "
            "'disabled', 'locked'  (Escape closes)",
            id="filter",
        )
        yield from self.compose_table(UserTable(self._load_page, id="table"))

    # ------------------------------------------------------------ data

    @work(exclusive=True, group="users-start", exit_on_error=False)
    async def _start(self) -> None:
        try:
            await asyncio.to_thread(require, self.user, "user.manage")
        except PermissionDenied as exc:
            self.app.notify(f"User administration is for admins only: {exc}", severity="error")
            self._leave()
            return
        except SHOWN_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error", title="Could not read the users")
            return
        self.allowed = True
        self.table.reload()

    def _load_page(self, after, before, limit) -> Page:
        """Runs in the table's worker thread."""
        rows = [r for r in read_users(self.user) if matches(r, self.filter_text)]
        self.total = len(rows)
        return page_of(rows, after, before, limit)

    def _status_line(self) -> None:
        line = Text()
        line.append("Users", style="bold")
        if self.filter_text:
            line.append("  ·  matching ")
            line.append_text(literal(one_line(self.filter_text), "italic"))
        if self.total is not None:
            line.append(f"  ·  {self.total:,} user{'s' if self.total != 1 else ''}")
        line.append("  ·  sorted by username", style="dim")
        self.query_one("#status-line", Static).update(line)

    def _selected_line(self, row: dict | None) -> None:
        line = Text()
        if row is None:
            line.append("No user selected.", style="dim")
        else:
            line.append_text(literal(one_line(row["username"]), "bold"))
            line.append("  ·  ")
            line.append_text(literal(one_line(row["email"] or "no e-mail")))
            line.append(f"  ·  {row['failed_logins']} failed login{'s' if row['failed_logins'] != 1 else ''}")
            line.append(f"  ·  last login {when(row['last_login_at'])}")
            if row["locked_until"] is not None and row["locked_until"] > clock.now():
                line.append(
                    f"  ·  LOCKED until {row['locked_until']:%Y-%m-%d %H:%M} UTC (u unlocks)",
                    style="bold yellow",
                )
            if not row["is_active"]:
                line.append("  ·  DISABLED (x enables)", style="bold red")
        self.query_one("#selected", Static).update(line)

    def _periodic_refresh(self) -> None:
        if self.app.screen is self and self.allowed and not self.table.read_lately():
            self.table.refresh_window()

    def action_reload(self) -> None:
        if self.allowed:
            self.table.refresh_window(force=True)

    def after_change(self, keep_id: int | None = None) -> None:
        keep = keep_id if keep_id is not None else (self.table.current or {}).get("id")
        self.table.refresh_window(keep_id=keep, force=True)
        self.app.changed()

    @on(RowsLoaded)
    def _loaded(self) -> None:
        self._status_line()
        self._selected_line(self.table.current)

    # ------------------------------------------------------------ find

    def apply_filter(self, text: str, close: bool) -> None:
        if text != self.filter_text and self.allowed:
            self.filter_text = text
            self.table.reload()
        if close:
            self.close_filter_with_rows()

    # ------------------------------------------------------------ actions

    def _target(self) -> dict | None:
        row = self.table.current
        if row is None:
            self.app.notify("No user selected.", severity="warning")
        return row

    async def _departments(self) -> list[tuple[str, str]]:
        names = await asyncio.to_thread(
            lambda: [d.name for d in Department.select(Department.name).order_by(Department.name)]
        )
        return [(name, name) for name in names]

    @on(RowOpened)
    def _opened(self, event: RowOpened) -> None:
        row = next((r for r in self.table.rows if r["id"] == event.row_id), None)
        if row is None:
            return
        now = clock.now()
        locked = row["locked_until"] is not None and row["locked_until"] > now
        lines = [
            f"Username      {one_line(row['username'])}",
            f"Full name     {one_line(row['full_name'])}",
            f"E-mail        {one_line(row['email'] or '—')}",
            f"Role          {row['role']}",
            f"Department    {one_line(row['department'] or '—')}",
            f"Status        {'active' if row['is_active'] else 'disabled'}",
            f"Locked until  {when(row['locked_until']) + ' UTC' if locked else '—'}",
            f"Failed logins {row['failed_logins']}",
            f"Last login    {when(row['last_login_at'])}"
            + (f" UTC ({ago(row['last_login_at'], now)})" if row["last_login_at"] else ""),
            f"Created       {when(row['created_at'])} UTC",
            "",
            "e edit · x disable/enable · p reset password · u unlock",
        ]
        self.app.push_screen(MessageModal(f"User {one_line(row['username'])}", lines))

    @work(exclusive=True, group="users-action", exit_on_error=False)
    async def action_create(self) -> None:
        if not self.allowed:
            return
        try:
            departments = await self._departments()
        except DATABASE_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error")
            return
        actor = self.user

        def submit(values: dict) -> tuple[PasswordSet, int]:
            password, generated = _password_from(values)
            created = users.create_user(
                actor,
                values["username"],
                values["role"],
                full_name=values["full name"] or None,
                password=password,
                email=values["email"],
                department=values["department"] or None,
            )
            return PasswordSet(created.username, generated), created.id

        result = await self.app.push_screen_wait(
            ThreadedFormModal(
                "New user",
                [
                    FormField("username", "Username", required=True, placeholder="e.g. jdoe"),
                    FormField("full name", "Full name", placeholder="defaults to the username"),
                    FormField("email", "E-mail"),
                    FormField(
                        "role",
                        "Role",
                        kind="select",
                        options=[(r, r) for r in ROLES],
                        value="requester",
                        required=True,
                    ),
                    FormField(
                        "department", "Department", kind="select", options=departments, placeholder="(none)"
                    ),
                    FormField("password", "Password", kind="password", placeholder=GENERATE_HINT),
                    FormField(
                        "password again",
                        "Password again",
                        kind="password",
                        placeholder="type it again (empty when generating)",
                    ),
                ],
                submit,
                draft=Draft(actor.username, "user:new"),
            )
        )
        if result is None:
            return
        done, user_id = result
        self.app.notify(f"Created user {done.username}")
        self.after_change(user_id)
        if done.generated:
            await self._show_password(done)

    async def _show_password(self, done: PasswordSet) -> None:
        await self.app.push_screen_wait(
            MessageModal(
                f"Password for {done.username}",
                [
                    f"The new password of {done.username} is shown only this once:",
                    "",
                    f"    {done.generated}",
                    "",
                    "Hand it over by a safe channel. It is not stored anywhere in readable form.",
                ],
            )
        )

    @work(exclusive=True, group="users-action", exit_on_error=False)
    async def action_edit(self) -> None:
        row = self._target() if self.allowed else None
        if row is None:
            return
        try:
            departments = await self._departments()
        except DATABASE_ERRORS as exc:
            self.app.notify(read_failed(exc), severity="error")
            return
        actor, user_id, version = self.user, row["id"], row["version"]

        def submit(values: dict):
            try:
                return users.update_user(
                    actor,
                    user_id,
                    version,
                    full_name=values["full name"],
                    email=values["email"],
                    role=values["role"],
                    department=values["department"] or None,
                )
            except ConflictError as exc:
                return Conflict(str(exc))

        result = await self.app.push_screen_wait(
            ThreadedFormModal(
                f"Edit user {one_line(row['username'])}",
                [
                    FormField("full name", "Full name", value=row["full_name"], required=True),
                    FormField("email", "E-mail", value=row["email"] or ""),
                    FormField(
                        "role",
                        "Role",
                        kind="select",
                        options=[(r, r) for r in ROLES],
                        value=row["role"],
                        required=True,
                    ),
                    FormField(
                        "department",
                        "Department",
                        kind="select",
                        options=departments,
                        value=row["department"] or "",
                        placeholder="(none)",
                    ),
                ],
                submit,
                draft=Draft(actor.username, f"user:{user_id}"),
            )
        )
        await self._finish(result, user_id, f"Saved user {one_line(row['username'])}")

    async def _finish(self, result, user_id: int, message: str) -> None:
        if result is None:
            return
        if isinstance(result, Conflict):
            self.after_change(user_id)
            await self.app.push_screen_wait(
                MessageModal(
                    "Changed by someone else",
                    [result.message, "", "The list has been reloaded: look at the user again and retry."],
                )
            )
            return
        self.app.notify(message)
        self.after_change(user_id)

    @work(exclusive=True, group="users-action", exit_on_error=False)
    async def action_toggle_active(self) -> None:
        row = self._target() if self.allowed else None
        if row is None:
            return
        name = one_line(row["username"])
        if row["is_active"]:
            question = f"Disable {name}? They can no longer log in; their tickets and history stay." + (
                " You are disabling your own account." if row["id"] == self.user.id else ""
            )
            title, yes = "Disable user", "Disable"
        else:
            question, title, yes = (
                f"Enable {name} again? They can log in with their password.",
                "Enable user",
                "Enable",
            )
        if not await self.app.push_screen_wait(ConfirmModal(title, question, yes=yes, no="Cancel")):
            return
        try:
            await asyncio.to_thread(
                users.update_user, self.user, row["id"], row["version"], is_active=not row["is_active"]
            )
        except ConflictError as exc:
            await self._finish(Conflict(str(exc)), row["id"], "")
            return
        except PermissionDenied as exc:
            await self.app.push_screen_wait(MessageModal("Not allowed", [str(exc)]))
            return
        except SHOWN_ERRORS as exc:
            self.app.notify(said(exc), severity="error")
            return
        self.app.notify(f"{'Disabled' if row['is_active'] else 'Enabled'} {name}")
        self.after_change(row["id"])

    @work(exclusive=True, group="users-action", exit_on_error=False)
    async def action_reset_password(self) -> None:
        row = self._target() if self.allowed else None
        if row is None:
            return
        actor, user_id, name = self.user, row["id"], one_line(row["username"])

        def submit(values: dict) -> PasswordSet:
            password, generated = _password_from(values)
            users.reset_password(actor, user_id, password)
            return PasswordSet(name, generated)

        done = await self.app.push_screen_wait(
            ThreadedFormModal(
                f"Reset the password of {name}",
                [
                    FormField("password", "New password", kind="password", placeholder=GENERATE_HINT),
                    FormField(
                        "password again",
                        "New password again",
                        kind="password",
                        placeholder="type it again (empty when generating)",
                    ),
                ],
                submit,
            )
        )
        if done is None:
            return
        self.app.notify(
            "Your password is set: your other sessions end, this one goes on"
            if user_id == actor.id
            else f"Password of {name} reset: the account is unlocked and its open sessions end"
            " (its API tokens keep working)"
        )
        self.after_change(user_id)
        if done.generated:
            await self._show_password(done)

    @work(exclusive=True, group="users-action", exit_on_error=False)
    async def action_unlock(self) -> None:
        row = self._target() if self.allowed else None
        if row is None:
            return
        name = one_line(row["username"])
        if row["locked_until"] is None or row["locked_until"] <= clock.now():
            self.app.notify(f"{name} is not locked.")
            return
        try:
            await asyncio.to_thread(users.unlock, self.user, row["id"])
        except SHOWN_ERRORS as exc:
            self.app.notify(said(exc), severity="error")
            return
        self.app.notify(f"Unlocked {name}")
        self.after_change(row["id"])
