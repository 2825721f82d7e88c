"""One-record PDF reports: a ticket (fields, description, timeline, linked asset) and a system
(fields, peripherals, ticket history, change history). Every value goes through an escaped
Paragraph (:func:`pdf_style.para`), so ticket text never becomes markup, a link or an image.

These documents are small, so they are built twice: once to count the pages, once for real
with "Page x of y" in the footer."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.platypus import (
    Frame,
    KeepTogether,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from itsm_tui.reports.lists import display
from itsm_tui.reports.pdf_style import (
    ACCENT,
    MARGIN,
    RULE,
    ZEBRA,
    Masthead,
    PageDecor,
    document,
    page_size,
    para,
    pieces,
    pill,
    styles,
    table_font,
)


def build(out, masthead: Masthead, story_factory) -> int:
    """Write the story ``story_factory()`` makes to ``out``; returns the page count."""

    def run(target, total):
        doc = document(target, page_size(False), masthead)
        frame = Frame(
            MARGIN,
            MARGIN,
            doc.width,
            doc.height,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        doc.addPageTemplates([PageTemplate("report", [frame], onPage=PageDecor(masthead, total))])
        doc.build(story_factory())
        return doc.page

    pages = run(io.BytesIO(), None)
    run(out, pages)
    return pages


def fields_table(pairs: Sequence[tuple[str, object]], width: float, columns: int = 2):
    """Label/value pairs in ``columns`` side-by-side columns (values wrap)."""
    style = styles()
    cells = [
        (para(label, style["label"]), para(display(value) or "—", style["cell"])) for label, value in pairs
    ]
    rows = []
    for start in range(0, len(cells), columns):
        row = []
        for label, value in cells[start : start + columns]:
            row += [label, value]
        row += [""] * (2 * columns - len(row))
        rows.append(row)
    label_width = 0.2 * width
    widths = [label_width, width / columns - label_width] * columns
    table = Table(rows, colWidths=widths)
    table.setStyle(
        TableStyle(
            table_font()
            + [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def rows_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    looks: Sequence[str] = (),
):
    """A small list with a repeated header, zebra rows, and coloured status/priority cells.

    A long value goes on over continuation rows (see :func:`pdf_style.pieces`), so no row is
    ever taller than a page and an entry of any length splits across pages."""
    style = styles()
    header_style = style["label"].clone("header", textColor="#FFFFFF")
    data = [[para(h, header_style) for h in headers]]
    commands = table_font() + [
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for number, row in enumerate(rows, 1):
        texts = [pieces(display(v)) for v in row]
        first = len(data)
        for line in range(max(map(len, texts), default=1)):
            n = len(data)
            data.append([para(text[line], style["cell"]) if line < len(text) else "" for text in texts])
            if number % 2 == 0:
                commands.append(("BACKGROUND", (0, n), (-1, n), ZEBRA))
            if line:  # a continuation: no rule or gap between it and the row it continues
                commands.append(("TOPPADDING", (0, n), (-1, n), 0))
        for c, look in enumerate(looks):
            colours = pill(display(row[c]), look) if look else None
            if colours:
                commands.append(("BACKGROUND", (c, first), (c, first), colours[0]))
                data[first][c] = para(display(row[c]), style["cell"].clone("pill", textColor=colours[1]))
    if not rows:
        data.append([para("none", style["meta"])] + [""] * (len(headers) - 1))
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(commands))
    return table


def heading(text: str):
    return para(text, styles()["heading"])


def title_block(masthead: Masthead, subtitle: str = ""):
    style = styles()
    block = [para(masthead.title, style["title"])]
    if subtitle:
        block.append(para(subtitle, style["meta"]))
    block.append(para(masthead.generated(), style["meta"]))
    block.append(Spacer(1, 6))
    return block


def text_block(title: str, text: str | None):
    """A heading and a text of any length, as one paragraph per piece (see pdf_style.pieces)."""
    style = styles()
    return [heading(title)] + [para(piece, style["body"]) for piece in pieces(text or "—")]


def ticket_story(
    masthead: Masthead,
    fields,
    description: str,
    resolution: str | None,
    asset_fields,
    events,
    width: float,
    linked=(),
):
    """``events``: (when, who, kind, text) rows, oldest first; ``linked``: (link, number, status,
    title) rows of the linked tickets, merges included."""
    story = title_block(masthead)
    story += [heading("Ticket"), fields_table(fields, width)]
    story += text_block("Description", description)
    if resolution:
        story += text_block("Resolution note", resolution)
    story.append(heading("Linked asset"))
    story.append(
        fields_table(asset_fields, width)
        if asset_fields
        else para("No system or peripheral is linked.", styles()["meta"])
    )
    if linked:
        story.append(heading(f"Linked tickets ({len(linked)})"))
        story.append(
            rows_table(
                ("Link", "Ticket", "Status", "Title"),
                linked,
                [0.16 * width, 0.14 * width, 0.14 * width, 0.56 * width],
                ("", "", "status", ""),
            )
        )
    story.append(heading(f"Timeline ({len(events)} event{'s' if len(events) != 1 else ''})"))
    story.append(
        rows_table(
            ("When", "Who", "What", "Details"),
            events,
            [0.19 * width, 0.13 * width, 0.13 * width, 0.55 * width],
            ("", "", "status", ""),
        )
    )
    return story


def system_story(masthead: Masthead, fields, notes: str | None, peripherals, tickets, history, width: float):
    story = title_block(masthead)
    story += [heading("System"), fields_table(fields, width)]
    if notes:
        story += text_block("Notes", notes)
    story.append(
        KeepTogether(
            [
                heading(f"Peripherals ({len(peripherals)})"),
                rows_table(
                    ("Name", "Kind", "Asset tag", "Serial", "Status"),
                    peripherals,
                    [0.34 * width, 0.16 * width, 0.16 * width, 0.2 * width, 0.14 * width],
                    ("", "", "", "", "status"),
                ),
            ]
        )
    )
    story.append(heading(f"Ticket history ({len(tickets)})"))
    story.append(
        rows_table(
            ("Number", "Opened", "Status", "Priority", "Title"),
            tickets,
            [0.13 * width, 0.19 * width, 0.17 * width, 0.11 * width, 0.4 * width],
            ("", "", "status", "priority", ""),
        )
    )
    story.append(heading(f"Change history ({len(history)})"))
    story.append(
        rows_table(
            ("When", "Who", "Action", "Summary"),
            history,
            [0.19 * width, 0.14 * width, 0.14 * width, 0.53 * width],
        )
    )
    return story
