"""The consoles people read: Rich on stdout for tables, plain lines on stderr for messages.

Machine formats never come here: `pipectl.output` writes them straight to the
stream. Messages and warnings go to stderr so a pipe only ever carries data.
Rich is imported only when a table is drawn, to keep `--help` fast. User text
drawn for people, on stdout or stderr, has its control characters made visible
(`pipectl.terminal`).
"""

import sys
from typing import Any

from pipectl.terminal import terminal_width, visible

# In a pipe nothing is cut or wrapped: each table is drawn at its own full width.
UNBOUNDED_WIDTH = 1_000_000


def stdout_console():
    """The console tables are drawn on: the terminal's width, or no limit in a pipe (so grep finds it all)."""
    from rich.console import Console

    # Rich takes a given width only with a height (it would use 80 on TERM=dumb); tables never use the height.
    return Console(highlight=False, width=terminal_width() or UNBOUNDED_WIDTH, height=25)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def escape(text: Any, *, one_line: bool = False) -> str:
    """User text made safe for Rich markup and the terminal: `[bold]Acme` prints as written, ESC as ␛."""
    from rich.markup import escape as rich_escape

    return rich_escape(visible(text, one_line=one_line))


def message(text: str) -> None:
    """A status line for people, on stderr (plain text, no markup, control characters made visible)."""
    print(visible(text), file=sys.stderr)


def warning(text: str) -> None:
    print(f"Warning: {visible(text)}", file=sys.stderr)
