"""Options shared by many commands, declared once as `Annotated` aliases."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

# The largest count an option takes: beyond any pipeline, and inside SQLite's 64-bit integers.
COUNT_MAX = 1_000_000_000


def _usage_errors_as_bad_parameter(parse: Callable[[Any], Any], text: Any, parsed_type: type | None = None) -> Any:
    """Run one of pipectl's parsers for Typer: its UsageError becomes a bad option value (exit 2)."""
    from pipectl.errors import UsageError

    # Typer hands a default that is already parsed straight back to the parser.
    if parsed_type is not None and isinstance(text, parsed_type):
        return text
    try:
        return parse(text)
    except UsageError as error:
        raise typer.BadParameter(str(error)) from None


def parse_checked(check: Callable[[str], Any], text: str) -> Any:
    """Typer parser from a core check (`metrics --by`): its UsageError is a bad option value (exit 2)."""
    return _usage_errors_as_bad_parameter(check, text)


def parse_when(text: str) -> datetime:
    """Typer parser for dates: a bad one is a usage error (exit 2) naming the accepted forms."""
    from pipectl.clock import now
    from pipectl.dates import parse_date

    return _usage_errors_as_bad_parameter(lambda value: parse_date(value, now()), text, datetime)


def parse_past(text: str) -> datetime:
    """Typer parser for `--at`: a date that has already happened (exit 2 otherwise)."""
    from pipectl.core.history import check_not_future

    return _usage_errors_as_bad_parameter(check_not_future, parse_when(text))


def parse_money(text: str) -> int:
    """Typer parser for amounts: whole cents, or a usage error."""
    from pipectl.money import parse_amount

    return _usage_errors_as_bad_parameter(parse_amount, text, int)


def parse_length(text: str) -> timedelta:
    """Typer parser for a look-back length (`--older-than 30d`, `6m`): calendar months back from now."""
    from pipectl.clock import now
    from pipectl.dates import parse_duration

    return _usage_errors_as_bad_parameter(lambda value: parse_duration(value).back_from(now()), text, timedelta)


def parse_span(text: str):
    """Typer parser for a length ahead (`next --within 2w`): a `dates.Span`, measured by the command."""
    from pipectl.dates import Span, parse_duration

    return _usage_errors_as_bad_parameter(parse_duration, text, Span)


def parse_since(text: str) -> datetime:
    """Typer parser for `--since`/`--until`: a date, or a length counted back from today (30d, 1m)."""
    from pipectl.clock import now
    from pipectl.dates import parse_look_back

    return _usage_errors_as_bad_parameter(lambda value: parse_look_back(value, now()), text, datetime)


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="PATH_OR_URL",
        help="Database file or SQLAlchemy URL (default: PIPECTL_DB, then the user data folder).",
        show_default=False,
    ),
]


def format_flag(*formats: str, help: str | None = None) -> Any:
    """The `--format`/`-f` option of a command that writes `formats` (the first is the default's kind).

    A format the command did not declare is a usage error naming the ones it has, raised while
    the options are read, before the command does anything. Use it as `Annotated[str, format_flag(…)]`
    in a module-level alias, which a type checker reads as a type (a call in an annotation it cannot).
    """

    def check(value: str | None) -> str | None:
        from pipectl.errors import UsageError

        if value is None or value.lower() in formats:
            return value and value.lower()
        named = ", ".join(formats[:-1]) + " or " + formats[-1]
        raise UsageError(f"--format {value}: this command writes {named}.")

    return typer.Option(
        "--format",
        "-f",
        metavar="|".join(formats),
        callback=check,
        show_default=False,
        autocompletion=lambda incomplete: [name for name in formats if name.startswith(incomplete)],
        help=help or f"Output format: {', '.join(formats)} (default: {formats[0]}).",
    )


# Most commands that print data: a table for people, JSON, JSON Lines or CSV for programs.
FormatOption = Annotated[
    str,
    format_flag(
        "table", "json", "jsonl", "csv", help="Output format: table for people; json, jsonl or csv for programs."
    ),
]
AtOption = Annotated[
    datetime | None,
    typer.Option(
        "--at",
        parser=parse_past,
        metavar="DATE",
        help="When it really happened (2026-11-20, yesterday, -3d); default now.",
        show_default=False,
    ),
]
NoteOption = Annotated[str | None, typer.Option("--note", "-n", help="A note kept with the activity.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Override the rule that would refuse this.")]
LeadArgument = Annotated[
    str, typer.Argument(metavar="LEAD", help="Lead id (or its exact email or name).", show_default=False)
]
# `score` and `predict`: one lead, or without it every open lead.
OpenLeadsArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="LEAD", show_default=False, help="Lead id (or its exact email or name); default: every open lead."
    ),
]
ValueOption = Annotated[
    int | None,
    typer.Option(
        "--value",
        parser=parse_money,
        metavar="AMOUNT",
        help="Expected value: 12000, 12,000.50, 12k, $22,700.",
        show_default=False,
    ),
]
MineOption = Annotated[
    bool, typer.Option("--mine", help="Only your leads (--as NAME, PIPECTL_USER or the login name).")
]


def owner_or_mine(owner: str | None, mine: bool) -> str | None:
    """The owner a view is about: --owner NAME, or with --mine whoever is acting."""
    if not mine:
        return owner
    from pipectl.actor import current_actor
    from pipectl.errors import UsageError

    if owner is not None:
        raise UsageError("--mine is --owner with your own name: give one of them.")
    return current_actor()
