"""The look shared by every PDF: page size, colours, paragraph styles, the running header and
footer ("Page x of y"), and the lazily fed flowable list that lets reports stream."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate

from itsm_tui.reports import fonts

MARGIN = 14 * mm
INK = colors.HexColor("#1F2937")
MUTED = colors.HexColor("#6B7280")
ACCENT = colors.HexColor("#1F3A5F")
ZEBRA = colors.HexColor("#F1F4F8")
RULE = colors.HexColor("#CBD5E1")

# a status or priority word (lower case) -> (background, text colour) of its pill; in the
# order the totals of a list list them
PILLS = {
    "new": ("#DBEAFE", "#1E40AF"),
    "in progress": ("#DCFCE7", "#166534"),
    "waiting on user": ("#FEF3C7", "#92400E"),
    "waiting on vendor": ("#FEF3C7", "#92400E"),
    "resolved": ("#E5E7EB", "#374151"),
    "closed": ("#F3F4F6", "#6B7280"),
    "in use": ("#DCFCE7", "#166534"),
    "in stock": ("#DBEAFE", "#1E40AF"),
    "in repair": ("#FEF3C7", "#92400E"),
    "retired": ("#F3F4F6", "#6B7280"),
    "low": ("#FEE2E2", "#991B1B"),
    "critical": ("#DC2626", "#FFFFFF"),
    "high": ("#F97316", "#FFFFFF"),
    "medium": ("#FEF9C3", "#713F12"),
    "low priority": ("#F3F4F6", "#4B5563"),
    "comment": ("#DBEAFE", "#1E40AF"),
    "internal note": ("#FEF3C7", "#92400E"),
    "change": ("#F3F4F6", "#4B5563"),
    "attachment": ("#F3F4F6", "#4B5563"),
    "breached": ("#DC2626", "#FFFFFF"),
    "at risk": ("#FEF3C7", "#92400E"),
    "on track": ("#DCFCE7", "#166534"),
    "paused": ("#E5E7EB", "#374151"),
    "met": ("#F3F4F6", "#166534"),
}


_PILL_COLOURS = {word: (colors.HexColor(back), colors.HexColor(ink)) for word, (back, ink) in PILLS.items()}


def pill_key(word: str, look: str) -> str:
    """The key of PILLS for a cell's word ("Low" is a priority's or a stock level's)."""
    key = word.lower()
    return "low priority" if look == "priority" and key == "low" else key


def pill(word: str, look: str) -> tuple | None:
    """(background, text) colours for a status or priority cell, or None for a plain cell."""
    return _PILL_COLOURS.get(pill_key(word, look))


def page_size(wide: bool):
    return landscape(A4) if wide else A4


def styles() -> dict[str, ParagraphStyle]:
    f = fonts.fonts()
    base = ParagraphStyle("body", fontName=f.regular, fontSize=9, leading=12, textColor=INK)
    return {
        "title": ParagraphStyle(
            "title", base, fontName=f.bold, fontSize=17, leading=21, textColor=ACCENT, spaceAfter=4
        ),
        "heading": ParagraphStyle(
            "heading",
            base,
            fontName=f.bold,
            fontSize=11.5,
            leading=15,
            textColor=ACCENT,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "meta": ParagraphStyle("meta", base, fontSize=8.5, leading=11.5, textColor=MUTED),
        "body": base,
        "cell": ParagraphStyle("cell", base, fontSize=8.5, leading=11),
        "label": ParagraphStyle("label", base, fontName=f.bold, fontSize=8.5, leading=11, textColor=MUTED),
    }


def table_font() -> list[tuple]:
    """The TableStyle command that gives a Table's plain-string cells (even empty ones) our
    embedded font: a Table's own default is Helvetica, which is never embedded."""
    return [("FONTNAME", (0, 0), (-1, -1), fonts.fonts().regular)]


# A long text is cut into pieces of at most this many lines and characters, each its own
# paragraph or table row: reportlab cannot split a table row across pages (a taller one fails
# with LayoutError), and it re-wraps the whole rest of a paragraph at every page break (a
# 10,000-line paragraph took minutes).
PIECE_LINES = 30
PIECE_CHARS = 2000


def pieces(text: str) -> list[str]:
    """``text`` cut at line breaks into pieces of at most PIECE_LINES lines and PIECE_CHARS
    characters; a longer line is cut where a space is near the limit, else at the limit."""
    out: list[str] = []
    lines: list[str] = []
    size = 0
    for line in str(text).split("\n"):
        while len(line) > PIECE_CHARS:
            cut = line.rfind(" ", PIECE_CHARS // 2, PIECE_CHARS)
            cut = cut + 1 if cut > 0 else PIECE_CHARS
            if lines:
                out.append("\n".join(lines))
                lines, size = [], 0
            out.append(line[:cut])
            line = line[cut:]
        if lines and (len(lines) == PIECE_LINES or size + len(line) > PIECE_CHARS):
            out.append("\n".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        out.append("\n".join(lines))
    return out


_HELD_SPACE = re.compile(r"(?<= ) |^ ")  # a space after a space, or leading a line


def para(text: str, style: ParagraphStyle):
    """A Paragraph that prints ``text`` literally (escaped; line breaks, indentation and runs of
    spaces kept: a Paragraph would fold them into one, and a log's columns would collapse)."""
    from reportlab.platypus import Paragraph

    lines = (_HELD_SPACE.sub("\u00a0", line.expandtabs(4)) for line in str(text).split("\n"))
    return Paragraph("<br/>".join(fonts.markup(line, style.fontName) for line in lines), style)


@dataclass(frozen=True)
class Masthead:
    """What every page says about the document: its title, who made it, when, from where."""

    title: str
    author: str
    at: datetime
    database: str

    def generated(self) -> str:
        return f"Generated by {self.author} on {self.at:%Y-%m-%d %H:%M} UTC from {self.database}"


def document(target, size, masthead: Masthead) -> BaseDocTemplate:
    """A report's document: the shared margins, metadata and base font."""
    return BaseDocTemplate(
        target,
        pagesize=size,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=masthead.title,
        author=masthead.author,
        creator="itsm-tui",
        initialFontName=fonts.fonts().regular,
        initialFontSize=9,
    )


class PageDecor:
    """The onPage callback: a title line on top, the origin and 'Page x of y' at the bottom.

    The total is known before the first page is drawn (list pages have a fixed number of
    rows), or filled in by a second pass (reports that flow)."""

    def __init__(self, masthead: Masthead, total_pages: int | None = None):
        self.masthead = masthead
        self.total_pages = total_pages

    def __call__(self, canvas, doc) -> None:
        f = fonts.fonts()
        width, height = doc.pagesize
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        top = height - MARGIN + 8
        canvas.line(MARGIN, top - 3, width - MARGIN, top - 3)
        canvas.setFillColor(ACCENT)
        fonts.draw(canvas, MARGIN, top, fonts.fit(self.masthead.title, f.bold, 8.5, width / 2), f.bold, 8.5)
        canvas.setFillColor(MUTED)
        label = fonts.fit(self.masthead.database, f.regular, 8, width / 2 - 2 * MARGIN)
        fonts.draw(canvas, width - MARGIN - fonts.width(label, f.regular, 8), top, label, f.regular, 8)
        bottom = MARGIN - 12
        canvas.line(MARGIN, bottom + 10, width - MARGIN, bottom + 10)
        origin = fonts.fit(self.masthead.generated(), f.regular, 7.5, width - 2 * MARGIN - 90)
        fonts.draw(canvas, MARGIN, bottom, origin, f.regular, 7.5)
        number = f"Page {doc.page} of {self.total_pages or '?'}"
        canvas.setFont(f.regular, 7.5)
        canvas.drawRightString(width - MARGIN, bottom, number)
        canvas.restoreState()


class Stream(list):
    """A flowable list that pulls from a generator as the document consumes it, so a report
    of 100,000 rows never holds more than a page or two of flowables. reportlab's build loop
    asks ``len()`` before taking the next flowable; we top the list up there."""

    def __init__(self, flowables):
        super().__init__()
        self._source = iter(flowables)

    def __len__(self) -> int:
        while self._source is not None and list.__len__(self) < 2:
            try:
                self.append(next(self._source))
            except StopIteration:
                self._source = None
        return list.__len__(self)
