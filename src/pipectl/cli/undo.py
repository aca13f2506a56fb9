"""`pipectl undo` and `pipectl history`: reverse the latest command, and list what can be reversed."""

from typing import Annotated

import typer

from pipectl.cli.options import DbOption, FormatOption, format_flag

UndoFormatOption = Annotated[str, format_flag("table", "json", help="table (a sentence for people) or json.")]
# A person reads a screenful of history; --limit 0 lists all the journal keeps.
HISTORY_LIMIT = 20


def undo(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be undone; change nothing.")] = False,
    fmt: UndoFormatOption = "table",
    db: DbOption = None,
) -> None:
    """Reverse your latest command that has not been undone, in one transaction, and say what it reversed.

    Refused, naming the lead, when a row it would put back has been changed since by someone else.

    Example: pipectl undo --dry-run
    """
    from pipectl.actor import current_actor
    from pipectl.cli.runtime import database
    from pipectl.core.undo import undo as run_undo

    actor = current_actor()
    # A typed path that leads nowhere is refused rather than created: there is nothing to undo there.
    # The undo's own writes are not journaled: there is no redo, and it must not undo itself.
    with (
        database(db, write=False, dry_run=dry_run) as opened,
        opened.session(write=not dry_run, journal=False) as session,
    ):
        report = run_undo(session.connection(), actor, dry_run=dry_run)
    # Printed after the commit: a closed pipe never rolls the undo back.
    report["dry_run"] = dry_run
    _say(report, fmt)


def _say(report: dict, fmt: str) -> None:
    from pipectl.core.journal_log import summary
    from pipectl.output import emit
    from pipectl.render import message

    verb = "Would undo" if report["dry_run"] else "Undid"
    message(
        f"{verb} #{report['id']} `{report['command']}` ({report['actor']}, {report['at']}); "
        f"it had {summary(report['changes'])}."
    )
    leads = report["leads"]
    if leads:
        shown = ", ".join(f"#{lead['id']} {lead['name']}" for lead in leads[:5])
        more = f" and {len(leads) - 5:,} more" if len(leads) > 5 else ""
        message(f"Leads: {shown}{more}.")
    if fmt != "table":
        emit(fmt, report)


def history(
    limit: Annotated[
        int,
        typer.Option("--limit", min=0, metavar="N", help="How many commands to list, newest first (0: all)."),
    ] = HISTORY_LIMIT,
    keep: Annotated[
        int | None,
        typer.Option(
            "--keep", min=1, max=10_000, metavar="N", help="Set how many commands the journal keeps (default 100)."
        ),
    ] = None,
    keep_days: Annotated[
        int | None,
        typer.Option(
            "--keep-days", min=1, max=3650, metavar="DAYS", help="Set how many days the journal keeps (default 30)."
        ),
    ] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """List recent commands `pipectl undo` can reverse: who ran them, when, and how many leads they changed.

    The journal keeps the latest 100 commands, none older than 30 days; --keep and --keep-days change that.

    Example: pipectl history --limit 5
    """
    from pipectl.cli.runtime import database, pipeline
    from pipectl.core.journal_log import history as recent, set_retention
    from pipectl.output import emit
    from pipectl.render import message

    if keep is not None or keep_days is not None:
        with pipeline(db) as session:
            kept, days = set_retention(session, keep, keep_days)
        message(f"The journal keeps the latest {kept:,} commands, none older than {days:,} days.")
        return
    with database(db) as opened, opened.session(write=False) as session:
        rows = recent(session.connection(), limit=limit or None)
        emit(fmt, rows, table=_history_table)


def _history_table(rows) -> None:
    from pipectl.cli.table_layout import Column, cell, print_table
    from pipectl.render import stdout_console

    console = stdout_console()
    rows = list(rows)
    if not rows:
        console.print("Nothing to undo: no write command is in the journal.", style="dim")
        return
    columns = (
        Column("#", priority=9, justify="right", keep=True),
        Column("When", priority=8),
        Column("Who", priority=7, min_width=6),
        Column("Command", priority=9, min_width=16, keep=True),
        Column("Leads", priority=6, justify="right"),
    )
    table_rows = [
        [str(row["id"]), row["at"], cell(row["actor"]), cell(row["command"]), f"{row['leads']:,}"] for row in rows
    ]
    print_table(console, columns, table_rows)


def register(app: typer.Typer) -> None:
    app.command()(undo)
    app.command()(history)
