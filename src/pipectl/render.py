"""The consoles people read: Rich on stdout for tables, plain lines on stderr for messages.

Machine formats never come here: `pipectl.output` writes them straight to the
stream. Messages and warnings go to stderr so a pipe only ever carries data.
Rich is imported only when a table is drawn, to keep `--help` fast.
"""

import sys
from typing import Any


def stdout_console():
    from rich.console import Console

    return Console(highlight=False)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def escape(text: Any) -> str:
    """User text made safe for Rich markup: `[bold]Acme` prints as written."""
    from rich.markup import escape as rich_escape

    return rich_escape("" if text is None else str(text))


def message(text: str) -> None:
    """A status line for people, on stderr (plain text, no markup)."""
    print(text, file=sys.stderr)


def warning(text: str) -> None:
    print(f"Warning: {text}", file=sys.stderr)
