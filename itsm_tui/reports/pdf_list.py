"""List PDFs (tickets, systems, peripherals, stock, log): a title block, then the rows.

Every row is one line of fixed height (long values end in an ellipsis), so each page holds a
known number of rows: the page count is known before the first page is drawn ("Page x of y" in
one pass), and each page is one small flowable that draws its rows straight onto the canvas.
That keeps 10,000 rows to a couple of seconds and, with the rows fed lazily from a spool, the
memory bounded (a single platypus Table of that size takes many seconds and grows without
bound). Cells are drawn with drawString, which never parses markup; the title block goes
through escaped Paragraphs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate, Spacer

from . import fonts
from .pdf_style import (
    ACCENT, INK, MARGIN, ZEBRA, Masthead, PageDecor, Stream, page_size, para, pill, styles,
)

CELL_SIZE = 8
ROW_HEIGHT = 14
HEADER_HEIGHT = 17
CHAR = 4.7  # points per character of a column's nominal width at CELL_SIZE
PAD = 4
MIN_FLEX = 24  # characters the flexible column gets at least


@dataclass(frozen=True)
class ListColumn:
    header: str
    width: int  # characters; 0 = takes the room left
    look: str = ""  # "status", "priority", "number" or ""


def layout(columns: Sequence[ListColumn]) -> tuple[bool, list[float]]:
    """(landscape?, column widths in points) so the columns fill the page width."""
    fixed = [c.width * CHAR + 2 * PAD for c in columns if c.width]
    flexible = sum(1 for c in columns if not c.width)
    needed = sum(fixed) + flexible * (MIN_FLEX * CHAR + 2 * PAD)
    wide = needed > page_size(False)[0] - 2 * MARGIN
    room = page_size(wide)[0] - 2 * MARGIN
    scale = min(1.0, room / needed) if needed else 1.0
    spare = room - sum(fixed) * scale
    widths = []
    for c in columns:
        if c.width:
            widths.append((c.width * CHAR + 2 * PAD) * scale)
        else:
            widths.append(spare / flexible)
    if not flexible:  # share what is left among all columns
        extra = (room - sum(widths)) / len(widths)
        widths = [w + extra for w in widths]
    return wide, widths


class RowBlock(Flowable):
    """The header row and one page's rows, drawn directly."""

    def __init__(self, columns: Sequence[ListColumn], widths: Sequence[float],
                 rows: Sequence[Sequence[str]], first_index: int):
        super().__init__()
        self.columns, self.widths, self.rows = columns, widths, rows
        self.first_index = first_index  # zebra striping continues across pages

    def wrap(self, available_width, available_height):
        return sum(self.widths), HEADER_HEIGHT + ROW_HEIGHT * len(self.rows)

    def draw(self) -> None:
        """Backgrounds first (header band, zebra stripes, pills), then all text in one text
        object: a text object per cell would cost more than the cell."""
        f = fonts.fonts()
        canvas = self.canv
        total_width = sum(self.widths)
        top = HEADER_HEIGHT + ROW_HEIGHT * len(self.rows)
        canvas.setFillColor(ACCENT)
        canvas.rect(0, top - HEADER_HEIGHT, total_width, HEADER_HEIGHT, stroke=0, fill=1)
        text = canvas.beginText()
        pen = _Pen(text)
        x = 0.0
        for column, width in zip(self.columns, self.widths):
            label = fonts.fit(column.header, f.bold, CELL_SIZE, width - 2 * PAD)
            pen.write(label, *self._place(label, x, width, f.bold, column.look),
                      top - HEADER_HEIGHT + 5.5, f.bold, colors.white)
            x += width
        canvas.setFillColor(ZEBRA)
        for n in range(len(self.rows)):
            if (self.first_index + n) % 2:
                canvas.rect(0, top - HEADER_HEIGHT - ROW_HEIGHT * (n + 1), total_width,
                            ROW_HEIGHT, stroke=0, fill=1)
        for n, row in enumerate(self.rows):
            y = top - HEADER_HEIGHT - ROW_HEIGHT * (n + 1)
            x = 0.0
            for column, width, value in zip(self.columns, self.widths, row):
                if value:
                    self._cell(pen, column, value, x, y, width)
                x += width
        canvas.drawText(text)

    def _cell(self, pen, column: ListColumn, value: str, x: float, y: float, width: float):
        f = fonts.fonts()
        colours = pill(value, column.look) if column.look in ("status", "priority") else None
        if colours:
            text = fonts.fit(value, f.regular, CELL_SIZE, width - 2 * PAD - 4)
            background, ink = colours
            self.canv.setFillColor(background)
            self.canv.rect(x + PAD - 2, y + 2.5, fonts.width(text, f.regular, CELL_SIZE) + 6,
                           ROW_HEIGHT - 5, stroke=0, fill=1)
            pen.write(text, x + PAD + 1, y + 4.5, f.regular, ink)
        else:
            text = fonts.fit(value, f.regular, CELL_SIZE, width - 2 * PAD)
            pen.write(text, self._place(text, x, width, f.regular, column.look)[0], y + 4.5,
                      f.regular, INK)

    @staticmethod
    def _place(text: str, x: float, width: float, font: str, look: str) -> tuple[float]:
        if look == "number":
            return (x + width - PAD - fonts.width(text, font, CELL_SIZE),)
        return (x + PAD,)


class _Pen:
    """Writes into one text object, switching font and colour only when they change."""

    def __init__(self, text):
        self.text = text
        self.font = self.colour = None

    def write(self, value: str, x: float, y: float, font: str, colour) -> None:
        if colour is not self.colour:
            self.text.setFillColor(colour)
            self.colour = colour
        for name, piece in fonts.runs(value, font):
            if name != self.font:
                self.text.setFont(name, CELL_SIZE)
                self.font = name
            self.text.setTextOrigin(x, y)
            self.text.textOut(piece)
            x += pdfmetrics.stringWidth(piece, name, CELL_SIZE)


def write(out, masthead: Masthead, summary: Sequence[tuple[str, str]],
          columns: Sequence[ListColumn], total: int, rows: Iterable[Sequence[str]],
          progress: Callable[[int], None] | None = None) -> int:
    """Write the list PDF for ``total`` rows (``rows`` must yield exactly that many display
    tuples) to the binary file ``out``; returns the page count. ``summary`` are the
    (label, value) lines under the title; ``progress(rows_done)`` is called after each page."""
    wide, widths = layout(columns)
    size = page_size(wide)
    frame_height = size[1] - 2 * MARGIN
    style = styles()
    intro = [para(masthead.title, style["title"])]
    for label, value in summary:
        intro.append(para(f"{label}: {value}" if label else value, style["meta"]))
    intro.append(Spacer(1, 8))
    intro_height = sum(flowable.wrap(size[0] - 2 * MARGIN, frame_height)[1]
                       + flowable.getSpaceBefore() + flowable.getSpaceAfter() for flowable in intro)
    per_page = int((frame_height - HEADER_HEIGHT) // ROW_HEIGHT)
    first_page = max(0, int((frame_height - intro_height - HEADER_HEIGHT - 4) // ROW_HEIGHT))
    pages = 1 if total <= first_page else 1 + math.ceil((total - first_page) / per_page)

    doc = BaseDocTemplate(out, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN,
                          topMargin=MARGIN, bottomMargin=MARGIN, title=masthead.title,
                          author=masthead.author, creator="itsm-tui",
                          initialFontName=fonts.fonts().regular, initialFontSize=9)
    frame = Frame(MARGIN, MARGIN, size[0] - 2 * MARGIN, frame_height, id="rows",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("list", [frame], onPage=PageDecor(masthead, pages))])

    def flowables() -> Iterator[Flowable]:
        yield from intro
        source = iter(rows)
        done, room = 0, first_page
        if total == 0:
            yield para("No rows match this filter.", style["body"])
        while done < total:
            chunk = [row for _, row in zip(range(min(room, total - done)), source)]
            if len(chunk) < min(room, total - done):
                raise RuntimeError("the rows ran out before the announced total")
            yield RowBlock(columns, widths, chunk, done)
            done += len(chunk)
            if progress:
                progress(done)
            if done < total:
                yield PageBreak()
            room = per_page

    doc.build(Stream(flowables()))
    return pages
