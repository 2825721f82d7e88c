"""Sanitising of untrusted text at the data boundary.

Terminal control sequences (C0, DEL, C1) and bidi override/isolate characters are removed, so
stored text can never drive the operator's terminal or reorder what is displayed. Newlines and
tabs survive only in multi-line fields.
"""

from __future__ import annotations

import re

from itsm_tui.core.errors import ValidationError

_BIDI = "\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
# Escape sequences, removed whole so no residue such as ``[31m`` is left. A sequence ends where a
# terminal would end it, and never later than the end of its line, so a sequence left open (no
# final byte, no terminator) can take at most the rest of its own line, never the text after it:
# - CSI (ESC [ or C1 \x9b): parameter and intermediate bytes, then one final byte;
# - control strings, OSC (ESC ] / \x9d), DCS (ESC P / \x90), SOS (ESC X / \x98), PM (ESC ^ /
#   \x9e), APC (ESC _ / \x9f): a payload up to BEL or ST (ESC \ or \x9c), or up to a line break;
# - nF sequences (ESC, intermediate bytes, a final byte: charset designation such as ESC ( B);
# - two-byte Fe sequences (ESC and one byte from @ to _, such as ESC M).
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c\n\r]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]+[0-~]"
    r"|\x1b[@-Z\\-_]"
)
_LINE_BREAK = re.compile(r"\r\n|[\r\n\t]")


def strip_controls(value: str, multiline: bool = False) -> str:
    """Drop escape sequences whole, then any remaining control character.

    Multi-line text keeps its newlines (CR LF and CR become LF) and tabs; in single-line text a
    line break or tab becomes a space, so the words on either side stay apart.
    """
    value = _ESCAPE_SEQUENCE.sub("", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        return _MULTI_LINE.sub("", value)
    return _SINGLE_LINE.sub("", _LINE_BREAK.sub(" ", value))


def clean(
    value: object,
    field: str,
    *,
    max_len: int,
    required: bool = True,
    multiline: bool = False,
) -> str:
    """Validate and sanitise one text field; the error names the field."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text", field)
    value = strip_controls(value, multiline=multiline).strip()
    if required and not value:
        raise ValidationError(f"{field} is required", field)
    if len(value) > max_len:
        raise ValidationError(f"{field} is too long: {len(value)} characters, at most {max_len}", field)
    return value


def optional(value: object, field: str, *, max_len: int, multiline: bool = False) -> str | None:
    """Like ``clean`` but an empty value becomes None."""
    return clean(value, field, max_len=max_len, required=False, multiline=multiline) or None
