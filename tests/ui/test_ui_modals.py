"""The shared modals, driven with the keyboard through Textual's pilot.

Each test pushes one modal on a tiny host app, presses keys, and checks the value handed to the
callback, the inline errors, and that hostile text is shown literally (not parsed as markup).
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

import pytest
from textual.app import App
from textual.widgets import DirectoryTree, Input, OptionList, Select, TextArea
from ui_helpers import screen_text

from itsm_tui.core.errors import PermissionDenied, ValidationError
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine
from itsm_tui.ui.modals.forms import FormField, FormModal, PriorityForm
from itsm_tui.ui.modals.panels import ConflictModal, HelpModal, MessageModal
from itsm_tui.ui.modals.pickers import AgentPicker, ChoicePicker, StatusPicker
from itsm_tui.ui.modals.prompts import PathPrompt, TextPrompt

pytestmark = pytest.mark.asyncio

HOSTILE = "[/] [bold]x [@click=app.quit]y <b>z</b> 王伟 مرحبا 🖨"
ESCAPE_SEQ = "\x1b[31m"
NOT_SET = object()


class Host(App):
    """Pushes one modal at start and records what it is dismissed with."""

    def __init__(self, modal):
        super().__init__()
        self.modal = modal
        self.result = NOT_SET

    def on_mount(self) -> None:
        self.push_screen(self.modal, self.store)

    def store(self, result) -> None:
        self.result = result


@asynccontextmanager
async def running(modal, size=(120, 40)):
    app = Host(modal)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield app, pilot
    # Leaving run_test re-raises any exception the app hit (a MarkupError, for one).


def shown(widget) -> str:
    return str(widget.render())


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


def assert_literal(app, text: str = HOSTILE) -> None:
    screen = screen_text(app)
    assert text in screen
    assert "\x1b" not in screen and "[31m" not in screen
    assert app.is_running


# TextPrompt


async def test_text_prompt_multiline_submits_with_ctrl_s():
    async with running(TextPrompt("Add comment", "Comment")) as (app, pilot):
        await type_text(pilot, "hi")
        await pilot.press("enter")
        await type_text(pilot, "there")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "hi\nthere"


async def test_text_prompt_required_shows_inline_error_and_stays_open():
    modal = TextPrompt("Add comment", "Comment")
    async with running(modal) as (app, pilot):
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_SET
        assert app.screen is modal
        assert shown(modal.query_one("#error", ErrorLine)) == "This cannot be empty."
        await type_text(pilot, "ok")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "ok"


async def test_text_prompt_single_line_enter_submits_and_keeps_initial():
    modal = TextPrompt("Rename", "Title", multiline=False, initial="abc")
    async with running(modal) as (app, pilot):
        await type_text(pilot, "d")
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "abcd"


async def test_text_prompt_multiline_too_long_is_an_inline_error():
    modal = TextPrompt("Note", "Note", initial="abcdef", max_length=3)
    async with running(modal) as (app, pilot):
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_SET
        assert "Too long: 6 characters, at most 3" in shown(modal.query_one(ErrorLine))


async def test_text_prompt_single_line_max_length_limits_typing():
    async with running(TextPrompt("T", "L", multiline=False, max_length=3)) as (app, pilot):
        await type_text(pilot, "abcdef")
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "abc"


async def test_text_prompt_escape_returns_none():
    async with running(TextPrompt("T", "L", initial="draft")) as (app, pilot):
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


async def test_text_prompt_shows_hostile_text_literally():
    modal = TextPrompt(HOSTILE + ESCAPE_SEQ + "!", HOSTILE, initial=HOSTILE + ESCAPE_SEQ)
    async with running(modal) as (app, pilot):
        assert_literal(app, HOSTILE + "!")
        assert modal.query_one(TextArea).text == HOSTILE
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == HOSTILE


# ConfirmModal


@pytest.mark.parametrize(
    "keys, expected",
    [
        (("y",), True),
        (("n",), False),
        (("enter",), True),
        (("escape",), False),
        (("tab", "enter"), False),  # Enter presses the focused button
    ],
)
async def test_confirm_keys(keys, expected):
    async with running(ConfirmModal("Delete?", "Really?")) as (app, pilot):
        await pilot.press(*keys)
        await pilot.pause()
        assert app.result is expected


async def test_confirm_shows_hostile_text_literally():
    modal = ConfirmModal(HOSTILE, HOSTILE + ESCAPE_SEQ, yes="[b]Go", no="[/]")
    async with running(modal) as (app, pilot):
        assert_literal(app)
        assert "[b]Go" in screen_text(app) and "[/]" in screen_text(app)


# StatusPicker

LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "waiting_on_user": "Waiting on user",
    "resolved": "Resolved",
}


def status_picker(**overrides):
    args = dict(
        current="new",
        allowed=["in_progress", "waiting_on_user", "resolved"],
        labels=LABELS,
        note_required={"resolved"},
        note_optional={"waiting_on_user"},
    )
    args.update(overrides)
    return StatusPicker(**args)


async def test_status_without_note_returns_at_once():
    async with running(status_picker()) as (app, pilot):
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == ("in_progress", None)


async def test_status_requiring_note_reveals_textarea_and_insists():
    modal = status_picker()
    async with running(modal) as (app, pilot):
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        note = modal.query_one("#note", TextArea)
        assert note.has_focus and note.region.height > 0
        assert "Resolution note" in shown(modal.query_one("#note-label"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_SET
        assert "required" in shown(modal.query_one(ErrorLine))
        await type_text(pilot, "fixed")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == ("resolved", "fixed")


async def test_status_optional_note_may_be_empty():
    modal = status_picker()
    async with running(modal) as (app, pilot):
        await pilot.press("down", "enter")
        await pilot.pause()
        assert "Comment (optional)" in shown(modal.query_one("#note-label"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == ("waiting_on_user", None)


async def test_status_escape_and_hostile_labels():
    modal = status_picker(labels={**LABELS, "in_progress": HOSTILE + ESCAPE_SEQ})
    async with running(modal) as (app, pilot):
        assert_literal(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


# AgentPicker

AGENTS = [("alice", "Alice Smith", 3), ("wang", "王伟", 12), ("zed", HOSTILE + ESCAPE_SEQ, 0)]


async def test_agent_enter_picks_first_agent():
    async with running(AgentPicker(AGENTS)) as (app, pilot):
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "alice"


async def test_agent_filter_by_username_and_full_name():
    modal = AgentPicker(AGENTS)
    async with running(modal) as (app, pilot):
        await type_text(pilot, "WA")
        await pilot.pause()
        assert modal.query_one(OptionList).option_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "wang"
    async with running(AgentPicker(AGENTS)) as (app, pilot):
        app.screen.query_one(Input).value = "王"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "wang"


async def test_agent_unassign_row_returns_empty_string():
    async with running(AgentPicker(AGENTS)) as (app, pilot):
        await pilot.press("up", "enter")  # arrows move the list while typing in the filter
        await pilot.pause()
        assert app.result == ""


async def test_agent_without_unassign_and_with_down_arrow():
    modal = AgentPicker(AGENTS, allow_unassign=False)
    async with running(modal) as (app, pilot):
        assert "(unassign)" not in screen_text(app)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.result == "wang"


async def test_agent_rows_show_counts_and_hostile_names_literally():
    async with running(AgentPicker(AGENTS)) as (app, pilot):
        assert_literal(app)
        assert "12 open" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


async def test_agent_no_match_enter_does_nothing():
    async with running(AgentPicker(AGENTS)) as (app, pilot):
        await type_text(pilot, "qqq")
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is NOT_SET
        assert "No matches" in screen_text(app)


# PriorityForm


async def test_priority_live_matrix_and_result():
    modal = PriorityForm(2, 2, 3, False)
    async with running(modal) as (app, pilot):
        assert "Matrix priority: 3 Medium" in shown(modal.query_one("#outcome"))
        await pilot.press("enter", "up", "enter")  # open the impact list, pick 1 High
        await pilot.pause()
        assert modal.query_one("#impact", Select).value == 1
        assert "Matrix priority: 2 High" in shown(modal.query_one("#outcome"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == {"impact": 1, "urgency": 2, "priority": None}


async def test_priority_keeps_and_sets_override():
    modal = PriorityForm(3, 3, 1, True)
    async with running(modal) as (app, pilot):
        assert "overridden to 1 Critical" in shown(modal.query_one("#outcome"))
        await pilot.press("tab", "tab", "enter", "home", "enter")  # override -> From matrix
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == {"impact": 3, "urgency": 3, "priority": None}
    async with running(PriorityForm(3, 3, 4, True)) as (app, pilot):
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == {"impact": 3, "urgency": 3, "priority": 4}


async def test_priority_escape_returns_none():
    async with running(PriorityForm(1, 1, 1, False)) as (app, pilot):
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


# FormModal


def ticket_fields():
    return [
        FormField("title", "Title", required=True, placeholder=HOSTILE),
        FormField("body", "Description", kind="multiline"),
        FormField(
            "category",
            HOSTILE,
            kind="select",
            options=[("General", "General"), (HOSTILE, "odd")],
            value="General",
        ),
        FormField("secret", "Password", kind="password"),
    ]


async def test_form_returns_submit_result():
    seen = []

    def submit(values):
        seen.append(values)
        return "INC000001"

    async with running(FormModal("New ticket", ticket_fields(), submit)) as (app, pilot):
        await type_text(pilot, "Printer")
        await pilot.press("tab")
        await type_text(pilot, "jam")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == "INC000001"
        assert seen == [{"title": "Printer", "body": "jam", "category": "General", "secret": ""}]


async def test_form_validation_error_sits_next_to_its_field_and_input_stays():
    def submit(values):
        raise ValidationError(f"unknown category {HOSTILE!r}", "category")

    modal = FormModal("New ticket", ticket_fields(), submit)
    async with running(modal) as (app, pilot):
        await type_text(pilot, "Printer")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_SET
        assert shown(modal.query_one("#error-2", ErrorLine)) == f"unknown category {HOSTILE!r}"
        assert shown(modal.query_one("#error-0", ErrorLine)) == ""
        assert shown(modal.query_one("#form-error", ErrorLine)) == ""
        assert modal.query_one("#field-2", Select).has_focus
        assert modal.query_one("#field-0", Input).value == "Printer"
        assert_literal(app)


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("something is off", None),
        ValidationError("something is off", "no_such_field"),
        PermissionDenied("something is off"),
    ],
)
async def test_form_error_without_known_field_goes_to_the_top(error):
    def submit(values):
        raise error

    modal = FormModal("New ticket", ticket_fields(), submit)
    async with running(modal) as (app, pilot):
        await type_text(pilot, "x")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_SET
        assert shown(modal.query_one("#form-error", ErrorLine)) == "something is off"


async def test_form_required_field_checked_before_submit():
    calls = []
    modal = FormModal("New ticket", ticket_fields(), calls.append)
    async with running(modal) as (app, pilot):
        await pilot.press("tab")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert calls == []
        assert shown(modal.query_one("#error-0", ErrorLine)) == "Title is required."
        assert modal.query_one("#field-0", Input).has_focus


async def test_form_enter_moves_to_next_field_and_escape_cancels():
    modal = FormModal("F", [FormField("a", "A"), FormField("b", "B")], lambda values: values)
    async with running(modal) as (app, pilot):
        await type_text(pilot, "1")
        await pilot.press("enter")
        assert modal.query_one("#field-1", Input).has_focus
        await pilot.press("escape")  # "1" was typed: Escape asks first
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and app.result is NOT_SET
        await pilot.press("enter")  # the focused button is "Keep editing"
        await pilot.pause()
        assert app.screen is modal and modal.values()["a"] == "1"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.result is None


async def test_escape_on_an_untouched_form_closes_it_without_asking():
    modal = FormModal("F", [FormField("a", "A", value="kept"), FormField("b", "B")], lambda values: values)
    async with running(modal) as (app, pilot):
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


async def test_a_delete_question_that_defaults_to_no_never_deletes_on_enter():
    modal = ConfirmModal("Delete system", "Delete ws-001?", yes="Delete", no="Keep it", default=False)
    async with running(modal) as (app, pilot):
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is False


async def test_form_at_80x24_scrolls_to_a_field_with_an_error():
    fields = [FormField(f"f{i}", f"Field {i}", value="v") for i in range(10)]

    def submit(values):
        raise ValidationError("bad last field", "f9")

    modal = FormModal("Record", fields, submit)
    async with running(modal, size=(80, 24)) as (app, pilot):
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert modal.query_one("#field-9", Input).has_focus
        assert "bad last field" in screen_text(app)


# ChoicePicker


async def test_choice_filters_by_label_case_insensitively():
    target = object()
    choices = [("Open tickets", 1), ("My QUEUE", target), (HOSTILE + ESCAPE_SEQ, 3)]
    modal = ChoicePicker("Saved views", choices)
    async with running(modal) as (app, pilot):
        assert_literal(app)
        await type_text(pilot, "queue")
        await pilot.pause()
        assert modal.query_one(OptionList).option_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is target


async def test_choice_search_is_debounced():
    calls = []

    def search(text):
        calls.append(text)
        return [(f"PC-{text}", text)]

    modal = ChoicePicker("Link a system", [("recent", "r")], search=search)
    async with running(modal) as (app, pilot):
        await type_text(pilot, "abc")
        assert calls == []
        await pilot.pause(0.4)
        assert calls == ["abc"]
        assert "PC-abc" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "abc"


async def test_choice_enter_runs_a_pending_search_first():
    modal = ChoicePicker("Link", [("recent", "r")], search=lambda text: [(text.upper(), text)])
    async with running(modal) as (app, pilot):
        await type_text(pilot, "xy")
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "xy"


async def test_choice_search_error_is_shown_inline():
    def search(text):
        raise ValidationError(f"bad query {HOSTILE}", "query")

    modal = ChoicePicker("Link", [], search=search)
    async with running(modal) as (app, pilot):
        await type_text(pilot, "q")
        await pilot.pause(0.4)
        assert shown(modal.query_one(ErrorLine)) == f"bad query {HOSTILE}"
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


# ConflictModal, MessageModal, HelpModal


@pytest.mark.parametrize(
    "key, expected",
    [
        ("r", "reload"),
        ("a", "reapply"),
        ("enter", "reload"),
        ("escape", None),
    ],
)
async def test_conflict_keys(key, expected):
    async with running(ConflictModal(HOSTILE + ESCAPE_SEQ)) as (app, pilot):
        assert_literal(app)
        await pilot.press(key)
        await pilot.pause()
        assert app.result == expected


@pytest.mark.parametrize("key", ["escape", "enter", "q"])
async def test_message_modal_closes(key):
    lines = [HOSTILE + ESCAPE_SEQ] + [f"line {i}" for i in range(100)]
    async with running(MessageModal("Bulk result", lines)) as (app, pilot):
        assert_literal(app)
        await pilot.press(key)
        await pilot.pause()
        assert app.result is None


@pytest.mark.parametrize("key", ["escape", "question_mark", "q"])
async def test_help_modal_shows_table_and_closes(key):
    keys = [("ctrl+s", "Save"), (HOSTILE, "hostile key"), ("x", HOSTILE + ESCAPE_SEQ)]
    async with running(HelpModal("Keys", keys)) as (app, pilot):
        assert_literal(app)
        assert "ctrl+s" in screen_text(app) and "Save" in screen_text(app)
        await pilot.press(key)
        await pilot.pause()
        assert app.result is None


# PathPrompt


async def submit_path(app, pilot, text: str) -> None:
    field = app.screen.query_one("#path", Input)
    field.value = text
    field.focus()
    await pilot.press("enter")
    await pilot.pause()


async def test_path_must_exist_accepts_a_file_and_rejects_the_rest(tmp_path):
    (tmp_path / "data.csv").write_text("x")
    modal = PathPrompt("Import", start=tmp_path, must_exist=True)
    async with running(modal) as (app, pilot):
        await submit_path(app, pilot, str(tmp_path / "nope" / "data.csv"))
        assert shown(modal.query_one(ErrorLine)) == f"no such file: {tmp_path / 'nope' / 'data.csv'}"
        await submit_path(app, pilot, str(tmp_path))
        assert shown(modal.query_one(ErrorLine)) == f"{tmp_path} is not a regular file"
        await submit_path(app, pilot, "missing.csv")
        assert shown(modal.query_one(ErrorLine)) == f"no such file: {tmp_path / 'missing.csv'}"
        assert app.result is NOT_SET
        await submit_path(app, pilot, "data.csv")  # relative to start
        assert app.result == tmp_path / "data.csv"


async def test_path_save_into_missing_folder_is_an_error(tmp_path):
    modal = PathPrompt("Export", start=tmp_path, must_exist=False, initial_name="out.csv")
    async with running(modal) as (app, pilot):
        assert modal.query_one("#path", Input).value == str(tmp_path / "out.csv")
        await submit_path(app, pilot, str(tmp_path / "gone" / "out.csv"))
        assert shown(modal.query_one(ErrorLine)) == f"the folder {tmp_path / 'gone'} does not exist"
        await submit_path(app, pilot, str(tmp_path / "out.csv"))
        assert app.result == tmp_path / "out.csv"


async def test_path_save_into_read_only_folder_is_an_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: a 0o500 folder is still writable")
        modal = PathPrompt("Export", start=tmp_path, must_exist=False)
        async with running(modal) as (app, pilot):
            await submit_path(app, pilot, str(locked / "out.csv"))
            assert shown(modal.query_one(ErrorLine)) == f"the folder {locked} is not writable"
            assert app.result is NOT_SET
    finally:
        locked.chmod(0o700)


async def test_path_not_writable_message_even_as_root(tmp_path, monkeypatch):
    """The same check with os.access faked, so it runs where the chmod case is skipped."""
    real_access = os.access
    monkeypatch.setattr(
        "itsm_tui.core.files.os.access",
        lambda path, mode: False if mode & os.W_OK else real_access(path, mode),
    )
    modal = PathPrompt("Export", start=tmp_path, must_exist=False)
    async with running(modal) as (app, pilot):
        await submit_path(app, pilot, str(tmp_path / "out.csv"))
        assert shown(modal.query_one(ErrorLine)) == f"the folder {tmp_path} is not writable"
        assert app.result is NOT_SET


async def test_path_overwrite_asks_first(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_text("old")
    modal = PathPrompt("Export", start=tmp_path, must_exist=False, initial_name="report.pdf")
    async with running(modal) as (app, pilot):
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "already exists" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is modal and app.result is NOT_SET
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.result == target


async def test_path_tree_shows_hostile_names_and_fills_the_input(tmp_path):
    shown_name = "[red]x [@click=app.quit]y 王伟.txt"  # no "[/]": a file name cannot hold "/"
    real_name = shown_name.replace("y", "y" + ESCAPE_SEQ)
    (tmp_path / real_name).write_text("x")
    modal = PathPrompt(HOSTILE, start=tmp_path, must_exist=True)
    async with running(modal) as (app, pilot):
        tree = modal.query_one(DirectoryTree)
        for _ in range(100):
            if tree.root.children:
                break
            await pilot.pause(0.02)
        assert_literal(app)
        assert shown_name in screen_text(app)
        await pilot.press("tab", "down", "enter")
        await pilot.pause()
        field = modal.query_one("#path", Input)
        assert field.value == str(tmp_path / shown_name) and field.has_focus
        assert_literal(app, shown_name)
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == tmp_path / real_name
