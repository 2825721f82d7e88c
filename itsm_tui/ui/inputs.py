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
from textual.widgets import Input, TextArea


class InOrderKeys:
    """Runs the field's own (non-priority) bindings as their key arrives, as the app would run
    them later. Priority bindings never reach the field: the app runs them first."""

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
