"""Shared steps for the Pilot tests: wait for the app, log in, open a comment, a form or a
ticket, fill a form and read back what it shows."""

from __future__ import annotations

import threading
import time

from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input, Select, TextArea

from itsm_tui.ui.modals.forms import FormModal
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.screens.inventory import InventoryScreen
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.ticket import TicketScreen
from itsm_tui.ui.screens.users import UsersScreen
from itsm_tui.ui.widgets.ticket_table import TicketTable


async def until(pilot, condition, timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds (workers, timers and repaints included): it is
    checked after every 10 ms of the app's loop, and once more the screen is refreshed. The
    ``timeout`` (seconds) is wide: a loaded machine is slow, not wrong."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.01)
    await pilot.pause()


def read_handed_over_late(monkeypatch, module, name: str) -> tuple[threading.Event, list]:
    """The next call of ``module.name`` (a record screen's read) reads at once but hands its
    result over only once the returned event is set: an older read that ends after a newer
    one. The returned list holds that result as soon as it was read."""
    release, read, slow = threading.Event(), getattr(module, name), []

    def read_then_wait(*args):
        result = read(*args)
        if not slow:
            slow.append(result)
            release.wait(10)
        return result

    monkeypatch.setattr(module, name, read_then_wait)
    return release, slow


async def from_palette(pilot, text: str) -> None:
    """Run the command palette's best match for ``text`` (ctrl+p, the words, enter)."""
    await pilot.press("ctrl+p")
    await pilot.press(*text)
    await pilot.pause(0.3)  # the palette searches as it is typed
    await pilot.press("enter")


async def login(pilot, username: str, password: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen))
    await pilot.click("#username")
    pilot.app.screen.query_one("#username", Input).value = username
    pilot.app.screen.query_one("#password", Input).value = password
    pilot.app.screen.query_one("#password", Input).focus()
    await pilot.press("enter")


async def logged_in(pilot, username: str, password: str) -> TicketTable:
    await login(pilot, username, password)
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen))
    table = pilot.app.screen.query_one(TicketTable)
    await until(pilot, lambda: table.rows and not table.fetching)
    assert pilot.app.focused is table  # keys go to the list, never to the hidden filter bar
    return table


async def open_ticket(pilot, ticket_id: int) -> TicketScreen:
    await logged_in(pilot, "agent", "agent-password-1")
    pilot.app.open_ticket(ticket_id)
    await until(pilot, lambda: isinstance(pilot.app.screen, TicketScreen) and pilot.app.screen.view)
    return pilot.app.screen


async def open_comment(pilot) -> TextArea:
    """``c`` on the queue or a ticket: the comment prompt, its text area focused."""
    app = pilot.app
    await pilot.press("c")
    await until(pilot, lambda: isinstance(app.screen, TextPrompt))
    area = app.screen.query_one(TextArea)
    await until(pilot, lambda: app.focused is area)
    return area


def prompt_error(prompt) -> str:
    return str(prompt.query_one("#error").render())


async def open_form(pilot, kind: str) -> FormModal:
    """The new-``kind`` form (ticket, system or user) from the queue, logged in as an admin."""
    app = pilot.app
    section = {"system": ("inventory", InventoryScreen), "user": ("users", UsersScreen)}.get(kind)
    if section:
        app.run_command(section[0])
        await until(pilot, lambda: isinstance(app.screen, section[1]))
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, FormModal))
    return app.screen


def fill(form: FormModal, values: dict) -> None:
    """Put ``values`` (by field name or lower-case label) into the form's fields."""
    for index, field in enumerate(form.fields):
        wanted = values.get(field.name) or values.get(field.label.lower())
        if wanted is None:
            continue
        widget = form._widget(index)
        if isinstance(widget, TextArea):
            widget.text = wanted
        elif isinstance(widget, Select):
            widget.value = wanted
        else:
            widget.value = wanted


def typed(form: FormModal, values: dict) -> dict:
    """What the form holds now in the fields named in ``values``."""
    now = form.values()
    return {name: now.get(name) for name in values if name in now}


def form_message(form: FormModal) -> str:
    return str(form.query_one("#form-error").render())


async def submit_path(pilot, text: str) -> None:
    """Type ``text`` into the file dialog's path and press enter."""
    field = pilot.app.screen.query_one("#path", Input)
    field.value = text
    field.focus()
    await pilot.press("enter")
    await pilot.pause()


def shown(widget) -> str:
    return str(widget.render())


def screen_text(app) -> str:
    """What the terminal would show for the active screen, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def everything_shown(app) -> str:
    """The text of every screen on the stack (labels, fields, toasts)."""
    parts = []
    for screen in app.screen_stack:
        for widget in screen.query("Static, Label"):
            parts.append(str(widget.render()))
        for field in screen.query(Input):
            if not field.password:
                parts.append(field.value)
        for area in screen.query(TextArea):
            parts.append(area.text)
    parts += [n.message for n in app._notifications]
    return "\n".join(parts)


NAMED = ("ctrl+u", "backspace", "escape", "enter", "space", "down", "up")


def burst(app, *parts: str) -> None:
    """Keys as a terminal delivers a fast burst (one read): named as Textual's driver names
    them (``/`` is "slash"), posted at once, with nothing waiting in between. A part is a
    named key or text."""
    for part in parts:
        if part in NAMED:
            app.post_message(events.Key(part, "\r" if part == "enter" else " " if part == "space" else None))
            continue
        for char in part:
            if char == "\r":
                app.post_message(events.Key("enter", "\r"))
            else:
                app.post_message(events.Key(_character_to_key(char), char))
