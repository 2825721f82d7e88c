"""A list paged from the database: a window of rows, never the whole result.

The widget holds at most ``MAX_ROWS`` rows around the cursor. Moving past either end of the
window reads the next page with the core's keyset pagination in a thread worker; ``g``/``G``
read the first/last page directly. A million rows cost the same as a hundred. Subclasses say
which columns to show (``COLUMNS``) and how one row looks (``cells``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from itsm_tui.core import clock
from itsm_tui.core.store import db_errors, limits
from itsm_tui.core.tickets.queue import END, Cursor, Page
from itsm_tui.ui.messages import LoadFailed, PageFailed, PageRead, RowOpened, RowsLoaded

MAX_ROWS = 400
MIN_FLEX = 24  # the flexible column (a title) keeps at least this many cells while others can go
FRESH_FOR = 1.0  # seconds, see read_lately
# A list read again from its start (a new filter or sort) shows its old rows this long, then
# "loading…": they no longer answer the filter shown, and no key may act on them.
OLD_ROWS_FOR = 0.25  # seconds, less than the app's hold on the keys typed meanwhile
Loader = Callable[[Cursor | None, Cursor | None, int], Page]

MOVE_BINDINGS = [
    Binding("down,j", "move(1)", "Down", show=False),
    Binding("up,k", "move(-1)", "Up", show=False),
    Binding("pagedown", "page(1)", "Page down", show=False),
    Binding("pageup", "page(-1)", "Page up", show=False),
    Binding("g,home", "first", "First", show=False),
    Binding("G,end", "last", "Last", show=False),
]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int  # 0: takes the remaining width
    sort: str | None
    drop: int = 0  # narrow screens drop the highest first, so the flexible column keeps MIN_FLEX; 0: kept
    reversed_arrow: bool = False  # the column shows the opposite of its sort key (Age of Created)


class PagedTable(Widget, can_focus=True):
    """Keys: arrows/j/k, PageUp/PageDown, g/G, space marks, Enter opens."""

    DEFAULT_CSS = """
    PagedTable { height: 1fr; }
    """
    COLUMNS: tuple[Column, ...] = ()
    FLEX_MIN = MIN_FLEX  # a list whose flexible column is short (a hostname) keeps fewer
    EMPTY = "Nothing matches this view."
    RIGHT: frozenset[str] = frozenset()  # column keys whose values (numbers) align right
    BINDINGS = [*MOVE_BINDINGS, Binding("space", "mark", "Mark"), Binding("enter", "open", "Open")]

    sort = reactive(None, always_update=True)  # an object with .key and .descending

    def __init__(self, loader: Loader, **kwargs) -> None:
        super().__init__(**kwargs)
        self.loader = loader
        self.rows: list[dict] = []
        self.more_after = False
        self.more_before = False
        self.cursor = 0
        self.top = 0
        self.marks: set[int] = set()
        self.fetching = False  # not "loading": that is Textual's own reactive (a spinner, no focus)
        self.prefetching = False  # a read the cursor does not wait for (_read_ahead, a timed refresh)
        self._restart = False  # the read under way replaces the rows shown (see _load)
        self._stopper: limits.Stopper | None = None  # the newest read's, set by its thread
        self.now = clock.now()
        self._generation = 0
        self._strips: dict[tuple, Strip] = {}  # drawn lines, see render_line
        self._base_style, self._flex = Style(), 12  # set by each repaint (render_lines)
        self._typed_ahead: list[tuple[int, bool]] = []  # (rows to move, paging) while fetching
        self._when_loaded: list[Callable[[], None]] = []
        self.read_at = 0.0  # time.monotonic() of the last rows that arrived
        self.stale: str = ""  # why the rows shown are old (a read failed), with their time; "" when fresh
        self._fresh_at = clock.now()  # when the rows shown were read
        self._fitted: tuple[int, tuple[Column, ...]] = (-1, ())  # width -> columns, see columns
        self._drawn: dict[int, tuple] = {}  # line y -> the key it was last drawn with

    # ------------------------------------------------------------ reading

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height - 1 - (1 if self.stale else 0))

    @property
    def page_size(self) -> int:
        return max(50, self.visible_rows * 2)

    @property
    def current(self) -> dict | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def marked_rows(self) -> list[dict]:
        """Marked rows that are loaded; marks of rows outside the window travel as ids."""
        return [r for r in self.rows if r["id"] in self.marks]

    def _load(
        self,
        fetch: Callable[[], Page],
        apply: Callable[[Page], None],
        *,
        fresh: bool = True,
        background: bool = False,
        restart: bool = False,
    ) -> None:
        """Fetch in a thread; apply on the UI thread unless a newer load superseded it.

        ``fresh``: the rows already shown may have changed (a reload, not more of the same
        list), so every line is drawn again. ``background``: the cursor does not wait for this
        read; it moves on meanwhile through the rows it has (``prefetching``, not ``fetching``).
        ``restart``: the rows read replace the ones shown (a new filter or sort, ``g``, ``G``),
        which go after OLD_ROWS_FOR, or at once when the read fails; a read still running for
        the rows it replaces is stopped (a filter typed key by key: MariaDB's scan of an absent
        two-letter term would hold a core for a second and a half)."""
        self._generation += 1
        generation = self._generation
        self.fetching, self.prefetching = not background, background
        self._restart = restart
        if restart:
            self.set_timer(OLD_ROWS_FOR, lambda: self._put_aside(generation))
            if self._stopper is not None:  # stopping may connect (MySQL's KILL QUERY): not here
                threading.Thread(target=self._stopper.stop, daemon=True).start()

        def work() -> None:
            if generation != self._generation:
                return  # superseded before it started: its rows would not be shown
            try:
                with limits.Stopper() as stopper:
                    self._stopper = stopper
                    page = fetch()
            except Exception as exc:  # shown to the operator; the table keeps its rows
                words = db_errors.reason(exc) if db_errors.is_database_error(exc) else str(exc)
                self.post_message(PageFailed(generation, words))
                return
            self.post_message(PageRead(generation, page, apply, fresh))

        self.run_worker(work, thread=True, group="ticket-table", exit_on_error=False)

    def when_loaded(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` as the read under way ends (rows or error), in the same repaint
        as its rows: a screen change that goes with them costs one layout, not two."""
        self._when_loaded.append(callback)

    def _loaded_callbacks(self) -> None:
        callbacks, self._when_loaded = self._when_loaded, []
        for callback in callbacks:
            callback()

    @on(PageRead)
    def _arrived(self, event: PageRead) -> None:
        if event.generation != self._generation:
            return
        self.fetching = self.prefetching = False
        self.read_at = time.monotonic()
        was_stale, self.stale = self.stale, ""
        if event.fresh:
            self.now = self._fresh_at = clock.now()
        event.apply(event.page)
        self._loaded_callbacks()
        self._clamp()
        if was_stale:
            self.refresh()
        else:
            self._refresh_changed()
        self.post_message(RowsLoaded())
        if self._typed_ahead and not self.fetching:
            self._replay()  # the moves typed while it was read; painted with it

    @on(PageFailed)
    def _failed(self, event: PageFailed) -> None:
        if event.generation == self._generation:
            self.fetching = self.prefetching = False
            self._typed_ahead.clear()
            self._loaded_callbacks()
            if self.rows and not self._restart:  # keep the rows, say they are old and why
                self.stale = f"showing rows from {self._fresh_at:%H:%M}: {event.error}"
            else:  # not "nothing matches": nothing could be read
                self.rows, self.more_before, self.more_after = [], False, False
                self.stale = f"could not read the rows: {event.error}"
            self._clamp()
            self.refresh()
            self.post_message(LoadFailed(event.error))

    def read_lately(self) -> bool:
        """Whether a read is under way or rows arrived within FRESH_FOR seconds: a timed refresh
        then has nothing to add, and would only make the key that read them slower."""
        return self.fetching or self.prefetching or time.monotonic() - self.read_at < FRESH_FOR

    def reload(self, keep_id: int | None = None) -> None:
        """Start again from the first page (a new filter or sort, or ``g``)."""

        def apply(page: Page) -> None:
            self.rows, self.more_before, self.more_after = page.rows, False, page.has_more
            index = self._index_of(keep_id) if keep_id else None
            self.cursor = index if index is not None else 0
            self.top = 0

        limit = self.page_size  # measured here: the worker thread must not touch layout
        if self._generation:  # moves typed before a new start make no sense after it; before
            self._typed_ahead.clear()  # the first start (a screen still opening) they are kept
        self._load(lambda: self.loader(None, None, limit), apply, restart=True)

    def _put_aside(self, generation: int) -> None:
        """Still reading the new start: stop showing the old rows (see OLD_ROWS_FOR)."""
        if generation == self._generation and self.fetching and self.rows:
            self.rows, self.cursor, self.top = [], 0, 0
            self.refresh()

    def refresh_window(self, keep_id: int | None = None, force: bool = False) -> None:
        """Re-read the rows on screen from the database, keeping the cursor on ``keep_id`` (or
        on the same position when that ticket left the view) and the marks. A timed refresh
        (not ``force``) yields to a read already under way and runs in the background: keys
        keep moving the cursor meanwhile, and it stays on the row it reached."""
        if (self.fetching or self.prefetching) and not force:
            return
        if not self.rows:
            self.reload()
            return
        anchor = self.rows[0]["_cursor"]
        # Inclusive of the first row: step the id one past it in the reading direction.
        start = (
            Cursor(anchor.value, anchor.id + (1 if self.sort.descending else -1))
            if self.more_before
            else None
        )
        count = max(len(self.rows), self.page_size)

        def apply(page: Page) -> None:
            keep = keep_id if keep_id is not None else (self.current or {}).get("id")
            old_cursor, old_offset = self.cursor, self.cursor - self.top
            self.rows, self.more_after = page.rows, page.has_more
            index = self._index_of(keep)
            self.cursor = index if index is not None else min(old_cursor, len(self.rows) - 1)
            self.top = max(0, self.cursor - old_offset)

        self._load(lambda: self.loader(start, None, count), apply, background=not force)

    def _index_of(self, ticket_id: int | None) -> int | None:
        for index, row in enumerate(self.rows):
            if row["id"] == ticket_id:
                return index
        return None

    # ------------------------------------------------------------ moving

    def action_move(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * self.visible_rows, paging=True)

    def _move_to(self, target: int, paging: bool = False) -> None:
        beyond = (target >= len(self.rows) and self.more_after) or (target < 0 and self.more_before)
        # make the move once the rows are there (the first ones too: a screen just opened)
        if self.fetching or not self._generation or (self.prefetching and beyond):
            self._typed_ahead.append((target - self.cursor, paging))
            return
        if target >= len(self.rows) and self.more_after and self.rows:
            steps = target - (len(self.rows) - 1)
            self._extend_after(then=lambda: self._move_to(self.cursor + steps, paging))
            self.cursor = len(self.rows) - 1
            return
        if target < 0 and self.more_before and self.rows:
            steps = target
            self._extend_before(then=lambda: self._move_to(self.cursor + steps, paging))
            self.cursor = 0
            return
        before = (self.cursor, self.top)
        self.cursor = max(0, min(target, len(self.rows) - 1))
        if paging:
            self.top = max(0, min(self.cursor, len(self.rows) - self.visible_rows))
        self._clamp()
        if self.top == before[1]:  # the same rows on screen: draw the two cursor lines only
            width = self.size.width
            self.refresh(
                Region(0, before[0] - self.top + 1, width, 1), Region(0, self.cursor - self.top + 1, width, 1)
            )
        else:
            self.refresh()
        self._read_ahead()

    def _read_ahead(self) -> None:
        """Read the next rows while the cursor is within two screens of the window's end, so
        paging on rarely waits for the database."""
        if self.fetching or self.prefetching or not self.rows:
            return
        margin = 2 * self.visible_rows
        if self.more_after and len(self.rows) - 1 - self.cursor < margin:
            self._extend_after(then=None, ahead=True)
        elif self.more_before and self.cursor < margin:
            self._extend_before(then=None, ahead=True)

    def _replay(self) -> None:
        """Make the moves typed while a page was being read, in order."""
        moves, self._typed_ahead = self._typed_ahead, []
        for delta, paging in moves:
            self._move_to(self.cursor + delta, paging)  # queued again if it reads a page

    def _extend_after(self, then: Callable[[], None] | None, ahead: bool = False) -> None:
        """Read the rows after the window; then make the move that needed them (``then``), in
        the same repaint."""
        last = self.rows[-1]["_cursor"]

        def apply(page: Page) -> None:
            self.rows.extend(page.rows)
            self.more_after = page.has_more
            excess = len(self.rows) - MAX_ROWS
            if excess > 0:
                del self.rows[:excess]
                self.cursor, self.top, self.more_before = self.cursor - excess, self.top - excess, True
            if page.rows and then is not None:
                then()

        limit = self.page_size
        self._load(lambda: self.loader(last, None, limit), apply, fresh=False, background=ahead)

    def _extend_before(self, then: Callable[[], None] | None, ahead: bool = False) -> None:
        first = self.rows[0]["_cursor"]

        def apply(page: Page) -> None:
            self.rows[:0] = page.rows
            added = len(page.rows)
            self.cursor, self.top = self.cursor + added, self.top + added
            self.more_before = page.has_more
            if len(self.rows) > MAX_ROWS:
                del self.rows[MAX_ROWS:]
                self.more_after = True
            if page.rows and then is not None:
                then()

        limit = self.page_size
        self._load(lambda: self.loader(None, first, limit), apply, fresh=False, background=ahead)

    def action_first(self) -> None:
        self.reload()

    def action_last(self) -> None:
        def apply(page: Page) -> None:
            self.rows, self.more_before, self.more_after = page.rows, page.has_more, False
            self.cursor = len(self.rows) - 1
            self.top = max(0, len(self.rows) - self.visible_rows)

        limit = self.page_size
        self._typed_ahead.clear()
        self._load(lambda: self.loader(None, END, limit), apply, restart=True)

    def action_mark(self) -> None:
        row = self.current
        if row and not self.fetching:  # while a new page loads, the row under the cursor is stale
            self.marks ^= {row["id"]}
            self._move_to(self.cursor + 1)
            self.post_message(RowsLoaded())  # the screen's status line counts the marks

    def action_open(self) -> None:
        if self.current:
            self.post_message(RowOpened(self.current["id"]))

    def on_resize(self, event: events.Resize) -> None:
        self._clamp()

    def _clamp(self) -> None:
        if not self.rows:
            self.cursor = self.top = 0
            return
        self.cursor = max(0, min(self.cursor, len(self.rows) - 1))
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + self.visible_rows:
            self.top = self.cursor - self.visible_rows + 1
        self.top = max(0, self.top)

    # ------------------------------------------------------------ drawing

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns that fit: see ``fit_columns``."""
        if self._fitted[0] == self.size.width:
            return self._fitted[1]
        self._fitted = (self.size.width, fit_columns(self.COLUMNS, self.size.width, self.FLEX_MIN))
        return self._fitted[1]

    def _flex_width(self) -> int:
        return max(12, flex_for(self.columns, self.size.width))

    def _refresh_changed(self) -> None:
        """Draw again only the lines whose content changed since they were drawn: a timed
        refresh that finds the same rows writes nothing to the terminal."""
        flex, width = self._flex_width(), self.size.width
        if width <= 0:
            return
        # A line the compositor never asked for is not on screen (under a docked footer, say).
        regions = [
            Region(0, y, width, 1)
            for y, drawn in list(self._drawn.items())
            if y < self.size.height and drawn != (*self._text_line(y, flex)[0], width, self._base_style)
        ]
        if regions:
            self.refresh(*regions)

    def _text_line(self, y: int, flex_width: int) -> tuple[tuple, Callable[[], Text] | None]:
        """Line ``y`` of the widget (0: the header): a key that changes when the line must be
        drawn again, and what draws it (None: a blank line)."""
        if y == 0:
            sort = (self.sort.key, self.sort.descending) if self.sort is not None else None
            return ("header", sort, self.columns), lambda: self._header(flex_width)
        if self.stale and y == self.visible_rows + 1:
            return ("stale", self.stale), lambda: Text(f"  ⚠ {self.stale}", style="bold black on yellow")
        if not self.rows:
            if y > 1:
                return ("blank",), None
            if self.stale and not self.fetching:
                return ("blank",), None  # the last line says why there are no rows
            message = "  loading…" if self.fetching else f"  {self.EMPTY}"
            return ("message", message), lambda: Text(message, style="dim")
        index = self.top + y - 1
        if y > self.visible_rows or index >= len(self.rows):
            return ("blank",), None
        row = self.rows[index]
        selected = index == self.cursor
        text = self._line(row, selected, flex_width)  # the key is what it shows: see _refresh_changed
        return ("row", text.plain, tuple(text.spans), selected and self.has_focus), lambda: text

    def render(self) -> Text:
        """The visible table as one text (what render_line draws, line by line)."""
        flex_width = self._flex_width()
        lines = [
            self._text_line(y, flex_width)[1] for y in range(self.visible_rows + 1 + (1 if self.stale else 0))
        ]
        return Text("\n").join(line() for line in lines if line is not None)

    def render_lines(self, crop):
        self._base_style, self._flex = self.rich_style, self._flex_width()  # once per repaint
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Textual's line API, each line kept until it changes: a move draws two lines again,
        not the page."""
        width, style = self.size.width, self._base_style
        key, draw = self._text_line(y, self._flex)
        key = (*key, width, style)
        self._drawn[y] = key
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) > 4 * MAX_ROWS:
                self._strips.clear()
            if draw is None:
                strip = Strip.blank(width, style)
            else:
                text = draw()
                text.truncate(width, pad=True)
                strip = Strip(text.render(self.app.console), width).apply_style(style)
            self._strips[key] = strip
        return strip

    def _header(self, flex_width: int) -> Text:
        line = Text("  ")
        for column in self.columns:
            label = column.header
            if self.sort is not None and column.sort == self.sort.key:
                label += " ▼" if self.sort.descending != column.reversed_arrow else " ▲"
            width = column.width or flex_width
            cell = _fit(label.rjust(width) if column.key in self.RIGHT else label, width)
            cell.stylize("bold underline")
            line.append_text(cell)
            line.append(" ")
        return line

    def cells(self, row: dict) -> dict[str, Text]:
        """One row's cells by column key (override)."""
        raise NotImplementedError

    def _line(self, row: dict, selected: bool, flex_width: int) -> Text:
        cells = self.cells(row)
        line = Text()
        line.append("● " if row["id"] in self.marks else "  ", style="bold magenta")
        line.append_text(cells_line(cells, self.columns, flex_width))
        if selected:
            line.stylize("reverse" if self.has_focus else "underline")
        return line


class UnmarkedTable(PagedTable, inherit_bindings=False):
    """A paged list without marks (the log, the users, the inventory): its actions work on the
    highlighted row. Each list binds Enter itself (what it opens)."""

    BINDINGS = MOVE_BINDINGS

    def action_mark(self) -> None:
        """No marks in these lists."""


def fit_columns(columns: tuple[Column, ...], width: int, flex_min: int, lead: int = 2) -> tuple[Column, ...]:
    """The columns that fit ``width`` cells: the highest ``drop`` goes first while the flexible
    column would get fewer than ``flex_min`` cells. ``lead``: the cells before the first column
    (a list's mark)."""
    shown = list(columns)
    for column in sorted((c for c in columns if c.drop), key=lambda c: -c.drop):
        if flex_for(shown, width, lead) >= flex_min:
            break
        shown.remove(column)
    return tuple(shown)


def flex_for(columns, width: int, lead: int = 2) -> int:
    """The cells left to the flexible column of ``columns`` in ``width`` (each other column takes
    its width and a space)."""
    return width - sum(c.width + 1 for c in columns if c.width) - lead


def cells_line(cells: dict[str, Text], columns, flex_width: int) -> Text:
    """One row's ``cells`` side by side, each cut (with an ellipsis) or padded to its column."""
    line = Text()
    for column in columns:
        cell = cells[column.key]
        cell.truncate(column.width or flex_width, overflow="ellipsis", pad=True)
        line.append_text(cell)
        line.append(" ")
    return line


def _fit(text: str, width: int) -> Text:
    cell = Text(text)
    cell.truncate(width, overflow="ellipsis", pad=True)
    return cell
