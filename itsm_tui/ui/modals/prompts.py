"""Prompts for one value: a piece of text, or a path (typed or picked from a tree)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DirectoryTree, Input, Label, TextArea

from itsm_tui.core import files
from itsm_tui.core.errors import ItsmError
from itsm_tui.core.store.db_errors import DATABASE_ERRORS
from itsm_tui.core.text import strip_controls
from itsm_tui.ui.inputs import InOrderInput, InOrderTextArea
from itsm_tui.ui.modals.base import ConfirmModal, ErrorLine, ModalBase, literal
from itsm_tui.ui.modals.draft_keeper import Draft, DraftKeeper, kept_message

Saved = TypeVar("Saved")


class TextPrompt(ModalBase[Any]):
    """Ask for one piece of text: a TextArea (ctrl+s submits) or a single-line Input (Enter).

    With ``submit``, the prompt saves the text itself (``submit(text, request_key)`` in a
    thread) and closes with its result only once saved: a failed save keeps it open with the
    text and says why. With ``draft``, the text is kept as typed and comes back next time."""

    BINDINGS = [Binding("ctrl+s", "submit", "Save", show=False)]
    DEFAULT_CSS = """
    TextPrompt #label { width: 1fr; }
    TextPrompt TextArea { height: 10; max-height: 40vh; }
    """

    def __init__(
        self,
        title: str,
        label: str,
        *,
        multiline: bool = True,
        initial: str = "",
        required: bool = True,
        max_length: int | None = None,
        draft: Draft | None = None,
        submit: Callable[[str, str | None], object] | None = None,
        verb: str = "save",
    ):
        super().__init__(title)
        self.label_text = label
        self.multiline = multiline
        self.pristine = strip_controls(initial, multiline=multiline)
        self.required = required
        self.max_length = max_length
        self.submit = submit
        self.busy = False
        self.keeper = DraftKeeper(
            self, draft, lambda: {"text": self.value()} if self.value() != self.pristine else None
        )
        kept = self.keeper.load().get("text")
        self.initial = strip_controls(kept, multiline=multiline) if isinstance(kept, str) else self.pristine
        self.HINT = f"{'ctrl+s' if multiline else 'enter'} {verb} · esc cancel"  # verb: what Enter does

    def compose_body(self) -> ComposeResult:
        yield Label(literal(self.label_text), id="label")
        if self.multiline:
            yield InOrderTextArea(self.initial, id="value")
        else:
            yield InOrderInput(
                self.initial, id="value", max_length=self.max_length or 0, select_on_focus=False
            )
        yield ErrorLine(id="error")

    def on_mount(self) -> None:
        widget = self.query_one("#value")
        if isinstance(widget, TextArea):
            widget.move_cursor(widget.document.end)  # typing goes on where the text ends
        if self.initial != self.pristine:
            self.query_one(ErrorLine).show("Your unsaved text from last time is back.")

    def value(self) -> str:
        widget = self.query_one("#value")
        return widget.text if isinstance(widget, TextArea) else widget.value

    def is_changed(self) -> bool:
        """Only a prompt that keeps a draft (a comment) asks: a command or a name is one line."""
        return self.keeper.draft is not None and self.value() != self.pristine

    def discard_draft(self) -> None:
        self.keeper.discard()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.keeper.changed()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.keeper.changed()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_submit()

    async def action_submit(self) -> None:
        if self.busy:
            return
        value = self.value()
        error = self.query_one(ErrorLine)
        if self.required and not value.strip():
            error.show("This cannot be empty.")
            return
        if self.max_length is not None and len(value) > self.max_length:
            error.show(f"Too long: {len(value)} characters, at most {self.max_length}.")
            return
        if self.submit is None:
            self.keeper.discard()
            self.dismiss(value)
            return
        error.clear()
        self.busy = True
        try:
            key = await asyncio.to_thread(self.keeper.request_key)
            result = await asyncio.to_thread(self.submit, value, key)
        except ItsmError as err:
            error.show(str(err))
            return
        except DATABASE_ERRORS as err:
            error.show(kept_message(err))
            return
        finally:
            self.busy = False
        await asyncio.to_thread(self.keeper.discard)
        self.dismiss(result)

    def action_cancel(self) -> None:
        if not self.busy:  # not while saving: the text would be saved with nobody told
            super().action_cancel()


async def saved_name(
    app, title: str, label: str, save: Callable[[str], Saved], initial: str = ""
) -> Saved | None:
    """Ask for a name on one line and ``save`` it from the prompt (in a thread): a failed save (a
    name taken) keeps the prompt open with the name typed. What ``save`` returned; None: cancelled."""
    return await app.push_screen_wait(
        TextPrompt(title, label, multiline=False, initial=initial, submit=lambda name, key: save(name))
    )


class SafeDirectoryTree(DirectoryTree):
    """A DirectoryTree that strips control characters (ESC sequences too) from file names."""

    def process_label(self, label: str | Text) -> Text:
        if isinstance(label, str):
            label = Text(strip_controls(label))
        return super().process_label(label)


def _existing_folder(path: Path) -> Path:
    """The nearest folder that exists, so the tree always has a root to show."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


class PathPrompt(ModalBase[Path | None]):
    """Type a path, or browse to a file in the tree; Enter on the path checks and returns it.

    The rules are :mod:`..core.files`': in served mode the prompt starts in, and never leaves,
    the operator's own folder (uploads to read from, exports to write to)."""

    HINT = "enter use this path · tab browse files · esc cancel"
    DEFAULT_CSS = "PathPrompt DirectoryTree { height: 12; max-height: 40vh; margin-top: 1; }"

    def __init__(
        self, title: str, *, start: Path, must_exist: bool, initial_name: str = "", username: str = ""
    ):
        super().__init__(title)
        self.username = username
        self.kind = files.UPLOADS if must_exist else files.EXPORTS
        self.confined = files.served()
        self.start = files.own_folder(self.kind, username) if self.confined else Path(start).expanduser()
        self.must_exist = must_exist
        self.initial_name = initial_name
        self.picked: Path | None = None  # the file last chosen in the tree

    def compose_body(self) -> ComposeResult:
        if self.confined:
            initial = self.initial_name
        elif self.initial_name:
            initial = str(self.start / self.initial_name)
        else:
            initial = str(self.start) + os.sep
        yield InOrderInput(strip_controls(initial), select_on_focus=False, id="path")
        yield ErrorLine(id="error")
        yield SafeDirectoryTree(self.start if self.confined else _existing_folder(self.start), id="tree")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.picked = event.path
        field = self.query_one("#path", Input)
        field.value = strip_controls(str(event.path))
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.query_one(ErrorLine)
        error.clear()
        path, problem = self.check(event.value)
        if problem:
            error.show(problem)
        elif not self.must_exist and os.path.lexists(path):
            question = ConfirmModal(
                "Overwrite file?", f"{path} already exists. Replace it?", yes="Overwrite", no="Cancel"
            )
            self.app.push_screen(question, partial(self._overwrite, path))
        else:
            self.dismiss(path)

    def _overwrite(self, path: Path, confirmed: bool) -> None:
        # A named method, not a lambda: a callback that returns dismiss()'s awaitable gets
        # awaited by Textual, which raises ScreenError from inside this screen's handler.
        if confirmed:
            self.dismiss(path)

    def typed_path(self, text: str) -> str:
        """The path in the Input. A file name may hold control characters, which the Input
        never shows, so an unchanged pick from the tree maps back to its file."""
        if self.picked is not None and text == strip_controls(str(self.picked)):
            return str(self.picked)
        return text

    def check(self, text: str) -> tuple[Path | None, str]:
        """The path meant and what is wrong with it, if anything."""
        if not text.strip():
            return None, "Enter a file name."
        try:
            if self.must_exist:
                return files.source(self.typed_path(text), self.username, base=self.start), ""
            return files.target(self.typed_path(text), self.username, base=self.start, overwrite=True), ""
        except ItsmError as exc:
            return None, str(exc)
