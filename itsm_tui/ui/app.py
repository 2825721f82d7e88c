"""The Textual app: start-up, login, screen switching, the command line and notifications."""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import re
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlparse

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from itsm_tui.core import config, jobs, logs, setup
from itsm_tui.core.errors import ItsmError, NotFound, SchemaError
from itsm_tui.core.inventory import devices
from itsm_tui.core.labels import counted
from itsm_tui.core.notify import notifications
from itsm_tui.core.people.permissions import SessionEnded, a_role, allowed
from itsm_tui.core.store import db
from itsm_tui.core.store.db_errors import DATABASE_ERRORS, ROW_GONE, reason
from itsm_tui.core.store.models import User
from itsm_tui.core.text import strip_controls
from itsm_tui.core.tickets import assignment, views
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.rules import typed_number
from itsm_tui.ui import crash, keys
from itsm_tui.ui.failures import said
from itsm_tui.ui.inputs import clean_pastes
from itsm_tui.ui.messages import NotificationsPolled
from itsm_tui.ui.modals.panels import HelpModal, MessageModal
from itsm_tui.ui.modals.pickers import ChoicePicker
from itsm_tui.ui.modals.prompts import TextPrompt
from itsm_tui.ui.opening import forget_reused_screens
from itsm_tui.ui.render import one_line
from itsm_tui.ui.screens.login import LoginScreen
from itsm_tui.ui.screens.queue import QueueScreen
from itsm_tui.ui.screens.setup import SetupScreen, no_admin_yet
from itsm_tui.ui.screens.ticket import open_ticket
from itsm_tui.ui.sla_monitor import SlaMonitor
from itsm_tui.ui.widgets.filter_bar import FilterError, FilterInput
from itsm_tui.ui.widgets.paged_table import PagedTable

NOTIFICATION_POLL_SECONDS = 5.0
IDLE_CHECK_SECONDS = 15.0
FIELD_OPENERS = {"filter", "command_line"}  # actions whose key opens a text field
SCREEN_OPENERS = {f"run_command('{name}')" for name in ("queue", "inventory", "log", "analytics")}  # 1-4
HOLD_POLL_SECONDS = 0.01
HOLD_MAX_SECONDS = 1.0  # a field that never takes the focus does not swallow the keys
HANG_UP_GRACE_SECONDS = 3.0  # a clean exit that takes longer (a dead terminal) is cut short
NEEDS_TERMINAL = "itsm-tui needs a terminal: connect with ssh -t"
# Served, the desk is set up on the host, never from an operator's session.
ADMIN_STEPS = (
    "on the host, an administrator runs `itsm-tui init` and `itsm-tui user add NAME --role admin` "
    "(it asks for a password; `itsm-tui user password NAME` sets one later)"
)
# name -> (permission, module, screen class); imported when first opened
SECTIONS = {
    "inventory": ("inventory.view", ".screens.inventory", "InventoryScreen"),
    "log": ("audit.view_work", ".screens.log", "LogScreen"),
    "users": ("user.manage", ".screens.users", "UsersScreen"),
    "analytics": ("analytics.view_own", ".screens.analytics", "AnalyticsScreen"),
    "import": ("import.run", ".screens.import_screen", "ImportScreen"),
    "categories": ("category.manage", ".screens.categories", "CategoriesScreen"),  # issue 21
    "teams": ("team.manage", ".modals.teamwork", "TeamsModal"),
    "macros": ("macro.manage", ".modals.teamwork", "MacrosModal"),
}
# The palette's entries for the `:` commands: (label, command, what it does).
SECTION_COMMANDS = (
    ("Queue", "queue", "Go to the ticket queue (1)"),
    ("Inventory", "inventory", "Systems, peripherals, stock (2)"),
    ("Activity log", "log", "Who changed what, when (3)"),
    ("Users", "users", "User administration (:users, admins)"),
    ("Teams", "teams", "Teams and their members (:teams, admins)"),
    ("Macros", "macros", "Canned replies that set fields (:macros)"),
    ("Analytics", "analytics", "SLA states, age of open work, workload (4)"),
    ("Import", "import", "Import tickets or inventory from a file (:import, admins)"),
    ("Categories", "categories", "Add, rename, deactivate, merge ticket categories (:categories, admins)"),
    ("My devices", "devices", "The systems and peripherals assigned to you"),
    ("My exports", "exports", "Your exported files: delete, e-mail (:exports)"),
    ("API tokens", "tokens", "Your tokens for the HTTP API (:tokens)"),
)
HINTED_SECTIONS = ("inventory", "log", "analytics", "users", "categories", "teams", "macros", "import")


def command_hint(role: str) -> str:
    """The ``:`` commands this role may run, for the command line's prompt (a requester's has
    no :users or :import, which would only say they are not theirs)."""
    sections = [f":{name}" for name in HINTED_SECTIONS if allowed(role, SECTIONS[name][0])]
    return "  ".join([":queue", *sections, ":exports", ":devices", ":tokens", ":ticket 123", ":quit"])


SECTION_KEYS = {"1": "queue", "tickets": "queue", "2": "inventory", "3": "log", "4": "analytics"}


def _not_yet() -> bool:
    """The field that a key opens is not there yet (see ``ItsmApp.hold_keys``)."""
    return False


# (action, palette name, help): run on the screen the palette was opened from
SCREEN_COMMANDS = (
    ("export", "Export", "Export this list or record as PDF or CSV (e / E)"),
    ("sort", "Sort", "Choose the sort column (o; O reverses)"),
    ("status", "Status", "Change the status of the ticket or the marked tickets (s)"),
    ("assign_me", "Assign to me", "Take the ticket or the marked tickets (a)"),
    ("assign_other", "Assign to…", "Assign to an agent (A)"),
    ("comment", "Comment", "Add a public comment (c)"),
    ("note", "Internal note", "Add an internal note (i)"),
    ("macro", "Apply macro", "Apply a canned reply to the ticket or the marked tickets (m)"),
    ("team", "Put in team", "Put the ticket or the marked tickets in a team (T)"),
    ("mark_all", "Mark all", "Mark every ticket under the filter (*)"),
    # issue 21, on the ticket screen
    ("edit_ticket", "Edit ticket", "Title, description and category (e)"),
    ("merge_ticket", "Merge into…", "Merge this duplicate into another ticket (M)"),
    ("link_ticket", "Link ticket", "Related, parent/child, duplicate of, caused by (L)"),
    ("open_link", "Open linked ticket", "Go to a linked ticket, or where a merged one went (o)"),
    ("tags", "Tags", "Add or remove tags (t)"),
    ("delete_ticket", "Delete ticket", "Delete it with its comments and attachments (D, admins)"),
)


class ItsmCommands(Provider):
    """Every action and saved view, for the command palette (ctrl+p)."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app: ItsmApp = self.app
        if app.user is None:
            return []  # Quit is Textual's own (see ItsmApp.get_system_commands)
        closed = {
            name for name, (permission, _, _) in SECTIONS.items() if not allowed(app.user.role, permission)
        }
        entries = [
            (label, partial(app.run_command, command), what)
            for label, command, what in SECTION_COMMANDS
            if command not in closed
        ] + [
            ("New ticket", partial(app.screen_action, "new_ticket"), "Open a ticket (n)"),
            *self._screen_commands(),
            ("Refresh", partial(app.screen_action, "reload"), "Re-read from the database (r)"),
            ("Filter", partial(app.screen_action, "filter"), "Edit the queue filter (/)"),
            ("Save view", partial(app.screen_action, "save_view"), "Save the current filter (ctrl+s)"),
            ("Notifications", app.action_notifications, "Show your notifications (N)"),
            ("Command line", app.action_command_line, "k9s-style commands (:)"),
            ("Log out", app.action_logout, "Back to the login screen (ctrl+l)"),
        ]
        if allowed(app.user.role, "ticket.assign_self"):
            entries.append(
                ("Away / back", app.action_toggle_away, "Automatic assignment skips you while you are away")
            )
        for view in views.views_for(app.user):
            entries.append((f"View: {view.name}", partial(app.use_view, view), view.query or "everything"))
        return entries

    def _screen_commands(self) -> list[tuple[str, object, str]]:
        """The verbs of the screen the palette was opened on, when it has them and the role may."""
        app: ItsmApp = self.app
        screen = self.screen
        found = []
        for action, name, help_text in SCREEN_COMMANDS:
            if not hasattr(screen, f"action_{action}"):
                continue
            if screen.check_action(action, ()) is False:
                continue
            remapped = keys.keymap().get(action)
            if remapped:  # the user's key in place of the default one named at the end
                help_text = re.sub(r"\([^()]*\)$", f"({remapped})", help_text)
            found.append((name, partial(app.screen_action, action), help_text))
        return found

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(
                Content(one_line(name)), callback, text=name, help=Content(one_line(help_text))
            )

    async def search(self, query: str) -> Hits:
        # View names are user data: build Content ourselves (Matcher.highlight reads markup).
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score, offsets = matcher.fuzzy_search.match(matcher.query, name)
            if score > 0:
                display = Content(one_line(name))
                for offset in offsets:
                    display = display.stylize("bold reverse", offset, offset + 1)
                yield Hit(score, display, callback, text=name, help=Content(one_line(help_text)))


def _freeze_heap() -> None:
    """Exclude what lives for the whole session (modules, styles, the app) from the cyclic
    garbage collector's full passes: each of them walked every object, a 40-75 ms pause every
    few screens opened (measured on the log at 1M entries); after this, about 25 ms, rarely.
    The login screen just left is collected first, so nothing dead is kept."""
    gc.collect()
    gc.freeze()


def _thaw_heap() -> None:
    """Undo :func:`_freeze_heap` when the session ends (log-out, exit): what it kept is
    collectable again."""
    gc.unfreeze()


class ItsmApp(App):
    TITLE = "itsm-tui"
    COMMANDS = App.COMMANDS | {ItsmCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Keys"),
        Binding("colon", "command_line", "Command", show=False),
        Binding("ctrl+l", "logout", "Log out", show=False),
        Binding("1", "run_command('queue')", "Queue", show=False),
        Binding("2", "run_command('inventory')", "Inventory", show=False),
        Binding("3", "run_command('log')", "Activity log", show=False),
        Binding("4", "run_command('analytics')", "Analytics", show=False),
        Binding("N", "notifications", "Notifications", show=False),
    ]

    def __init__(self, url: str | None = None) -> None:
        super().__init__()
        self.url = config.resolve_db_url(url)
        self.database_label = db.describe_url(self.url)
        self.user: User | None = None
        self.unread = 0
        self.last_notification = 0
        self.poll_failing = False  # the last poll failed: said once, not at every poll
        self.sla_monitor = SlaMonitor(self)
        self.reused_screens: dict[type, Screen] = {}  # see opening.reused_screen
        self.crash_line = ""  # see _handle_exception
        self.idle_clock = time.monotonic  # tests pass their own
        self.last_key = self.idle_clock()
        self._hold: Callable[[], bool] | None = None  # see hold_keys
        self._held: list[events.Key] = []
        self._replay: tuple[float, bool] | None = None  # (held since, expired): see _release_keys
        self._hold_since = 0.0

    # ------------------------------------------------------------ start-up and login

    def on_mount(self) -> None:
        keys.name_classes()  # [keys] in the configuration file: see ui/keys.py
        keys.name_nodes(self)
        self.set_keymap(keys.keymap())
        self.screen_change_signal.subscribe(self, self._name_keys)
        self.set_interval(NOTIFICATION_POLL_SECONDS, self.poll_notifications)
        if config.settings().idle_lock_minutes > 0:
            self.set_interval(IDLE_CHECK_SECONDS, self.lock_if_idle)
        self._watch_hang_up()
        served = config.settings().served
        if self._first_run():
            if served:  # the first-run screen would make whoever comes first an admin
                self.exit(
                    message=f"itsm-tui: error: this desk has no database yet: {ADMIN_STEPS}", return_code=1
                )
            else:
                self.push_screen(SetupScreen(self.url, self.database_label))
            return
        try:
            setup.open_database(self.url)
            unfinished = self.url == config.default_db_url() and no_admin_yet()
        except (SchemaError, ItsmError) as exc:
            self.exit(message=f"itsm-tui: error: {exc}", return_code=1)
            return
        if unfinished and served:
            self.exit(
                message=f"itsm-tui: error: no admin can log in to this desk yet: {ADMIN_STEPS}", return_code=1
            )
            return
        if unfinished:  # the first start stopped before its admin was made: offer it again
            self.push_screen(SetupScreen(self.url, self.database_label, exists=True))
            return
        self.show_login()

    def on_unmount(self) -> None:
        _thaw_heap()

    def _name_keys(self, screen: Screen) -> None:
        keys.name_classes()
        keys.name_nodes(screen)

    def _first_run(self) -> bool:
        """The embedded default database does not exist yet."""
        if self.url != config.default_db_url():
            return False
        return not Path(urlparse(self.url).path).exists()

    def show_login(self, hint: str = "") -> None:
        self.user = None
        self.sla_monitor.stop()
        _thaw_heap()
        login = LoginScreen(self.database_label, hint)
        if len(self.screen_stack) > 1:
            self.switch_screen(login)
        else:
            self.push_screen(login)
        forget_reused_screens(self)

    def logged_in(self, user: User) -> None:
        # Only notifications that arrive from now on become toasts; the rest wait behind N,
        # summed up in one toast (not one each, covering the queue).
        latest = notifications.recent(user, limit=1)
        self.last_notification = latest[0].id if latest else 0
        self.unread = notifications.unread_count(user)
        self.user = user
        self.switch_screen(QueueScreen())
        if self.unread:
            self.notify(
                f"{self.unread} unread: {_kinds(notifications.unread_by_kind(user))} (N shows them)",
                title="Notifications",
                timeout=6,
            )
        self.sla_monitor.start(user)
        self.call_after_refresh(_freeze_heap)

    def action_logout(self) -> None:
        if self.user is None:
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.show_login()

    # ------------------------------------------------------------ navigation

    def open_ticket(self, ticket_id: int) -> None:
        open_ticket(self, ticket_id)

    def open_system(self, system_id: int) -> None:
        """Screens open a system through the app, so that no screen imports another."""
        from itsm_tui.ui.screens.system import open_system  # the inventory's screens load when first opened

        open_system(self, system_id)

    def screen_action(self, name: str) -> None:
        method = getattr(self.screen, f"action_{name}", None)
        if method:
            method()

    def use_view(self, view) -> None:
        self.run_command("queue")
        if isinstance(self.screen, QueueScreen):
            self.screen.use_view(view)

    def open_queue_filtered(self, name: str, query: str, sort: str) -> None:
        """The queue with a filter (the analytics drill-down)."""
        self.show_section("queue")
        if isinstance(self.screen, QueueScreen):
            self.screen.apply_view(name, query, sort)

    def action_run_command(self, command: str) -> None:
        self.run_command(command)

    def run_command(self, text: str) -> None:
        """The k9s-style command line: queue, inventory, log, users, ticket N, quit."""
        words = text.strip().lstrip(":").split()
        if not words:
            return
        verb, args = words[0].lower(), words[1:]
        verb = SECTION_KEYS.get(verb, verb)
        if verb in ("q", "quit", "exit"):
            self.exit()
        elif self.user is None:
            self.notify("Log in first.", severity="warning")
        elif verb in SECTIONS or verb == "queue":
            self.show_section(verb)
        elif verb in ("ticket", "t") and args:
            self._open_number(args[0])
        elif verb in ("devices", "mydevices"):
            self.show_devices()
        elif verb in ("exports", "export", "files"):
            from itsm_tui.ui.my_exports import MyExportsModal

            self.push_screen(MyExportsModal(self.user.username, self.user.email))
        elif verb == "tokens":
            from itsm_tui.ui.modals.tokens import TokensModal

            self.push_screen(TokensModal(self.user))
        else:
            self.notify(
                f"Unknown command: {one_line(text)} (try queue, inventory, log, analytics, users, "
                "categories, teams, macros, import, exports, devices, tokens, ticket 123, quit)",
                severity="warning",
            )

    @work(exclusive=True, group="devices", exit_on_error=False)
    async def show_devices(self) -> None:
        """``:devices``: the systems and peripherals assigned to the operator (issue 21)."""
        mine = await asyncio.to_thread(devices.of_user, self.user)
        lines = [device.label for device in mine] or ["No system or peripheral is assigned to you."]
        await self.push_screen_wait(MessageModal("My devices", lines))

    def show_section(self, name: str) -> None:
        """Switch to a top-level screen: the queue stays at the bottom, one section above it. A
        dialog (teams, macros) opens over the screen it was asked from, and closes back to it."""
        section = None
        if name != "queue":
            permission, module, class_name = SECTIONS[name]
            if not allowed(self.user.role, permission):
                self.notify(
                    f"The {name} screen is not available to {a_role(self.user.role)}.", severity="warning"
                )
                return
            section = getattr(importlib.import_module(module, __package__), class_name)
        if section is None or not issubclass(section, ModalScreen):
            while len(self.screen_stack) > 2:
                self.pop_screen()
        shown = self.screen
        # the keys typed after the one that switched belong to the screen shown in the end: the
        # lambda reads ``shown`` late, after the push below (see hold_keys)
        self.hold_keys(lambda: self.screen is shown and shown.focused is not None)
        if section is not None:
            shown = section()
            self.push_screen(shown)

    def open_entity(self, entity_type: str, entity_id: int | None) -> None:
        """Open what an activity-log entry refers to."""
        if entity_id is None:
            self.notify("This entry refers to no single record.")
        elif entity_type == "ticket":
            self.open_ticket(entity_id)
        elif entity_type == "system" and allowed(self.user.role, "inventory.view"):
            self.open_system(entity_id)
        elif entity_type == "user" and allowed(self.user.role, "user.manage"):
            self.show_section("users")
        else:
            self.notify(f"There is no screen for a {entity_type} yet.")

    def _open_number(self, number: str) -> None:
        try:
            ticket = tickets.get(self.user, typed_number(number))  # :ticket 131 means INC000131
        except (NotFound, ItsmError) as exc:
            self.notify(str(exc), severity="error")
            return
        self.open_ticket(ticket.id)

    def action_command_line(self) -> None:
        hint = command_hint(self.user.role) if self.user else ":quit"
        prompt = TextPrompt("Command", hint, multiline=False, required=False, verb="run")
        self.hold_keys(lambda: self.screen is prompt and isinstance(prompt.focused, Input))
        self._command_line(prompt)

    @work(exclusive=True, group="command-line", exit_on_error=False)
    async def _command_line(self, prompt: TextPrompt) -> None:
        text = await self.push_screen_wait(prompt)
        if text:
            self.run_command(text)

    def action_help(self) -> None:
        """Every key of the current screen (focused widget first), then the app's own keys."""
        bindings = [active.binding for active in self.active_bindings.values()]
        bindings += [b for b in self._bindings.key_to_bindings.values() for b in b]
        shown_keys: dict[tuple[str, str], list[str]] = {}  # every key of an action: "↓ j", "e E"
        for binding in bindings:
            if binding.description:
                shown = shown_keys.setdefault((binding.action, binding.description), [])
                for key in binding.key.split(","):  # each key's own name (not "e" for E)
                    named = self.get_key_display(Binding(key, ""))
                    if named not in shown:
                        shown.append(named)
        self.push_screen(
            HelpModal(
                f"Keys: {type(self.screen).__name__.removesuffix('Screen')}",
                [(" ".join(shown), description) for (_, description), shown in shown_keys.items()],
                [action for action, _ in shown_keys],  # what [keys] in the configuration file remaps
            )
        )

    # ------------------------------------------------------------ a shared host: no way out, no orphan

    def _watch_hang_up(self) -> None:
        """Leave cleanly on SIGHUP, SIGTERM or the terminal hanging up (the SSH client gone),
        instead of reading an empty terminal forever."""
        if self.is_headless:  # Pilot tests: no terminal of our own
            return
        loop = asyncio.get_running_loop()
        for number in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(number, self.hang_up)
        threading.Thread(target=self._poll_terminal, args=(loop,), daemon=True, name="hang-up").start()

    def _poll_terminal(self, loop: asyncio.AbstractEventLoop) -> None:
        poller = select.poll()
        poller.register(
            sys.__stdin__.fileno(), select.POLLHUP | select.POLLERR
        )  # not POLLIN: keys are Textual's
        while not any(
            flags & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, flags in poller.poll()
        ):
            pass
        try:
            loop.call_soon_threadsafe(self.hang_up)
        except RuntimeError:  # the app already ended
            pass

    def hang_up(self) -> None:
        """The session is over: exit now, and for sure (a dead terminal can block the clean-up)."""
        stop = threading.Timer(HANG_UP_GRACE_SECONDS, os._exit, args=(1,))
        stop.daemon = True
        stop.start()
        self.exit(return_code=1)

    def action_suspend_process(self) -> None:
        """On a shared host there is no shell to suspend to (Textual binds no key to this; a
        later version or a keymap might)."""
        if config.settings().served:
            self.notify("Suspending is off on a shared server: ctrl+q quits.", severity="warning")
            return
        super().action_suspend_process()

    def get_system_commands(self, screen: Screen):
        """Textual's palette commands, minus Screenshot on a shared host (it writes a file into
        the service account's working folder). Keys is the list ? shows: Textual's side panel
        lists fewer of them, and neither esc nor ? closes it. Quit is in the palette once: this
        one (ItsmCommands has none), logged in or not."""
        for command in super().get_system_commands(screen):
            if command.title == "Keys":
                command = SystemCommand("Keys", "Every key of this screen (?)", self.action_help)
            elif command.title == "Quit":
                command = SystemCommand(
                    "Quit", f"Leave itsm-tui ({keys.key_of('quit', 'ctrl+q')})", self.action_quit
                )
            if not (config.settings().served and command.title == "Screenshot"):
                yield command

    def action_help_quit(self) -> None:
        """ctrl+c: Textual's hint in plain words (its own is markup, and our notify shows text as
        written)."""
        self.notify("Press ctrl+q to quit the app", title="Do you want to quit?")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_key = self.idle_clock()
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._hold is not None:
                self._held.append(event)  # typed after / or :, before the field took the focus
                return
            if self._opens_field(event.key):
                self._hold, self._held, self._hold_since = _not_yet, [], time.monotonic()
                self.set_timer(HOLD_POLL_SECONDS, self._release_keys)
            elif event.key == "escape" and self._leaves_field():
                field = self.focused  # Esc leaves it: what follows is for whatever gets the focus
                self.hold_keys(lambda: self.focused is not field)
            elif event.key == "enter" and isinstance(self.focused, FilterInput):
                bar, refused = self.focused, self._filter_refusals()  # the list takes what follows,
                self.hold_keys(lambda: self.focused is not bar or self._filter_refusals() > refused)
            elif self._rows_coming(event.key):
                table = self.focused  # its rows are being replaced: a key acts on the new ones
                self.hold_keys(lambda: not table.fetching or self.focused is not table)
                if self._replay is not None:  # held since an earlier hold began (Enter in a filter)
                    self._hold_since = min(self._hold_since, self._replay[0])
                self._held.append(event)
                return
        await super().on_event(event)

    # ------------------------------------------------------------ keys typed ahead of a field

    def _opens_field(self, key: str) -> bool:
        """``key`` runs an action that opens a text field (``/``, ``:``) or a screen (``1``-``4``),
        here and now."""
        if isinstance(self.focused, (Input, TextArea)):
            return False
        active = self.active_bindings.get(key)
        return (
            active is not None and active.enabled and active.binding.action in FIELD_OPENERS | SCREEN_OPENERS
        )

    def _leaves_field(self) -> bool:
        """Esc now takes the focus out of a text field: the filter bar closes, a prompt or form
        closes or asks first."""
        return isinstance(self.focused, FilterInput) or (
            isinstance(self.focused, (Input, TextArea)) and isinstance(self.screen, ModalScreen)
        )

    def _rows_coming(self, key: str) -> bool:
        """The focused list is reading its rows, and ``key`` is neither a priority key (ctrl+q)
        nor one held for ``HOLD_MAX_SECONDS`` already: it waits for the rows."""
        if self._replay is not None and self._replay[1]:
            return False
        if not isinstance(self.focused, PagedTable) or not self.focused.fetching:
            return False
        active = self.active_bindings.get(key)
        return active is None or not active.binding.priority

    def _filter_refusals(self) -> int:
        """How many times this screen's filter bar said a filter was wrong: after Enter, the
        keys that follow go back to the bar when it does so again (unless it took the list)."""
        return sum(error.said for error in self.screen.query(FilterError))

    def hold_keys(self, ready: Callable[[], bool]) -> None:
        """The field a key just opened (``/`` the filter bar, ``:`` the command line) is ready
        when ``ready()``. Every key typed after the one that opened it belongs to it, however
        fast it came: Textual would hand the keys of a burst that follow ``/`` to the list,
        which ran them as commands (``/a`` assigned a ticket; 1 in 5 pairs of keys over SSH
        arrive together). ``on_event`` keeps them from the moment the opening key arrives
        until the field has the focus, then they go to it in the order typed. The same holds
        the keys that follow Enter in a filter bar until the list has the focus, and the keys
        typed at a list while its rows are being read (``j`` then Enter opens the second row
        of the new rows, not of the old ones), each for at most ``HOLD_MAX_SECONDS``."""
        if self._hold is None:
            self._held, self._hold_since = [], time.monotonic()
            self.set_timer(HOLD_POLL_SECONDS, self._release_keys)
        self._hold = ready

    async def _release_keys(self) -> None:
        if self._hold is None:
            return
        ready = self._hold()
        if not ready and time.monotonic() - self._hold_since < HOLD_MAX_SECONDS:
            self.set_timer(HOLD_POLL_SECONDS, self._release_keys)
            return
        held = self._held
        self._hold, self._held = None, []
        self._replay = (self._hold_since, not ready)  # a list still reading gets expired ones now
        try:
            for event in held:  # as if typed now: to the field that has the focus
                await self.on_event(events.Key(event.key, event.character))
        finally:
            self._replay = None

    def lock_if_idle(self) -> None:
        """Lock an idle session: back to the login screen after ``idle_lock_minutes`` without a key."""
        minutes = config.settings().idle_lock_minutes
        if self.user is None or minutes <= 0 or self.idle_clock() - self.last_key < minutes * 60:
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.show_login(
            hint=f"Locked after {minutes} minute{'s' if minutes != 1 else ''} without a key: log in again."
        )
        self.notify("The session was locked: log in again.", severity="warning")

    def _secrets(self) -> tuple[str, ...]:
        password = urlparse(self.url).password
        return tuple(
            s for s in (password, unquote(password or ""), os.environ.get("ITSM_SMTP_PASSWORD")) if s
        )

    def _handle_exception(self, error: Exception) -> None:
        """An error no screen handled: our crash report (a 0600 file, no local variables, no
        password) and one line on the terminal, in place of Textual's report with locals."""
        self._return_code = 1
        if self._exception is None:  # Pilot re-raises it in tests
            self._exception = error
            self._exception_event.set()
        try:
            line = (
                f"itsm-tui stopped after an internal error; details in {crash.write(error, self._secrets())}"
            )
        except OSError:
            line = "itsm-tui stopped after an internal error (no report could be written)"
        self.crash_line = line
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        if self.crash_line:  # one line, as typed, wrapped by the terminal rather than cut
            self.error_console.print(self.crash_line, soft_wrap=True, markup=False, highlight=False)
            self.crash_line = ""
        super()._print_error_renderables()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A background task failed (database gone, locked too long): say so, keep running."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, SessionEnded):
                self.end_session(str(error))
                return
            if isinstance(error, DATABASE_ERRORS):
                text = said(error)  # "it may have been done" when a write's connection was lost
            elif isinstance(error, ROW_GONE):
                text = "it is no longer there: someone deleted it meanwhile"
            else:
                text = crash.mask(str(error), self._secrets()) or type(error).__name__
            self.notify(text, title="That did not work", severity="error", timeout=10)

    def end_session(self, reason: str) -> None:
        """Disabled, or the password set by someone else (``SessionEnded``): back to the login
        screen, saying why. The notification poll meets it within 5 seconds if no key does."""
        if self.user is None:
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.show_login(hint=reason)
        self.notify(reason, severity="warning")

    # ------------------------------------------------------------ notifications

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None, markup=False):
        """Messages often quote user data: never read them as markup, drop control characters."""
        super().notify(
            strip_controls(str(message)),
            title=strip_controls(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def changed(self) -> None:
        """An operator action happened: look for new notifications and recount the SLA at once."""
        self.poll_notifications()
        self.sla_monitor.run_now()

    @work(exclusive=True, group="notifications", thread=True, exit_on_error=False)
    def poll_notifications(self) -> None:
        user = self.user
        if user is None:
            return
        try:
            fresh = notifications.since(user, self.last_notification)
            unread = notifications.unread_count(user)
        except DATABASE_ERRORS as exc:
            if not self.poll_failing:  # once while the database is away: this runs every 5 s
                self.poll_failing = True
                words = f"{reason(exc)}; new notifications show once it is back."
                self.notify(words, title="Notifications", severity="warning")
            return
        self.poll_failing = False
        self.post_message(NotificationsPolled(user, fresh, unread))

    @on(NotificationsPolled)
    def _show_notifications(self, event: NotificationsPolled) -> None:
        user, fresh, unread = event.user, event.fresh, event.unread
        if self.user is None or self.user.id != user.id:
            return
        if len(fresh) > TOASTS_AT_ONCE:  # one toast for a batch (an SLA pass raises many)
            counts: dict[str, int] = {}
            for item in fresh:
                counts[item.kind] = counts.get(item.kind, 0) + 1
            self.notify(
                f"{len(fresh)} new: {_kinds(counts)} (N shows them)", title="Notifications", timeout=6
            )
        else:
            for item in fresh:
                self.notify(item.message, title="Notification", timeout=6)
        for item in fresh:
            self.last_notification = max(self.last_notification, item.id)
        if unread != self.unread:
            self.unread = unread
            for frame in self.screen.query("Frame"):
                frame.show()

    @work(exclusive=True, group="away", thread=True, exit_on_error=False)
    def action_toggle_away(self) -> None:
        user = self.user
        if user is None:
            return
        away = not User.get_by_id(user.id).is_away
        assignment.set_away(user, user.username, away)
        self.notify(
            "You are away: new tickets are not assigned to you automatically."  # thread-safe
            if away
            else "You are back: automatic assignment includes you again."
        )

    @work(exclusive=True, group="notifications-list", exit_on_error=False)
    async def action_notifications(self) -> None:
        """Newest first (by time: imported and seeded ones are not in id order); Enter opens
        the ticket one refers to. Showing them marks them read."""
        user = self.user
        if user is None:
            return
        items = await asyncio.to_thread(notifications.newest, user)
        rows = [
            (f"{'•' if n.read_at is None else ' '} {n.created_at:%Y-%m-%d %H:%M}  {n.message}", n.ticket_id)
            for n in items
        ]
        if not rows:
            await self.push_screen_wait(MessageModal("Notifications", ["No notifications yet."]))
            chosen = None
        else:
            chosen = await self.push_screen_wait(ChoicePicker("Notifications (Enter opens the ticket)", rows))
        await asyncio.to_thread(notifications.mark_all_read, user)
        self.unread = 0
        for frame in self.screen.query("Frame"):
            frame.show()
        if chosen:
            self.open_ticket(chosen)


TOASTS_AT_ONCE = 2  # more new notifications than this at once: one summary toast
KIND_WORDS = {
    "sla_breached": "breached",
    "sla_at_risk": "at risk",
    "assigned": "assigned to you",
    "comment": "comment",
}
COUNTED = {"comment"}  # nouns: "1 comment", "3 comments"


def _kinds(counts: dict[str, int]) -> str:
    """ "4 breached, 20 assigned to you, 3 comments": most first."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    words = {kind: KIND_WORDS.get(kind, kind.replace("_", " ")) for kind, _ in ordered}
    return ", ".join(
        counted(n, words[kind]) if kind in COUNTED else f"{n} {words[kind]}" for kind, n in ordered
    )


def run(url: str | None = None) -> int:
    logs.setup()
    app = ItsmApp(url)
    if not app._first_run():
        setup.open_database(app.url)  # a missing or outdated schema is one line, before the screen is taken
    if not all(stream.isatty() for stream in (sys.stdin, sys.stdout, sys.stderr)):
        # Without a terminal (ssh -T, a pipe) the app would read end-of-input forever.
        print(NEEDS_TERMINAL, file=sys.stderr)
        return 1
    if config.settings().served:
        os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)  # ctrl+z and ctrl+c stay keys, never signals
    clean_pastes()
    app.run()
    if db.database.obj is not None:  # the jobs this terminal ran (sla_monitor): another one runs them now
        jobs.release_on_exit()
    return app.return_code or 0
