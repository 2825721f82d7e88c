"""First run: no database yet at the embedded default. Offer to create one (with demo data)."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Static

from itsm_tui.core import demo, setup
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.people import users
from itsm_tui.core.store.db_errors import DATABASE_ERRORS
from itsm_tui.core.store.models import User
from itsm_tui.ui.failures import SaysFailedWorkers, db_message
from itsm_tui.ui.modals.forms import FormField, FormModal
from itsm_tui.ui.render import literal
from itsm_tui.ui.widgets.footer import KeyFooter


class SetupScreen(SaysFailedWorkers, Screen):
    DEFAULT_CSS = """
    SetupScreen { align: center middle; }
    SetupScreen #box { width: 76; height: auto; border: round $accent; padding: 1 2; }
    """
    BINDINGS = [
        Binding("d", "create(True)", "Create with demo data"),
        Binding("e", "create(False)", "Create empty"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, url: str, label: str, *, exists: bool = False) -> None:
        super().__init__()
        self.url, self.label = url, label
        self.exists = exists  # the file is there, but nobody can log in yet

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(id="box"):
                yield Static(literal("Welcome to itsm-tui", "bold"))
                if self.exists:
                    yield Static(
                        literal(
                            f"\nThe database has no admin account yet, so nobody can log in:\n"
                            f"{self.label}\n(an earlier start stopped before the first admin "
                            "was created)\n"
                        )
                    )
                else:
                    yield Static(literal(f"\nThere is no database yet:\n{self.label}\n"))
                yield Static(
                    literal(
                        "d  create it with demo data, to try the product\n"
                        "   (users admin, supervisor, agent1..agent5, user1..user20;\n"
                        "   every password is itsm-demo-pass)\n"
                        "e  create an empty one and its first admin account\n"
                        "q  quit"
                    )
                )
                yield Static("", id="progress")
        yield KeyFooter()

    @work(exclusive=True, exit_on_error=False)
    async def action_create(self, with_demo: bool) -> None:
        progress = self.query_one("#progress", Static)
        progress.update(literal("\nCreating the database…"))
        try:
            await asyncio.to_thread(_initialise, self.url)
            system = users.system_actor()
            if with_demo:
                progress.update(literal("\nLoading the demo desk (a few seconds)…"))
                await asyncio.to_thread(demo.seed_demo, system)
        except ItsmError as exc:
            progress.update(literal(f"\n{exc}"))
            return
        except DATABASE_ERRORS as exc:
            progress.update(literal(f"\n{db_message(exc, 'press d or e to try again')}"))
            return
        if with_demo:
            self.app.show_login(
                hint="Demo accounts: admin, supervisor, agent1..agent5, user1..user20 "
                "— password itsm-demo-pass"
            )
            return
        created = await self.app.push_screen_wait(
            FormModal(
                "Create the first admin",
                [
                    FormField("username", "Username", required=True, value="admin"),
                    FormField("full_name", "Full name", value="Administrator"),
                    FormField("password", "Password (12+ characters)", kind="password", required=True),
                ],
                submit=lambda v: users.create_user(
                    system, v["username"], "admin", full_name=v["full_name"], password=v["password"]
                ),
            )
        )
        if created is None:
            progress.update(literal("\nThe database exists but has no admin yet: press e again."))
            return
        self.app.show_login(hint=f"Log in as {created.username}.")


def no_admin_yet() -> bool:
    """The open database has no admin who can log in (the built-in system account cannot): a
    first start that stopped before creating one."""
    return (
        not User.select()
        .where(
            User.role == "admin",
            User.is_active == True,  # noqa: E712
            User.password_hash.is_null(False),
        )
        .exists()
    )


def _initialise(url: str) -> None:
    setup.open_database(url, check=False)
    setup.initialise()
