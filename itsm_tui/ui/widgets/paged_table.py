"""A list paged from the database: a window of rows, never the whole result.

The widget holds at most ``MAX_ROWS`` rows around the cursor. Moving past either end of the
window reads the next page with the core's keyset pagination in a thread worker; ``g``/``G``
read the first/last page directly. A million rows cost the same as a hundred. Subclasses say
which columns to show (``COLUMNS``) and how one row looks (``cells``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from ...core import clock
from ...core.queue import END, Cursor, Page

MAX_ROWS = 400
Loader = Callable[[Cursor | None, Cursor | None, int], Page]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int  # 0: takes the remaining width
    sort: str | None


class PagedTable(Widget, can_focus=True):
    """Keys: arrows/j/k, PageUp/PageDown, g/G, space marks, Enter opens."""

    DEFAULT_CSS = """
    PagedTable { height: 1fr; }
    """
    COLUMNS: tuple[Column, ...] = ()
    EMPTY = "Nothing matches this view."
    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("g,home", "first", "First", show=False),
        Binding("G,end", "last", "Last", show=False),
        Binding("space", "mark", "Mark"),
        Binding("enter", "open", "Open"),
    ]

    class Opened(Message):
        def __init__(self, row_id: int) -> None:
            super().__init__()
            self.row_id = row_id

    class LoadFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class Loaded(Message):
        """Rows or marks changed (the screen updates its status line)."""

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
        self.now = clock.now()
        self._generation = 0

    # ------------------------------------------------------------ reading

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    @property
    def page_size(self) -> int:
        return max(50, self.visible_rows * 2)

    @property
    def current(self) -> dict | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def marked_rows(self) -> list[dict]:
        """Marked rows that are loaded; marks of rows outside the window travel as ids."""
        return [r for r in self.rows if r["id"] in self.marks]

    def _load(self, fetch: Callable[[], Page], apply: Callable[[Page], None]) -> None:
        """Fetch in a thread; apply on the UI thread unless a newer load superseded it."""
        self._generation += 1
        generation = self._generation
        self.fetching = True

        def work() -> None:
            try:
                page = fetch()
            except Exception as exc:  # shown to the operator; the table keeps its rows
                self.app.call_from_thread(self._failed, generation, str(exc))
                return
            self.app.call_from_thread(self._arrived, generation, page, apply)

        self.run_worker(work, thread=True, group="ticket-table", exit_on_error=False)

    def _arrived(self, generation: int, page: Page, apply: Callable[[Page], None]) -> None:
        if generation != self._generation:
            return
        self.fetching = False
        self.now = clock.now()
        apply(page)
        self._clamp()
        self.refresh()
        self.post_message(self.Loaded())

    def _failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.fetching = False
            self.post_message(self.LoadFailed(message))

    def reload(self, keep_id: int | None = None) -> None:
        """Start again from the first page (a new filter or sort, or ``g``)."""
        def apply(page: Page) -> None:
            self.rows, self.more_before, self.more_after = page.rows, False, page.has_more
            index = self._index_of(keep_id) if keep_id else None
            self.cursor = index if index is not None else 0
            self.top = 0

        limit = self.page_size  # measured here: the worker thread must not touch layout
        self._load(lambda: self.loader(None, None, limit), apply)

    def refresh_window(self, keep_id: int | None = None, force: bool = False) -> None:
        """Re-read the rows on screen from the database, keeping the cursor on ``keep_id`` (or
        on the same position when that ticket left the view) and the marks. A timed refresh
        (not ``force``) yields to a load already under way."""
        if self.fetching and not force:
            return
        if not self.rows:
            self.reload()
            return
        keep_id = keep_id if keep_id is not None else (self.current or {}).get("id")
        old_cursor, old_offset = self.cursor, self.cursor - self.top
        anchor = self.rows[0]["_cursor"]
        # Inclusive of the first row: step the id one past it in the reading direction.
        start = Cursor(anchor.value, anchor.id + (1 if self.sort.descending else -1)) if self.more_before else None
        count = max(len(self.rows), self.page_size)

        def apply(page: Page) -> None:
            self.rows, self.more_after = page.rows, page.has_more
            index = self._index_of(keep_id)
            self.cursor = index if index is not None else min(old_cursor, len(self.rows) - 1)
            self.top = max(0, self.cursor - old_offset)

        self._load(lambda: self.loader(start, None, count), apply)

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
        if self.fetching:
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
        self.cursor = max(0, min(target, len(self.rows) - 1))
        if paging:
            self.top = max(0, min(self.cursor, len(self.rows) - self.visible_rows))
        self._clamp()
        self.refresh()

    def _extend_after(self, then: Callable[[], None]) -> None:
        last = self.rows[-1]["_cursor"]

        def apply(page: Page) -> None:
            self.rows.extend(page.rows)
            self.more_after = page.has_more
            excess = len(self.rows) - MAX_ROWS
            if excess > 0:
                del self.rows[:excess]
                self.cursor, self.top, self.more_before = self.cursor - excess, self.top - excess, True
            if page.rows:
                self.call_after_refresh(then)

        limit = self.page_size
        self._load(lambda: self.loader(last, None, limit), apply)

    def _extend_before(self, then: Callable[[], None]) -> None:
        first = self.rows[0]["_cursor"]

        def apply(page: Page) -> None:
            self.rows[:0] = page.rows
            added = len(page.rows)
            self.cursor, self.top = self.cursor + added, self.top + added
            self.more_before = page.has_more
            if len(self.rows) > MAX_ROWS:
                del self.rows[MAX_ROWS:]
                self.more_after = True
            if page.rows:
                self.call_after_refresh(then)

        limit = self.page_size
        self._load(lambda: self.loader(None, first, limit), apply)

    def action_first(self) -> None:
        self.reload()

    def action_last(self) -> None:
        def apply(page: Page) -> None:
            self.rows, self.more_before, self.more_after = page.rows, page.has_more, False
            self.cursor = len(self.rows) - 1
            self.top = max(0, len(self.rows) - self.visible_rows)

        limit = self.page_size
        self._load(lambda: self.loader(None, END, limit), apply)

    def action_mark(self) -> None:
        row = self.current
        if row and not self.fetching:  # while a new page loads, the row under the cursor is stale
            self.marks ^= {row["id"]}
            self._move_to(self.cursor + 1)
            self.post_message(self.Loaded())  # the screen's status line counts the marks

    def action_open(self) -> None:
        if self.current:
            self.post_message(self.Opened(self.current["id"]))

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

    def render(self) -> Text:
        width = self.size.width
        fixed = sum(c.width + 1 for c in self.COLUMNS if c.width) + 2
        flex_width = max(12, width - fixed)
        lines = [self._header(flex_width)]
        if not self.rows:
            lines.append(Text("  loading…" if self.fetching else f"  {self.EMPTY}", style="dim"))
        for index in range(self.top, min(len(self.rows), self.top + self.visible_rows)):
            lines.append(self._line(self.rows[index], index == self.cursor, flex_width))
        return Text("\n").join(lines)

    def _header(self, flex_width: int) -> Text:
        line = Text("  ")
        for column in self.COLUMNS:
            label = column.header
            if self.sort is not None and column.sort == self.sort.key:
                label += " ▼" if self.sort.descending else " ▲"
            cell = _fit(label, column.width or flex_width)
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
        for column in self.COLUMNS:
            cell = cells[column.key]
            cell.truncate(column.width or flex_width, overflow="ellipsis", pad=True)
            line.append_text(cell)
            line.append(" ")
        if selected:
            line.stylize("reverse" if self.has_focus else "underline")
        return line


def _fit(text: str, width: int) -> Text:
    cell = Text(text)
    cell.truncate(width, overflow="ellipsis", pad=True)
    return cell
