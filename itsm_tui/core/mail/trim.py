"""Cutting the quoted history and the signature off a reply, as mail clients write them.

Outlook: "-----Original Message-----", or a "From: / Sent:" block (often under a line of
underscores); Gmail and Apple Mail: "On <date>, <name> wrote:" (sometimes wrapped over two lines)
and ">" quotes; the same in German. The signature: a "-- " line, "Sent from my iPhone".
What is cut is never lost: the intake keeps the whole message as an attachment. A reply that is
nothing but quote keeps its text whole.
"""

from __future__ import annotations

import re

_QUOTE_HEADERS = (
    re.compile(r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted message's headers
    re.compile(r"^\s*>?\s*(on|am|le)\s.{4,300}\s(wrote|schrieb|a écrit)\s?:\s*$", re.I),
    re.compile(r"^\s*#{2,}\s*reply above this line\s*#{2,}\s*$", re.I),  # our own mails' marker
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(from|von|de)\s*:\*?\s", re.I)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(sent|date|gesendet|datum|envoyé|to|an)\s*:\*?\s", re.I)
_SIGNATURES = (
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*(sent from my |get outlook for |von meinem .* gesendet)", re.I),
)


def trim(text: str) -> str:
    """The new text of a reply: the quote and the signature removed."""
    lines = text.split("\n")
    cut = _quote_start(lines)
    kept = lines[:cut]
    for i, line in enumerate(kept):
        if any(p.match(line) for p in _SIGNATURES):
            kept = kept[:i]
            break
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()


def _quote_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        joined = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if any(p.match(line) for p in _QUOTE_HEADERS) or _QUOTE_HEADERS[2].match(joined):
            return i
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1 : i + 4]):
            return i
        if line.lstrip().startswith(">") and all(
            not rest.strip() or rest.lstrip().startswith(">") for rest in lines[i:]
        ):
            return i
    return len(lines)
