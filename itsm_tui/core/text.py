"""Sanitising of untrusted text at the data boundary.

Terminal control sequences (C0, DEL, C1) and bidi override/isolate characters are removed, so
stored text can never drive the operator's terminal or reorder what is displayed. Newlines and
tabs survive only in multi-line fields.
"""

from __future__ import annotations

import re

from .errors import ValidationError

_BIDI = "\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
# ESC-introduced CSI/OSC/other sequences, and their one-byte C1 forms (CSI \x9b, OSC \x9d).
_ESCAPE_SEQUENCE = re.compile(
    r"(\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(\x1b\]|\x9d)[^\x07\x1b\x9c]*(\x07|\x1b\\|\x9c)?"
    r"|\x1b[@-Z\\-_]"
)


def strip_controls(value: str, multiline: bool = False) -> str:
    """Drop escape sequences whole (so no ``[31m`` residue), then any remaining control chars."""
    value = _ESCAPE_SEQUENCE.sub("", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        return _MULTI_LINE.sub("", value)
    return _SINGLE_LINE.sub("", value.replace("\t", " "))


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
        raise ValidationError(
            f"{field} is too long: {len(value)} characters, at most {max_len}", field
        )
    return value


def optional(value: object, field: str, *, max_len: int, multiline: bool = False) -> str | None:
    """Like ``clean`` but an empty value becomes None."""
    return clean(value, field, max_len=max_len, required=False, multiline=multiline) or None
