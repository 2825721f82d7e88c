"""The ticket filter query language, shared by the TUI filter bar and the CLI ``--filter``.

Example: ``status:open,in_progress prio:high assignee:me cat:network age:>3d "vpn down"``.
Closed history: ``status:closed sla_outcome:breached reopened:yes``; an imported ticket by the
number its source gave it: ``source:INC0000045``.

Terms are separated by whitespace and combined with AND. A term is ``key:value[,value...]``
or free text (a bare word or a double-quoted phrase); a leading ``-`` negates it. Every
problem is reported as a :class:`QueryError` carrying the 0-based offset of the culprit,
so the UI can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from itsm_tui.core.errors import QueryError
from itsm_tui.core.store.models import OPEN_STATUSES, PRIORITY_NAMES, STATUSES

PRIORITIES = {name.lower(): number for number, name in PRIORITY_NAMES.items()}
SLA_STATES = ("on_track", "at_risk", "breached")  # sla: open tickets by SLA state (core/tickets/sla.py)
SLA_OUTCOMES = ("met", "breached", "unknown")  # sla_outcome: resolved and closed tickets
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class DateRange:
    """Half-open ``[start, end)``; either end may be None (naive datetimes, UTC)."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class AgeRange:
    """A ticket's age must be ``>= min`` and ``< max``; either may be None."""

    min: timedelta | None
    max: timedelta | None


@dataclass(frozen=True)
class Term:
    """One filter. ``value_positions[i]`` is the offset of the written value that produced
    ``values[i]`` (``status:open`` gives four values sharing one position).

    ``labels`` keeps the status words as written (``open`` rather than its four statuses)
    so that :meth:`Query.describe` can echo the user's intent; it is empty for other keys.
    """

    key: str
    values: tuple
    negate: bool
    position: int
    value_positions: tuple[int, ...]
    labels: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]
    text: str

    def describe(self) -> str:
        """The filter in plain words, e.g. for the subtitle of an exported report."""
        if not self.terms:
            return "all tickets"
        return "; ".join(_describe_term(term) for term in self.terms)


# --- keys and their values ------------------------------------------------------------

_KEYS = (
    "status",
    "priority",
    "category",
    "department",
    "asset",
    "assignee",
    "requester",
    "created",
    "updated",
    "resolved",
    "age",
    "sla",
    "sla_outcome",
    "reopened",
    "source",
    "tag",  # issue 21
    "team",  # issue 21
)
_ALIASES = {key: key for key in _KEYS} | {
    "st": "status",
    "prio": "priority",
    "p": "priority",
    "cat": "category",
    "dept": "department",
    "assigned": "assignee",
    "req": "requester",
    "outcome": "sla_outcome",
    "src": "source",
    "tags": "tag",
}
_SINGLE_VALUED = ("created", "updated", "resolved", "age")

_WAITING = ("waiting_on_user", "waiting_on_vendor")
_STATUS_WORDS = ("open", "waiting") + STATUSES
_STATUS_SETS = {"open": OPEN_STATUSES, "waiting": _WAITING} | {s: (s,) for s in STATUSES}

_TEAM_WORDS = {"mine": "mine", "none": "none"}  # team: keywords, not team names

_PRIORITY_WORDS = PRIORITIES | {"crit": 1, "med": 3} | {str(n): n for n in PRIORITIES.values()}
_PRIORITY_NAMES = {n: name for name, n in PRIORITIES.items()}

# ASCII-only classes: \d would also accept other scripts' digits.
_KEY_RE = re.compile(r"([A-Za-z_]+):")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt]([0-9]{2}):([0-9]{2}))?")
_DURATION_RE = re.compile(r"([0-9]+)([mhdw])")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_UNIT_MINUTES = (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60), ("minute", 1))
_OPERATORS = (">=", "<=", ">", "<")  # two-character ones first

_DATE_HELP = "use YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, yesterday or -7d (days ago, -2w weeks ago)"
_DAYS_AGO_RE = re.compile(r"-([0-9]{1,5})([dw])")
_DURATION_HELP = "use a whole number followed by m, h, d or w (minutes, hours, days, weeks), e.g. 3d"


def show(word: str) -> str:
    """``word`` quoted for an error message, cut short so a pasted essay stays readable."""
    return f"'{word}'" if len(word) <= 40 else f"'{word[:39]}…'"


# --- tokenizer --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """A value as written: ``position`` is where it starts (its opening quote, if quoted),
    ``offset`` where its content starts, for pointing inside it, ``end`` the offset past it."""

    text: str
    position: int
    offset: int
    end: int


@dataclass(frozen=True)
class RawTerm:
    key: str  # canonical key, or "text" for free text
    items: tuple[_Item, ...]
    negate: bool
    position: int


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def tokenize(
    text: str,
    aliases: Mapping[str, str] | None = None,
    keys: Sequence[str] | None = None,
    bare: re.Pattern | None = None,
) -> Iterator[RawTerm]:
    """Yield the terms one by one, so that the leftmost error is the one reported.

    ``aliases`` maps every accepted key word (lower case) to its canonical key and ``keys``
    lists the canonical keys for the "unknown filter" message; both default to the ticket
    language. Other languages (inventory, activity log) pass their own. A word that ``bare``
    matches whole is free text even though it holds a colon (MAC addresses in the inventory).
    """
    if aliases is None:
        aliases, keys = _ALIASES, _KEYS
    i, n = 0, len(text)
    control = _CONTROL_RE.search(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            return
        start = i
        negate = text[i] == "-"
        if negate:
            i += 1
            if i == n or text[i].isspace():
                raise QueryError("'-' must be followed by a filter or a word to exclude", start)
        match = _KEY_RE.match(text, i)
        if match and bare is not None and bare.fullmatch(text, i, _word_end(text, i)):
            match = None
        if match:
            key = aliases.get(match.group(1).lower())
            if key is None:
                known = ", ".join(keys or dict.fromkeys(aliases.values()))
                raise QueryError(f"unknown filter {show(match.group(1))} (known: {known})", i)
            items, i = _read_list(text, match.end(), key)
        else:
            item, i = _read_free_text(text, i)
            items = (item,)
            key = "text"
        if control is not None and control.start() < i:  # stored text holds none; a NUL would end
            raise QueryError("a filter cannot hold control characters", control.start())  # FTS5's
        yield RawTerm(key, items, negate, start)


def _word_end(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read the quoted string opening at ``start``; return it and the offset past its end."""
    chars = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
            chars.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise QueryError('unterminated quote: add the closing "', start)


def _read_free_text(text: str, start: int) -> tuple[_Item, int]:
    if text[start] == '"':
        phrase, end = _read_quoted(text, start)
        if not phrase:
            raise QueryError("empty quoted phrase", start)
        if end < len(text) and not text[end].isspace():
            raise QueryError("put a space after the closing quote", end)
        return _Item(phrase, start, start + 1, end), end
    end = start
    while end < len(text) and not text[end].isspace():
        if text[end] == '"':
            raise QueryError('unexpected " inside a word: quote the whole phrase', end)
        end += 1
    return _Item(text[start:end], start, start, end), end


def _read_list(text: str, i: int, key: str) -> tuple[tuple[_Item, ...], int]:
    """Read ``value[,value...]`` from ``i``; return the items and the offset past the list."""
    items: list[_Item] = []
    n = len(text)
    while True:
        if i == n or text[i].isspace() or text[i] == ",":
            if not items and text[i : i + 1] != ",":
                raise QueryError(f"{key}: needs a value", i)
            raise QueryError(f"{key}: empty item in the list", i)
        if text[i] == '"':
            value, end = _read_quoted(text, i)
            if not value:
                raise QueryError(f"{key}: empty value in quotes", i)
            item = _Item(value, i, i + 1, end)
            if end < n and not text[end].isspace() and text[end] != ",":
                raise QueryError("put a comma or a space after the closing quote", end)
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in ',"':
                end += 1
            if end < n and text[end] == '"':
                raise QueryError('unexpected ": quote the whole value', end)
            item = _Item(text[i:end], i, i, end)
        items.append(item)
        if end == n or text[end].isspace():
            return tuple(items), end
        i = end + 1  # past the comma


# --- value parsers ----------------------------------------------------------------------


def _status_word(item: _Item) -> str:
    """The status word (``open``, ``in_progress``...) ``item`` names, ignoring case, ``_``,
    ``-`` and spaces."""
    squashed = re.sub(r"[-_ ]", "", item.text.lower())
    for word in _STATUS_WORDS:
        if word.replace("_", "") == squashed:
            return word
    allowed = ", ".join(_STATUS_WORDS)
    raise QueryError(f"unknown status {show(item.text)} (allowed: {allowed})", item.position)


def _status_values(items: tuple[_Item, ...]) -> list[tuple[str, int]]:
    pairs = [(s, item.position) for item in items for s in _STATUS_SETS[_status_word(item)]]
    return sorted(_distinct(pairs), key=lambda pair: STATUSES.index(pair[0]))


def _priority_values(items: tuple[_Item, ...]) -> list[tuple[int, int]]:
    pairs = []
    for item in items:
        number = _PRIORITY_WORDS.get(item.text.lower())
        if number is None:
            raise QueryError(
                f"unknown priority {show(item.text)} (allowed: critical, high, medium, low or 1-4)",
                item.position,
            )
        pairs.append((number, item.position))
    return sorted(_distinct(pairs))


def _person_values(items: tuple[_Item, ...], keywords: dict[str, str]) -> list[tuple[str, int]]:
    """Usernames as typed, except ``keywords`` (matched ignoring case) mapped to their value."""
    return _distinct([(keywords.get(item.text.lower(), item.text), item.position) for item in items])


def _distinct(pairs: list[tuple]) -> list[tuple]:
    """Drop repeated values, keeping the first position each was written at."""
    first: dict = {}
    for value, position in pairs:
        first.setdefault(value, position)
    return list(first.items())


def _split_operator(item: _Item) -> tuple[str, str, int]:
    """Split ``>=3d`` into the operator, the rest, and the rest's offset."""
    for op in _OPERATORS:
        if item.text.startswith(op):
            return op, item.text[len(op) :], item.offset + len(op)
    return "", item.text, item.offset


def _span(word: str, offset: int, now: datetime) -> tuple[datetime, datetime]:
    """The ``[start, end)`` of the day or minute ``word`` names."""
    if not word:
        raise QueryError(f"a date is missing here ({_DATE_HELP})", offset)
    lowered = word.lower()
    match = _DATE_RE.fullmatch(word)
    try:
        if lowered in ("today", "yesterday"):
            start = datetime(now.year, now.month, now.day) - timedelta(days=lowered == "yesterday")
            return start, start + timedelta(days=1)
        ago = _DAYS_AGO_RE.fullmatch(lowered)
        if ago:  # relative to the day it is read: a saved view keeps meaning "the last week"
            days = int(ago[1]) * (7 if ago[2] == "w" else 1)
            start = datetime(now.year, now.month, now.day) - timedelta(days=days)
            return start, start + timedelta(days=1)
        if match:
            year, month, day, hour, minute = match.groups()
            start = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
            return start, start + (timedelta(minutes=1) if hour else timedelta(days=1))
    except ValueError:
        raise QueryError(f"no such date {show(word)}", offset) from None
    except OverflowError:
        raise QueryError(f"date {show(word)} is out of range", offset) from None
    raise QueryError(f"bad date {show(word)} ({_DATE_HELP})", offset)


def date_range(item: _Item, now: datetime) -> DateRange:
    if ".." in item.text:
        left, _, right = item.text.partition("..")
        if not left and not right:
            raise QueryError(
                "a date range needs at least one end, e.g. 2024-03-01..2024-03-31", item.position
            )
        start = _span(left, item.offset, now)[0] if left else None
        end = _span(right, item.offset + len(left) + 2, now)[1] if right else None
        if start is not None and end is not None and start >= end:
            raise QueryError(f"date range {show(item.text)} starts after it ends", item.position)
        return DateRange(start, end)
    op, word, offset = _split_operator(item)
    day_start, day_end = _span(word, offset, now)
    return {
        "": DateRange(day_start, day_end),
        ">": DateRange(day_end, None),
        ">=": DateRange(day_start, None),
        "<": DateRange(None, day_start),
        "<=": DateRange(None, day_end),
    }[op]


def _duration(word: str, offset: int) -> timedelta:
    match = _DURATION_RE.fullmatch(word)
    if not match:
        raise QueryError(f"bad duration {show(word)} ({_DURATION_HELP})", offset)
    number, unit = match.groups()
    try:
        return timedelta(**{_DURATION_UNITS[unit]: int(number)})
    except (OverflowError, ValueError):  # ValueError: int() refuses thousands of digits
        raise QueryError(f"duration {show(word)} is too long", offset) from None


def _age_range(item: _Item) -> AgeRange:
    if ".." in item.text:
        left, _, right = item.text.partition("..")
        if not left and not right:
            raise QueryError("an age range needs at least one end, e.g. 3d..7d", item.position)
        low = _duration(left, item.offset) if left else None
        high = _duration(right, item.offset + len(left) + 2) if right else None
        if low is not None and high is not None and low >= high:
            raise QueryError(
                f"age range {show(item.text)} must go from the smaller age to the larger", item.position
            )
        return AgeRange(low, high)
    op, word, offset = _split_operator(item)
    if not op:
        if _DURATION_RE.fullmatch(word):
            raise QueryError(
                f"age needs a comparison: use >{word} (older than) or <{word} (newer than)", item.position
            )
        raise QueryError(f"bad duration {show(word)} ({_DURATION_HELP})", offset)
    length = _duration(word, offset)
    return AgeRange(length, None) if op.startswith(">") else AgeRange(None, length)


def _values(raw: RawTerm, now: datetime) -> Sequence[tuple[object, int]]:
    """The canonical ``(value, position)`` pairs of a term."""
    key, items = raw.key, raw.items
    if key in _SINGLE_VALUED:
        if len(items) > 1:
            raise QueryError(f"{key} takes a single value, not a list", items[1].position)
        value = _age_range(items[0]) if key == "age" else date_range(items[0], now)
        return [(value, items[0].position)]
    if key == "status":
        return _status_values(items)
    if key == "priority":
        return _priority_values(items)
    if key == "assignee":
        return _person_values(items, {"me": "me", "unassigned": "unassigned", "none": "unassigned"})
    if key == "requester":
        return _person_values(items, {"me": "me"})
    if key == "team":
        return _person_values(items, _TEAM_WORDS)
    if key == "sla":
        return _distinct([(choose(item, SLA_STATES, "SLA state"), item.position) for item in items])
    if key == "sla_outcome":
        return _distinct([(choose(item, SLA_OUTCOMES, "SLA outcome"), item.position) for item in items])
    if key == "reopened":
        return _distinct([(choose(item, YES_NO, "reopened value"), item.position) for item in items])
    return _distinct([(item.text, item.position) for item in items])  # text and plain strings


def parse(text: str, now: datetime | None = None) -> Query:
    """Parse a filter query. ``now`` (naive UTC) resolves ``today`` and ``yesterday``.

    Raises :class:`QueryError` for anything it cannot understand, and nothing else.
    """
    if now is None:
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    terms = []
    for raw in tokenize(text):
        pairs = _values(raw, now)
        labels: tuple[str, ...] = ()
        if raw.key == "status":
            labels = tuple(dict.fromkeys(_status_word(item) for item in raw.items))
        terms.append(
            Term(
                key=raw.key,
                values=tuple(value for value, _ in pairs),
                negate=raw.negate,
                position=raw.position,
                value_positions=tuple(position for _, position in pairs),
                labels=labels,
            )
        )
    return Query(tuple(terms), text)


def quote(value: str) -> str:
    """``value`` written as a filter value: in double quotes (``"`` and ``\\`` escaped) when
    it holds a space, a comma or a quote."""
    if not any(char.isspace() or char in ',"' for char in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def rename_value(text: str, key: str, old: str, new: str) -> str:
    """``text`` with every value of its ``key`` terms that names ``old`` (any case, as the
    queue matches names) written as ``new`` instead; everything else stays as written. How a
    saved filter follows a renamed team or category; ``team:mine`` and ``team:none`` stay."""
    spans = [
        (item.position, item.end)
        for raw in tokenize(text)
        if raw.key == key
        for item in raw.items
        if item.text.casefold() == old.casefold() and not (key == "team" and item.text.lower() in _TEAM_WORDS)
    ]
    for start, end in reversed(spans):
        text = text[:start] + quote(new) + text[end:]
    return text


# --- describe ---------------------------------------------------------------------------


def _describe_term(term: Term) -> str:
    if term.key == "text":
        verb = "does not contain" if term.negate else "contains"
        return f'text {verb} "{term.values[0]}"'
    if term.key in _SINGLE_VALUED:
        value = term.values[0]
        phrase = _describe_age(value) if term.key == "age" else f"{term.key} {_describe_dates(value)}"
        return f"not {phrase}" if term.negate else phrase
    if term.key == "status":
        words = [word.replace("_", " ") for word in term.labels or term.values]
    elif term.key == "priority":
        words = [_PRIORITY_NAMES[number] for number in term.values]
    elif term.key == "sla":
        words = [value.replace("_", " ") for value in term.values]
    elif term.key == "reopened":
        phrase = (
            "reopened"
            if term.values == ("yes",)
            else "never reopened"
            if term.values == ("no",)
            else "reopened or not"
        )
        return f"not {phrase}" if term.negate else phrase
    else:
        words = [f'"{v}"' if any(c.isspace() or c == "," for c in v) else v for v in term.values]
    verb = "is not" if term.negate else "is"
    label = {"sla_outcome": "SLA outcome", "source": "source number"}.get(term.key, term.key)
    return f"{label} {verb} {_or_list(words)}"


def _or_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _format_moment(moment: datetime) -> str:
    if moment.time() == time():
        return moment.date().isoformat()
    return moment.isoformat(sep=" ", timespec="minutes")


def _describe_dates(dates: DateRange) -> str:
    start, end = dates.start, dates.end
    if start is None:
        return "at any time" if end is None else f"before {_format_moment(end)}"
    if end is None:
        return f"on or after {_format_moment(start)}"
    if start.time() == time() and end.time() == time():
        last_day = (end - timedelta(days=1)).date()
        if last_day == start.date():
            return f"on {last_day.isoformat()}"
        return f"from {start.date().isoformat()} through {last_day.isoformat()}"
    if end - start == timedelta(minutes=1):
        return f"at {_format_moment(start)}"
    return f"from {_format_moment(start)} until {_format_moment(end)}"


def _describe_age(age: AgeRange) -> str:
    if age.min is not None and age.max is not None:
        return f"between {_format_duration(age.min)} and {_format_duration(age.max)} old"
    if age.min is not None:
        return f"older than {_format_duration(age.min)}"
    if age.max is not None:
        return f"newer than {_format_duration(age.max)}"
    return "any age"


def _format_duration(length: timedelta) -> str:
    """``3 days``, ``1 week``: the largest unit that divides the length exactly."""
    minutes = length // timedelta(minutes=1)
    unit, size = next(
        ((unit, size) for unit, size in _UNIT_MINUTES if minutes >= size and minutes % size == 0),
        ("minute", 1),
    )
    count = minutes // size
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


# --- shared with the other filter languages (inventory lists, activity log) ----------------
# They use the same syntax: their own keys, the same tokenizer, values, dates and messages.


def squashed(word: str) -> str:
    """``word`` lower-cased without ``-``, ``_`` and spaces: 'In_Use' and 'in use' are alike."""
    return re.sub(r"[-_ ]", "", word.lower())


def choose(item: _Item, options: Sequence[str], label: str) -> str:
    """The option ``item`` names, ignoring case, ``_``, ``-`` and spaces; else a QueryError
    at the value listing what is allowed."""
    wanted = squashed(item.text)
    for option in options:
        if squashed(option) == wanted:
            return option
    allowed = ", ".join(f'"{o}"' if " " in o else o for o in options)
    raise QueryError(f"unknown {label} {show(item.text)} (allowed: {allowed})", item.position)


def single(raw: RawTerm) -> _Item:
    """The one value of a single-valued key, or a QueryError at the second one."""
    if len(raw.items) > 1:
        raise QueryError(f"{raw.key} takes a single value, not a list", raw.items[1].position)
    return raw.items[0]
