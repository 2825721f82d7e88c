"""List PDFs (tickets, systems, peripherals, stock, log): a title block, then the rows.

Long values wrap (a row grows to the lines its tallest cell needs; nothing is cut): a report
that loses words is not a record. The rows are read once, wrapped, and spooled page by page to
a temporary file, with their heights and the totals of the coloured columns; so the page count
is known before the first page is drawn ("Page x of y" in one pass), and each page is one small
flowable that draws its rows straight onto the canvas. That keeps 10,000 rows to seconds and
the memory bounded however many rows there are (a single platypus Table of that size takes
many seconds and grows without bound). Cells are drawn with textOut, which never parses
markup; the title block goes through escaped Paragraphs.
"""

from __future__ import annotations

import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, Frame, PageBreak, PageTemplate, Spacer

from itsm_tui.reports import fonts
from itsm_tui.reports import spool as spool_file
from itsm_tui.reports.pdf_style import (
    ACCENT,
    INK,
    MARGIN,
    PILLS,
    ZEBRA,
    Masthead,
    PageDecor,
    Stream,
    document,
    page_size,
    para,
    pill,
    pill_key,
    styles,
)

CELL_SIZE = 8
LINE_HEIGHT = 10  # one line of a cell
ROW_PAD = 4  # above and below a row's lines, together
ROW_HEIGHT = LINE_HEIGHT + ROW_PAD  # a row of one line
HEADER_HEIGHT = 17
CHAR = 4.7  # points per character of a column's nominal width at CELL_SIZE
PAD = 4
MIN_FLEX = 24  # characters the flexible column gets at least
PILL_LOOKS = ("status", "priority")
PILL_ORDER = {word: n for n, word in enumerate(PILLS)}


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


def wrap(text: str, font: str, room: float) -> list[str]:
    """``text`` as the lines that fit in ``room`` points: broken at spaces where it can, inside
    a word longer than a line where it must, and at its own line breaks. Nothing is dropped
    but the spaces a line breaks at."""
    if "\n" not in text and fonts.width(text, font, CELL_SIZE) <= room:
        return [text]  # most cells
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if fonts.width(candidate, font, CELL_SIZE) <= room:
                line = candidate
                continue
            if line:
                lines.append(line)
            while fonts.width(word, font, CELL_SIZE) > room:  # a word longer than a line
                cut = _longest_prefix(word, font, room)
                mark = max(word.rfind(c, 0, cut) for c in "_-/.,;:@")  # after one, if any
                cut = mark + 1 if mark >= cut // 2 else cut
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _longest_prefix(word: str, font: str, room: float) -> int:
    low, high = 1, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if fonts.width(word[:mid], font, CELL_SIZE) <= room:
            low = mid
        else:
            high = mid - 1
    return low


class RowBlock(Flowable):
    """The header row and one page's rows, drawn directly. A row is (its index in the list,
    the lines of each cell); a row too tall for one page comes as pieces with the same index."""

    def __init__(
        self,
        columns: Sequence[ListColumn],
        widths: Sequence[float],
        rows: Sequence[tuple[int, Sequence[Sequence[str]]]],
    ):
        super().__init__()
        self.columns, self.widths, self.rows = columns, widths, rows
        self._pill_widths: dict[str, float] = {}  # a few words, over and over

    def wrap(self, available_width, available_height):
        return sum(self.widths), HEADER_HEIGHT + sum(_height(cells) for _, cells in self.rows)

    def draw(self) -> None:
        """Backgrounds first (header band, zebra stripes, pills), then all text in one text
        object; pills and text grouped by colour: a text object per cell, or a colour change
        per cell, would cost more than the cell."""
        f = fonts.fonts()
        canvas = self.canv
        total_width = sum(self.widths)
        top = self.wrap(0, 0)[1]
        canvas.setFillColor(ACCENT)
        canvas.rect(0, top - HEADER_HEIGHT, total_width, HEADER_HEIGHT, stroke=0, fill=1)
        inked: dict = {colors.white: [], INK: []}  # colour -> [(text, x, y, font)]
        pills: dict = {}  # background colour -> [(x, y, width)]
        x = 0.0
        for column, width in zip(self.columns, self.widths):
            label = fonts.fit(column.header, f.bold, CELL_SIZE, width - 2 * PAD)
            inked[colors.white].append(
                (label, self._place(label, x, width, f.bold, column.look), top - HEADER_HEIGHT + 5.5, f.bold)
            )
            x += width
        y = top - HEADER_HEIGHT
        canvas.setFillColor(ZEBRA)
        for index, cells in self.rows:
            y -= _height(cells)
            if index % 2:
                canvas.rect(0, y, total_width, _height(cells), stroke=0, fill=1)
        lefts = [sum(self.widths[:n]) for n in range(len(self.widths))]
        plain = inked[INK]
        y = top - HEADER_HEIGHT
        for _, cells in self.rows:
            for column, left, width, lines in zip(self.columns, lefts, self.widths, cells):
                for n, line in enumerate(lines):
                    if not line:
                        continue
                    base = y - ROW_PAD / 2 - LINE_HEIGHT * (n + 1)  # the bottom of the line box
                    if column.look in PILL_LOOKS and self._pill(inked, pills, column, line, left, base):
                        continue
                    plain.append(
                        (
                            line,
                            self._place(line, left, width, f.regular, column.look)
                            if column.look == "number"
                            else left + PAD,
                            base + 2.5,
                            f.regular,
                        )
                    )
            y -= _height(cells)
        for background, boxes in pills.items():
            canvas.setFillColor(background)
            for at_x, at_y, width in boxes:
                canvas.rect(at_x, at_y, width, LINE_HEIGHT - 1, stroke=0, fill=1)
        text = canvas.beginText()
        pen = _Pen(text)
        for colour, pieces in inked.items():
            for value, at_x, at_y, font in pieces:
                pen.write(value, at_x, at_y, font, colour)
        canvas.drawText(text)

    def _pill(self, inked: dict, pills: dict, column: ListColumn, value: str, x: float, y: float) -> bool:
        """One line of a status or priority cell as a pill, if its word has colours; ``y`` is
        the bottom of its line box."""
        colours = pill(value, column.look)
        if not colours:
            return False
        background, ink = colours
        regular = fonts.fonts().regular
        width = self._pill_widths.get(value)
        if width is None:
            width = self._pill_widths[value] = fonts.width(value, regular, CELL_SIZE)
        pills.setdefault(background, []).append((x + PAD - 2, y + 0.5, width + 6))
        inked.setdefault(ink, []).append((value, x + PAD + 1, y + 2.5, regular))
        return True

    @staticmethod
    def _place(text: str, x: float, width: float, font: str, look: str) -> float:
        if look == "number":
            return x + width - PAD - fonts.width(text, font, CELL_SIZE)
        return x + PAD


def _height(cells: Sequence[Sequence[str]]) -> float:
    return ROW_PAD + LINE_HEIGHT * max(1, max(map(len, cells), default=1))


class _Pen:
    """Writes into one text object, switching font and colour only when they change."""

    def __init__(self, text):
        self.text = text
        self.font = self.colour = None

    def write(self, value: str, x: float, y: float, font: str, colour) -> None:
        if colour is not self.colour:
            self.text.setFillColor(colour)
            self.colour = colour
        runs = fonts.runs(value, font)
        for n, (name, piece) in enumerate(runs):
            if name != self.font:
                self.text.setFont(name, CELL_SIZE)
                self.font = name
            self.text.setTextOrigin(x, y)
            # textLine, not textOut: each piece is placed by its origin, and textOut would
            # measure every piece to move a cursor that is not used
            self.text.textLine(piece)
            if n + 1 < len(runs):  # most values are one run: no width needed after it
                x += pdfmetrics.stringWidth(piece, name, CELL_SIZE)


def write(
    out,
    masthead: Masthead,
    summary: Sequence[tuple[str, str]],
    columns: Sequence[ListColumn],
    total: int,
    rows: Iterable[Sequence[str]],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the list PDF for ``total`` rows (``rows`` must yield exactly that many display
    tuples) to the binary file ``out``; returns the page count. ``summary`` are the
    (label, value) lines under the title, followed by the totals of the coloured (status and
    priority) columns; ``progress(rows_done)`` is called after each page."""
    wide, widths = layout(columns)
    size = page_size(wide)
    frame_height = size[1] - 2 * MARGIN
    style = styles()
    with tempfile.TemporaryFile() as spool:
        heights, totals = _wrap_rows(spool, columns, widths, rows)
        if len(heights) != total:
            raise RuntimeError("the rows did not match the announced total")
        intro = [para(masthead.title, style["title"])]
        for label, value in list(summary) + totals:
            intro.append(para(f"{label}: {value}" if label else value, style["meta"]))
        intro.append(Spacer(1, 8))
        intro_height = sum(
            flowable.wrap(size[0] - 2 * MARGIN, frame_height)[1]
            + flowable.getSpaceBefore()
            + flowable.getSpaceAfter()
            for flowable in intro
        )
        first_room = frame_height - intro_height - HEADER_HEIGHT - 4
        pages = paginate(heights, first_room, frame_height - HEADER_HEIGHT)

        doc = document(out, size, masthead)
        frame = Frame(
            MARGIN,
            MARGIN,
            size[0] - 2 * MARGIN,
            frame_height,
            id="rows",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        doc.addPageTemplates([PageTemplate("list", [frame], onPage=PageDecor(masthead, max(1, len(pages))))])

        def flowables() -> Iterator[Flowable]:
            yield from intro
            if total == 0:
                yield para("No rows match this filter.", style["body"])
            spool.seek(0)
            source = spool_file.load(spool)
            pending: tuple[int, list] | None = None  # the rest of a row split across pages
            for number, page in enumerate(pages):
                if number and (page[0] or pending):  # an empty first page: the intro only
                    yield PageBreak()
                block, room = [], (first_room if number == 0 else frame_height - HEADER_HEIGHT)
                for _ in range(page[0]):
                    index, cells = pending or next(source)
                    pending = None
                    lines_left = int((room - ROW_PAD) // LINE_HEIGHT)
                    if _height(cells) > room and lines_left > 0:  # taller than the page: split
                        block.append((index, [lines[:lines_left] for lines in cells]))
                        pending = (index, [lines[lines_left:] for lines in cells])
                    else:
                        block.append((index, cells))
                    room -= _height(block[-1][1])
                if block:
                    yield RowBlock(columns, widths, block)
                if progress:
                    progress(page[1])

        doc.build(Stream(flowables()))
    return max(1, len(pages))


def _wrap_rows(spool, columns, widths, rows) -> tuple[array, list[tuple[str, str]]]:
    """Wrap every row and pickle (index, lines of each cell) in chunks into ``spool``; returns
    the row heights and the totals of the coloured columns as (label, words) summary lines."""
    regular = fonts.fonts().regular
    rooms = [w - 2 * PAD - (4 if c.look in PILL_LOOKS else 0) for c, w in zip(columns, widths)]
    counted = [(n, Counter()) for n, c in enumerate(columns) if c.look in PILL_LOOKS]
    heights = array("d")
    chunk = []
    wrapped: dict[tuple[str, float], list[str]] = {}  # statuses, names, categories repeat

    def lines(value: str, room: float) -> list[str]:
        if not value:
            return []
        key = (value, room)
        found = wrapped.get(key)
        if found is None:
            found = wrap(value, regular, room)
            if len(wrapped) < 50_000:
                wrapped[key] = found
        return found

    for index, row in enumerate(rows):
        cells = [lines(value, room) for value, room in zip(row, rooms)]
        heights.append(_height(cells))
        for n, counter in counted:
            counter[row[n]] += 1
        chunk.append((index, cells))
        if len(chunk) == 500:
            spool_file.dump(spool, chunk)
            chunk = []
    if chunk:
        spool_file.dump(spool, chunk)
    totals = [
        (
            f"By {_lower(columns[n].header)}",
            ", ".join(
                f"{value or '(none)'} {count:,}"
                for value, count in sorted(counter.items(), key=_in_order(columns[n].look))
            ),
        )
        for n, counter in counted
        if counter
    ]
    return heights, totals


def _lower(header: str) -> str:
    return header if header.isupper() else header.lower()  # "SLA" stays


def _in_order(look: str):
    """Sort key for totals: the order of the colour table (Critical before High, New before
    In progress), then the larger count first."""
    return lambda pair: (PILL_ORDER.get(pill_key(pair[0], look), len(PILL_ORDER)), -pair[1])


def paginate(heights: Sequence[float], first_room: float, room: float) -> list[tuple[int, int]]:
    """The pages as (row pieces on the page, rows finished by its end). A row goes to the next
    page when it does not fit; a row taller than a whole page is split over as many pages as
    it needs. The first page has ``first_room`` (under the intro), the others ``room``."""
    pages: list[tuple[int, int]] = []
    left, pieces, done = first_room, 0, 0
    for height in heights:
        if height > left and (pieces or height <= room):  # the next page: it fits there whole
            pages.append((pieces, done))
            left, pieces = room, 0
        while height > left:  # taller than a whole page: a piece on each page it needs
            lines = int((left - ROW_PAD) // LINE_HEIGHT)
            if lines > 0:
                pages.append((1, done))
                height -= LINE_HEIGHT * lines
            else:
                pages.append((0, done))  # the first page has no room under the intro
            left, pieces = room, 0
        left -= height
        pieces += 1
        done += 1
    if pieces or not pages:
        pages.append((pieces, done))
    return pages
