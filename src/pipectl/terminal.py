"""What reaches a terminal: user text with its control characters made visible, and the width to fit.

A name or a note can hold anything an import brought in, including escape
sequences: OSC 52 writes the clipboard, `ESC[2J` clears the screen, OSC 0 sets
the window title, a bare carriage return overwrites what was printed. Every
piece of user text drawn for people goes through `visible()` first, so the
terminal shows those characters instead of obeying them. JSON, CSV and ics
output keep their own escaping and never come here.

Plain Python only: `--help` imports this module through the renderer.
"""

import os
import sys
from typing import Any

ESCAPE_PICTURE = "␛"
NEWLINE_MARK = "⏎"


def _visible_table() -> dict[int, str]:
    # C0 controls as the Unicode control pictures (␛ ␀ ␇ ␍ …), DEL as ␡.
    table: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
    table[0x7F] = "␡"
    # A tab is harmless but would break a table's alignment: one space.
    table[ord("\t")] = " "
    # C1 controls have no pictures; 0x9B alone is a CSI on some terminals.
    table.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})
    # Bidirectional overrides and isolates reorder what the eye reads ("Trojan Source").
    table.update({code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})
    # Lone surrogates cannot be encoded at all: printing one would crash the command.
    table.update({code: f"\\u{code:04x}" for code in range(0xD800, 0xE000)})
    return table


_MULTI_LINE = _visible_table()
_MULTI_LINE[ord("\n")] = "\n"
_ONE_LINE = {**_MULTI_LINE, ord("\n"): NEWLINE_MARK}


def visible(text: Any, *, one_line: bool = False) -> str:
    """`text` with control characters shown instead of obeyed: ESC as ␛, a CR as ␍, C1 as `\\x9b`.

    Newlines stay line breaks, or become ⏎ with `one_line` (a table cell, a title).
    Example: visible("Ada\\x1b]52;c;aGk=\\x07") == "Ada␛]52;c;aGk=␇"
    """
    if text is None:
        return ""
    text = str(text)
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n")
    return text.translate(_ONE_LINE if one_line else _MULTI_LINE)


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal (tables fit its width) or a pipe or file (tables are drawn whole).

    TTY_COMPATIBLE=1 or 0 (the variable Rich also reads) overrides the check; the tests use it to
    draw tables as a terminal of COLUMNS columns would.
    """
    forced = os.environ.get("TTY_COMPATIBLE", "")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        return sys.stdout.isatty()
    except ValueError:  # stdout already closed
        return False


def terminal_width() -> int | None:
    """The width tables must fit on the terminal (COLUMNS wins), or None in a pipe: no limit."""
    if not stdout_is_terminal():
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80
