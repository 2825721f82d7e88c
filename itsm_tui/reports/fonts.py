"""Fonts for the PDFs: an embedded TrueType family for Latin and beyond, and a CJK fallback.

The 14 standard PDF fonts cover Latin-1 only. We register DejaVu Sans (Latin, Greek, Cyrillic,
Arabic, Hebrew; Debian's fonts-dejavu-core) or, failing that, the Vera family that reportlab
ships. For characters the main font lacks (Chinese, Japanese, Korean) a fallback TrueType font
is embedded (Droid Sans Fallback, WenQuanYi); when none is installed, reportlab's built-in CID
font STSong-Light (not embedded, but every PDF reader has it) still prints them.

:func:`runs` splits a text into (font, text) pieces so a line can mix fonts; :func:`markup`
does the same for a Paragraph, escaping every piece (ticket text is never reportlab markup).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

_VERA = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
_DEJAVU = "/usr/share/fonts/truetype/dejavu"
# (regular, bold) candidates, best first
_MAIN = [
    (os.path.join(_DEJAVU, "DejaVuSans.ttf"), os.path.join(_DEJAVU, "DejaVuSans-Bold.ttf")),
    (os.path.join(_VERA, "Vera.ttf"), os.path.join(_VERA, "VeraBd.ttf")),
]
_FALLBACKS = [
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
]
CID_FALLBACK = "STSong-Light"

REGULAR, BOLD, FALLBACK = "ItsmSans", "ItsmSans-Bold", "ItsmFallback"
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")  # Hebrew, Arabic


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    fallback: str
    covered: frozenset[int]  # code points the main font has
    fallback_covered: frozenset[int] | None  # None: a CID font (assumed to have the rest)


@lru_cache(maxsize=1)
def fonts() -> Fonts:
    """Register the fonts once per process and say which characters each covers."""
    regular_path, bold_path = next(pair for pair in _MAIN if all(map(os.path.exists, pair)))
    regular = TTFont(REGULAR, regular_path)
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, bold_path))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    covered = frozenset(regular.face.charToGlyph)
    path = next((p for p in _FALLBACKS if os.path.exists(p)), None)
    if path is not None:
        fallback = TTFont(FALLBACK, path, subfontIndex=0)
        pdfmetrics.registerFont(fallback)
        return Fonts(REGULAR, BOLD, FALLBACK, covered, frozenset(fallback.face.charToGlyph))
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return Fonts(REGULAR, BOLD, CID_FALLBACK, covered, None)


def visual(text: str) -> str:
    """Right-to-left text in the order it is drawn, Arabic letters in their joined forms
    (PDF text is drawn left to right, glyph by glyph; reportlab shapes nothing itself)."""
    if not _RTL.search(text):
        return text
    try:
        import arabic_reshaper
        from bidi import get_display
    except ImportError:  # the letters still print, unjoined and in logical order
        return text
    return get_display(arabic_reshaper.reshape(text))


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` as (font name, piece) runs in drawing order: ``font`` where it has the glyphs,
    else the fallback; a character neither has (most emoji) as its code point, ``[U+1F525]``,
    where it would print as an empty box."""
    f = fonts()
    if text.isascii():
        return [(font, text)]
    text = visual(text)
    pieces: list[tuple[str, str]] = []
    for char in text:
        code = ord(char)
        use_fallback = code not in f.covered and (f.fallback_covered is None or code in f.fallback_covered)
        name = f.fallback if use_fallback else font
        if code not in f.covered and not use_fallback:
            char = f"[U+{code:04X}]"
        if pieces and pieces[-1][0] == name:
            pieces[-1] = (name, pieces[-1][1] + char)
        else:
            pieces.append((name, char))
    return pieces


def font_for(text: str, font: str) -> str:
    """``font``, or the fallback when ``text`` needs it (for a label drawn in one font)."""
    return font if all(name == font for name, _ in runs(text, font)) else fonts().fallback


def markup(text: str, font: str | None = None) -> str:
    """Paragraph markup that prints ``text`` literally, with fallback-font runs where needed."""
    font = font or fonts().regular
    return "".join(
        escape(piece) if name == font else f'<font name="{name}">{escape(piece)}</font>'
        for name, piece in runs(text, font)
    )


def width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(piece, name, size) for name, piece in runs(text, font))


def fit(text: str, font: str, size: float, room: float) -> str:
    """``text`` cut with an ellipsis so that it is at most ``room`` points wide."""
    if width(text, font, size) <= room:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        mid = (low + high + 1) // 2
        if width(text[:mid] + "…", font, size) <= room:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "…"


def draw(canvas, x: float, y: float, text: str, font: str, size: float) -> None:
    """Draw ``text`` at (x, y), switching to the fallback font for the characters it needs."""
    for name, piece in runs(text, font):
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, name, size)
