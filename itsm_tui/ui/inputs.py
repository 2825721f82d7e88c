"""Text fields that keep keys typed ahead across a focus change.

Textual hands each key to the widget focused when the app reads it, and a field moves focus only
when its Tab or Enter has travelled up to the screen. So "user TAB password ENTER" typed faster
than that (a password manager's auto-type, a quick typist over a slow SSH link) queued the
password on the user field too. These fields move focus themselves, at once, and pass on any
key that reaches them after focus has left.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input, TextArea


class TypeAheadInput(Input):
    def __init__(self, *args, enter_advances: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enter_advances = enter_advances  # Enter moves on like Tab (instead of submitting)

    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused
        if focused is not self and isinstance(focused, (Input, TextArea)):  # has_focus lags
            if event.is_printable or event.key in ("tab", "shift+tab", "enter"):
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
            return
        await super()._on_key(event)
