"""Tables that fit any terminal: each table declares its columns, this module picks their widths.

A column says how much it matters (`priority`: the lowest gives way first), how
narrow its text may get and stay readable (`min_width`, for names, companies,
notes), and how it lines up. On a terminal, columns give way in priority order:
a column first narrows to its readable width, then, if the table still does
not fit and the column is not `keep`, it is left out. So the agenda loses its
Score column before a name is narrowed, and a name is never cut to a few
letters. Narrowed text wraps at spaces (or, with `wrap=False`, ends in "…");
a word is only split when it is longer than `LONGEST_WORD`. A column that is
empty in every row is not drawn.

In a pipe (`terminal_width()` is None) nothing is narrowed or cut: each column
is as wide as its widest cell, so `pipectl list | grep Perlman` finds the line.

Cells are plain user text (a `str`, made visible and kept on one line), or a
Rich `Text` the caller built (with `cell`, `cell_lines` or `from_markup`).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipectl.terminal import terminal_width, visible

# Between two columns: padding, the rule, padding (tables have no outer edge).
GAP = 3
# Words up to this long are never split across lines (stage names, surnames, companies).
LONGEST_WORD = 20
# A lead's name up to this long is never narrowed: a row is found by its name. Longer ones wrap.
NAME_WIDTH = 30
# Below this, even a kept column is unreadable: the table then overflows rather than shrink further.
FLOOR = 4
# A row of this marks a section break (a rule across the table) between the rows around it.
SECTION = None
EMPTY_MARKS = ("", "–")
UNBOUNDED = 1_000_000


@dataclass(frozen=True)
class Column:
    """One column: `min_width` None means its content is never narrowed (ids, amounts, dates)."""

    header: str
    priority: int = 5
    min_width: int | None = None
    justify: Literal["left", "right"] = "left"
    wrap: bool = True
    keep: bool = False
    style: str | None = None


def cell(value: Any, style: str | None = None):
    """User text as a one-line cell: control characters shown, newlines as ⏎, never read as markup."""
    from rich.text import Text

    return Text(visible(value, one_line=True), style=style or "")


def cell_lines(values: Sequence[Any], style: str | None = None):
    """Several user texts in one cell, one per line (a lead's stall reasons)."""
    from rich.text import Text

    return Text("\n".join(visible(value, one_line=True) for value in values), style=style or "")


def from_markup(markup: str):
    """A cell written in Rich markup, its user text already passed through `render.escape`."""
    from rich.text import Text

    return Text.from_markup(markup)


@dataclass
class Fitted:
    table: Any
    dropped: list[str]


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any] | None],
    *,
    title: str | None = None,
    title_style: str = "bold",
    show_lines: bool = False,
    width: int | None = None,
) -> Fitted:
    """A Rich table of `rows` under `columns`, fitted to `width` (default: the terminal's; none in a pipe)."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    body = [[_as_text(value) for value in row] if row is not SECTION else SECTION for row in rows]
    cells_of = [[row[index] for row in body if row is not SECTION] for index in range(len(columns))]
    drawn = [
        index for index, cells in enumerate(cells_of) if any(text.plain.strip() not in EMPTY_MARKS for text in cells)
    ]
    # A table with no rows still shows its headers.
    drawn = drawn if any(row is not SECTION for row in body) else list(range(len(columns)))
    natural = {
        index: max(text_width(text) for text in [Text(columns[index].header), *cells_of[index]]) for index in drawn
    }
    width = width or terminal_width()
    if width is None:
        shown, widths = drawn, natural
    else:
        minimum = {index: _minimum(columns[index], cells_of[index], natural[index]) for index in drawn}
        shown, widths = _layout(columns, drawn, natural, minimum, width)
    # A table at least as wide as its title, so the title is not wrapped over the columns.
    title_width = min(cell_len(title or ""), width or UNBOUNDED)
    table = Table(
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        title=title,
        title_justify="left",
        title_style=title_style,
        show_lines=show_lines,
        min_width=title_width or None,
    )
    for index in shown:
        column = columns[index]
        table.add_column(
            Text(column.header, no_wrap=False, overflow="fold"),
            justify=column.justify,
            width=widths[index],
            no_wrap=width is None or not column.wrap,
            overflow="fold" if column.wrap else "ellipsis",
            style=column.style or "",
        )
    for row in body:
        if row is SECTION:
            table.add_section()
        else:
            table.add_row(*(row[index] for index in shown))
    return Fitted(table, [columns[index].header for index in drawn if index not in shown])


def print_table(console, columns: Sequence[Column], rows: Sequence[Sequence[Any] | None], **options) -> list[str]:
    """Draw a fitted table; returns the headers of the columns left out to fit the terminal."""
    fitted = fitted_table(columns, rows, **options)
    console.print(fitted.table)
    return fitted.dropped


def hidden_note(console, dropped: Sequence[str]) -> None:
    """Say which columns a narrow terminal left out, and how to see them all."""
    if dropped:
        note = f"Hidden at {console.width} columns: {', '.join(dict.fromkeys(dropped))}"
        tip = " (see all: | less -S)"
        # The tip only where it fits: a note that wraps is noise on a terminal already too narrow.
        console.print(note + (tip if len(note + tip) < console.width else "") + ".", style="dim", markup=False)


def _as_text(value: Any):
    from rich.text import Text

    return value if isinstance(value, Text) else cell(value)


def text_width(text) -> int:
    """The widest line of a Rich Text, in terminal cells."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.plain.split("\n")), default=0)


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for word in text.split()), default=0)


def _minimum(column: Column, cells: list, natural: int) -> int:
    """The narrowest the column can get: its content whole (fixed columns), or a readable width (text)."""
    from rich.cells import cell_len

    # A header may wrap between words ("Days in / stage"), never after a lone symbol ("→ / won").
    header_word = max(cell_len(part) for part in re.split(r"(?<=\w) ", column.header))
    if column.min_width is None:
        return max([header_word] + [text_width(text) for text in cells])
    readable = max(column.min_width, header_word)
    if column.wrap:
        readable = max(readable, min(LONGEST_WORD, max((_longest_word(text.plain) for text in cells), default=0)))
    return min(natural, readable)


def _layout(
    columns: Sequence[Column], drawn: list[int], natural: dict[int, int], minimum: dict[int, int], width: int
) -> tuple[list[int], dict[int, int]]:
    """Which columns to show and how wide, giving way lowest priority first: narrow, then leave out."""
    shown = list(drawn)
    for level in sorted({columns[index].priority for index in drawn}):
        leaving = [index for index in shown if columns[index].priority == level and not columns[index].keep]
        # Narrow everything up to this level; if that is not enough, leave out this level's columns.
        for index in [None] + leaving[::-1]:
            if index is not None:
                shown.remove(index)
            if _narrowed(columns, shown, natural, minimum, width, level)[1]:
                shown = _taken_back(columns, drawn, shown, natural, minimum, width, level)
                return shown, _narrowed(columns, shown, natural, minimum, width, level)[0]
    # Even the kept columns at their readable width are too wide: below it, lowest priority first,
    # down to FLOOR (a name is the last to lose a letter); past that the terminal wraps the line.
    widths, _ = _narrowed(columns, shown, natural, minimum, width, None)
    excess = _needed(shown, widths) - width
    for index in sorted(shown, key=lambda index: (columns[index].priority, -index)):
        give = max(min(excess, widths[index] - FLOOR), 0)
        widths[index] -= give
        excess -= give
    return shown, widths


def _taken_back(columns, drawn, shown, natural, minimum, width, level) -> list[int]:
    """Columns left out earlier that fit again now that a wider one is out (Overdue once Due is gone)."""
    for index in sorted(
        (index for index in drawn if index not in shown), key=lambda index: (-columns[index].priority, index)
    ):
        candidate = sorted(shown + [index])
        if _narrowed(columns, candidate, natural, minimum, width, level)[1]:
            shown = candidate
    return shown


def _narrowed(columns, shown, natural, minimum, width, level) -> tuple[dict[int, int], bool]:
    """Natural widths, then columns up to `level` (None: all) narrowed lowest priority first until it fits."""
    widths = {index: natural[index] for index in shown}
    excess = _needed(shown, widths) - width
    for index in sorted(shown, key=lambda index: (columns[index].priority, -index)):
        if excess <= 0 or (level is not None and columns[index].priority > level):
            break
        give = min(excess, widths[index] - minimum[index])
        widths[index] -= give
        excess -= give
    return widths, excess <= 0


def _needed(shown: list[int], widths: dict[int, int]) -> int:
    return sum(widths[index] for index in shown) + GAP * max(len(shown) - 1, 0)
