"""Options shared by many commands, declared once as `Annotated` aliases."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import typer


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def parse_when(text: str) -> datetime:
    """Typer parser for dates: a bad one is a usage error (exit 2) naming the accepted forms."""
    from pipectl.clock import now
    from pipectl.dates import parse_date
    from pipectl.errors import UsageError

    if isinstance(text, datetime):
        return text
    try:
        return parse_date(text, now())
    except UsageError as error:
        raise typer.BadParameter(str(error)) from None


def parse_past(text: str) -> datetime:
    """Typer parser for `--at`: a date that has already happened (exit 2 otherwise)."""
    from pipectl.core.history import check_not_future
    from pipectl.errors import UsageError

    moment = parse_when(text)
    try:
        return check_not_future(moment)
    except UsageError as error:
        raise typer.BadParameter(str(error)) from None


def parse_money(text: str) -> int:
    """Typer parser for amounts: whole cents, or a usage error."""
    from pipectl.errors import UsageError
    from pipectl.money import parse_amount

    if isinstance(text, int):
        return text
    try:
        return parse_amount(text)
    except UsageError as error:
        raise typer.BadParameter(str(error)) from None


DbOption = Annotated[
    str | None,
    typer.Option("--db", metavar="PATH_OR_URL", help="Database file or SQLAlchemy URL (default: PIPECTL_DB, then the user data folder).",
                 show_default=False),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format: table for people; json, jsonl, csv for programs.")
]
AtOption = Annotated[
    datetime | None,
    typer.Option("--at", parser=parse_past, metavar="DATE",
                 help="When it really happened (2026-11-20, yesterday, -3d); default now.", show_default=False),
]
NoteOption = Annotated[str | None, typer.Option("--note", "-n", help="A note kept with the activity.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Override the rule that would refuse this.")]
LeadArgument = Annotated[str, typer.Argument(metavar="LEAD", help="Lead id (or its exact email or name).",
                                             show_default=False)]
ValueOption = Annotated[
    int | None,
    typer.Option("--value", parser=parse_money, metavar="AMOUNT",
                 help="Expected value: 12000, 12,000.50, 12k, $22,700.", show_default=False),
]
