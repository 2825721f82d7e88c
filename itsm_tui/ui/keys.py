"""Keys as people want them (issue 21): the configuration file's ``[keys]`` section remaps any
action's key, e.g. ``macro = "M"`` or ``assign_me = "t,ctrl+t"``.

Textual remaps bindings by their id (``App.set_keymap``), and the footer, ``?`` and the
palette then show the new keys. Here every binding of the app's own screens, modals and widgets
gets its action's name as its id, so that any action can be named in ``[keys]`` without each
binding having to be written with an id: the classes loaded so far when the app starts, and each
screen's nodes when it is shown (a screen module is imported when first opened).
"""

from __future__ import annotations

import dataclasses

from textual.binding import BindingsMap
from textual.dom import DOMNode

from itsm_tui.core import config

PACKAGE = "itsm_tui."


def keymap() -> dict[str, str]:
    """{action: keys} from the configuration file."""
    return dict(config.settings().keys)


def _named(bindings: BindingsMap) -> None:
    for key, listed in bindings.key_to_bindings.items():
        bindings.key_to_bindings[key] = [b if b.id else dataclasses.replace(b, id=b.action) for b in listed]


def name_classes(root: type = DOMNode) -> None:
    """Give the bindings of every loaded class of the app an id: its action."""
    for cls in root.__subclasses__():
        if cls.__module__.startswith(PACKAGE) and cls.__dict__.get("_merged_bindings") is not None:
            _named(cls._merged_bindings)
        name_classes(cls)


def name_nodes(node: DOMNode) -> None:
    """The same for ``node`` and what it holds now (made before their class was named)."""
    for each in [node, *node.walk_children()]:
        if type(each).__module__.startswith(PACKAGE):
            _named(each._bindings)


def key_of(action: str, default: str) -> str:
    """The key shown for ``action``: the user's own, else ``default``."""
    return keymap().get(action, default)
