"""Pasted text with escape sequences (issue 17 item 22): the paste reaches the field whole, in
order, with its newlines, and without the sequences."""

from __future__ import annotations

import pytest
from test_ui_modals import running
from textual import events
from textual._xterm_parser import XTermParser

from itsm_tui.ui.inputs import PASTE_END, PASTE_START, CleanPasteParser
from itsm_tui.ui.modals.prompts import TextPrompt

HOSTILE = "Printer broken \x1b[31mred\x1b[0m\nline 2 \x1b]8;;http://x\x07link\x1b]8;;\x07 end\x1b"


def events_of(parser, *chunks: str) -> list:
    found = []
    for chunk in chunks:
        found += list(parser.feed(chunk))
    return found


@pytest.mark.parametrize("cut", [None, 5, 23, 40])
def test_a_paste_with_escape_sequences_arrives_whole_and_clean(cut):
    data = "a" + PASTE_START + HOSTILE + PASTE_END + "b"
    chunks = (data,) if cut is None else (data[:cut], data[cut:])
    found = events_of(CleanPasteParser(), *chunks)
    assert [type(e).__name__ for e in found] == ["Key", "Paste", "Key"]
    assert found[1].text == "Printer broken red\nline 2 link end"
    assert (found[0].key, found[2].key) == ("a", "b")


def test_textuals_own_parser_splits_such_a_paste():
    """What the cleaner is for: without it, the text after ESC leaves the paste."""
    found = events_of(XTermParser(), PASTE_START + HOSTILE + PASTE_END)
    pastes = [e for e in found if isinstance(e, events.Paste)]
    assert not pastes or pastes[0].text != "Printer broken red\nline 2 link end"


@pytest.mark.asyncio
async def test_a_paste_event_with_controls_is_cleaned_by_the_field():
    modal = TextPrompt("Comment", "text")
    async with running(modal) as (app, pilot):
        area = modal.query_one("#value")
        app.post_message(events.Paste("one\x1b[2J two\nthree\x9b1m"))  # as the driver does
        await pilot.pause()
        assert area.text == "one two\nthree"
