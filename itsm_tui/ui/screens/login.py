"""The login screen. bcrypt runs in a thread, so the screen keeps drawing while it hashes."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from itsm_tui.core.errors import AuthError, ValidationError
from itsm_tui.core.mail import signup
from itsm_tui.core.people import auth
from itsm_tui.core.store.db_errors import DATABASE_ERRORS
from itsm_tui.ui.failures import SaysFailedWorkers, db_message
from itsm_tui.ui.inputs import TypeAheadInput
from itsm_tui.ui.modals.forms import FormField, ThreadedFormModal
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.render import literal


class LoginScreen(SaysFailedWorkers, Screen):
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen #box { width: 60; height: auto; border: round $accent; padding: 1 2; }
    LoginScreen #brand { text-style: bold; color: $accent; margin-bottom: 1; }
    LoginScreen Input { margin-bottom: 1; }
    LoginScreen #error { color: $error; height: auto; min-height: 1; }
    LoginScreen #where { color: $text-muted; margin-top: 1; }
    """
    AUTO_FOCUS = "#username"

    def __init__(self, database_label: str, hint: str = "") -> None:
        super().__init__()
        self.database_label = database_label
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(id="box"):
                yield Label("itsm-tui — sign in", id="brand")
                yield TypeAheadInput(placeholder="username", id="username", enter_advances=True)
                yield TypeAheadInput(placeholder="password", password=True, id="password")
                yield Button("Log in", variant="primary", id="login")
                if signup.enabled():
                    yield Button("Sign up with your e-mail address", id="signup")
                yield Static("", id="error")
                yield Static(literal(f"Database: {self.database_label}"), id="where")
                if self.hint:
                    yield Static(literal(self.hint), id="hint")

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login")
    async def attempt(self) -> None:
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        error = self.query_one("#error", Static)
        button = self.query_one("#login", Button)
        if not username or not password:
            error.update(literal("Enter a username and a password."))
            return
        button.disabled = True
        error.update(literal("Checking…"))
        try:
            user = await asyncio.to_thread(auth.login, username, password)
        except AuthError as exc:
            error.update(literal(str(exc)))
            self.query_one("#password", Input).value = ""
            self.query_one("#password", Input).focus()
            return
        except DATABASE_ERRORS as exc:  # not the password's fault: both fields stay as typed
            error.update(literal(db_message(exc, "could not log in")))
            return
        finally:
            button.disabled = False
        error.update("")
        self.app.logged_in(user)

    @on(Button.Pressed, "#signup")
    @work(exclusive=True, group="signup", exit_on_error=False)
    async def sign_up(self) -> None:
        """Self-service sign-up: the address, then the mailed code and a new password."""
        address = await self.app.push_screen_wait(
            TextPrompt(
                "Sign up",
                "Your e-mail address: a one-time code will be mailed to it",
                multiline=False,
                submit=_ask_code,
            )
        )
        if not address:
            return
        user = await self.app.push_screen_wait(
            ThreadedFormModal(
                "Sign up: set your password",
                [
                    FormField("code", "Code (mailed if sign-up is open to the address)", required=True),
                    FormField("password", "Password", kind="password", required=True),
                    FormField("password again", "Password again", kind="password", required=True),
                ],
                lambda values: _complete(address, values),
            )
        )
        if user is None:
            return
        self.query_one("#username", Input).value = user.username
        self.query_one("#password", Input).focus()
        self.query_one("#error", Static).update(literal(f"Your account is ready: log in as {user.username}."))


def _ask_code(text: str, key: str | None) -> str:
    signup.request_code(text)
    return text.strip()


def _complete(address: str, values: dict):
    if values["password"] != values["password again"]:
        raise ValidationError("the two passwords differ", "password again")
    return signup.complete(address, values["code"], values["password"])
