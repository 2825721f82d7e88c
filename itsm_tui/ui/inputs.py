"""The app's text fields: they take a burst of keys (a quick typist over a slow SSH link, a
password manager's auto-type) in the order it was typed.

Textual hands each key to the widget focused when the app reads it, but runs the widget's key
bindings (backspace, ctrl+u, arrows, Enter) only once the key has travelled up to the app; by
then the field has taken the next keys of the burst. So "ctrl+u status" typed at once left the
filter empty (ctrl+u ran after "status" was in; Textual issue #6605), and "user TAB password
ENTER" queued the password on the user field too, as the field moved focus only when its Tab
had reached the screen.
"""

from __future__ import annotations

from textual import events
from textual._xterm_parser import XTermParser
from textual.widgets import Input, TextArea

from itsm_tui.core.text import strip_controls

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
PASTE_MAX = 1 << 20  # characters of an unfinished paste held before giving up on its end


class InOrderKeys:
    """Runs the field's own (non-priority) bindings as their key arrives, as the app would run
    them later. Priority bindings never reach the field: the app runs them first. Pasted text
    arrives without control characters (a second guard behind :class:`CleanPasteParser`)."""

    async def _on_paste(self, event: events.Paste) -> None:
        event.text = strip_controls(event.text, multiline=isinstance(self, TextArea))

    async def _on_key(self, event: events.Key) -> None:
        if self.screen.focused is not self:  # a late key: the app runs it where focus is now
            return
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()  # not Input's or TextArea's own handler too
                return


class InOrderInput(InOrderKeys, Input):
    pass


class InOrderTextArea(InOrderKeys, TextArea):
    pass


class TypeAheadInput(InOrderInput):
    """Moves focus itself, at once, on Tab (and Enter, with ``enter_advances``), and passes on
    any key that reaches it after focus has left for another text field."""

    def __init__(self, *args, enter_advances: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enter_advances = enter_advances  # Enter moves on like Tab (instead of submitting)

    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused
        if focused is not self and isinstance(focused, (Input, TextArea)):  # has_focus lags
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return
        moves = {"tab": self.screen.focus_next, "shift+tab": self.screen.focus_previous}
        if self.enter_advances:
            moves["enter"] = self.screen.focus_next
        if event.key in moves:
            event.stop()
            event.prevent_default()
            moves[event.key]()
        # otherwise Textual goes on to InOrderKeys' handler and Input's, along the MRO


class PasteCleaner:
    """Takes the text of each bracketed paste out of the terminal's input and gives it back
    without control characters, before Textual's parser reads it.

    Textual's parser reads an ESC inside a paste as the start of a key sequence: the text after
    it left the paste as separate keys (typed before the paste: the order changed), newlines
    were lost and ESC showed as ``^``. A paste not finished in this read waits for its end."""

    def __init__(self) -> None:
        self.pending = ""

    def __call__(self, data: str) -> str:
        data, self.pending, out = self.pending + data, "", []
        while (start := data.find(PASTE_START)) >= 0:
            end = data.find(PASTE_END, start + len(PASTE_START))
            if end < 0:
                if len(data) - start > PASTE_MAX:  # no end in sight: let the parser have it
                    break
                out.append(data[:start])
                self.pending = data[start:]
                return "".join(out)
            body = data[start + len(PASTE_START) : end]
            out.append(data[:start] + PASTE_START + strip_controls(body, multiline=True) + PASTE_END)
            data = data[end + len(PASTE_END) :]
        # a start marker cut by the read ("ESC [ 2 0"): its rest comes next (the parser too
        # would wait for it); shorter ends ("ESC", "ESC [") are keys and go on now
        for size in range(len(PASTE_START) - 1, 2, -1):
            if data.endswith(PASTE_START[:size]):
                data, self.pending = data[:-size], data[-size:]
                break
        out.append(data)
        return "".join(out)

    def flush(self) -> str:
        rest, self.pending = self.pending, ""
        return rest


class CleanPasteParser(XTermParser):
    """Textual's terminal parser with each paste cleaned first (see :class:`PasteCleaner`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cleaner = PasteCleaner()

    def feed(self, data: str):
        if not data:  # the end of input: what waited goes through as it is
            rest = self.cleaner.flush()
            if rest:
                yield from super().feed(rest)
            yield from super().feed(data)
            return
        yield from super().feed(self.cleaner(data))


def clean_pastes() -> None:
    """Make the terminal drivers read input through :class:`CleanPasteParser` (they create
    their parser from a module-level name; Textual offers no other way in)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = CleanPasteParser
