"""The key footer of every screen, drawn as one line of text.

Textual's Footer is a container of one widget per key, and it re-composes (unmounts and
mounts all of them) on every focus or screen-stack change, three or four times per screen
change, although the keys rarely differ: that was most of the time of opening a ticket or
applying a filter. This footer looks the same (the command palette key on the right) but is a
single widget that repaints only when the keys it shows really change. A click on a key
presses it, as in Textual's.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget


class _Key(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool


class KeyFooter(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--separator"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-footer--separator { color: $foreground 20%; }
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._keys: tuple[_Key, ...] = ()
        self._palette: _Key | None = None
        self._spans: list[tuple[int, int, _Key]] = []  # where each key was drawn, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._read_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        """Focus, the screen stack or a dynamic action changed. Looking at once (not after the
        next refresh, as Textual's does) lets the new keys show in the same repaint as the rest."""
        self._read_keys()

    def _read_keys(self) -> None:
        if not self.is_attached:
            return
        app = self.app
        keys, seen, palette = [], set(), None
        for _, binding, enabled, _tooltip in self.screen.active_bindings.values():
            key = _Key(binding.key, app.get_key_display(binding), binding.description, enabled)
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = key
            elif binding.show and binding.action not in seen:  # one key per action, as Textual's
                seen.add(binding.action)
                keys.append(key)
        keys.sort(key=lambda k: k.key != "question_mark")  # ? first: it lists every other key
        if (tuple(keys), palette) != (self._keys, self._palette):
            self._keys, self._palette = tuple(keys), palette
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        width = self.size.width
        right = Text()
        if self._palette is not None:
            right.append("▏", self.get_component_rich_style("key-footer--separator"))
            right.append_text(self._label(self._palette, key_style, description_style, compact=True))
            right.append(" ")
        room = max(0, width - len(right))
        # Too many keys for the width: tighter labels, then whole keys dropped from the end
        # (? first, so the list of every key stays reachable); never a key cut in half.
        compact = sum(len(self._label(k, key_style, description_style)) for k in self._keys) > room
        line, spans = Text(), []
        for key in self._keys:
            label = self._label(key, key_style, description_style, tight=compact)
            if len(line) + len(label) > room:
                break
            start = len(line)
            line.append_text(label)
            spans.append((start, len(line), key))
        line.truncate(room, pad=True)
        if self._palette is not None:
            spans.append((len(line), len(line) + len(right), self._palette))
        self._spans = spans
        line.append_text(right)
        return line

    @staticmethod
    def _label(
        key: _Key, key_style: Style, description_style: Style, compact: bool = False, tight: bool = False
    ) -> Text:
        """`` k Description `` (``tight``: ``k Description ``; the palette's key, on the right:
        ``k Description``)."""
        display = key.display if compact else (f"{key.display} " if tight else f" {key.display} ")
        description = f" {key.description}" if compact else f"{key.description} "
        label = Text.assemble((display, key_style), (description, description_style))
        if not key.enabled:
            label.stylize(Style(dim=True))
        return label

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return
