"""`pipectl owners …`: the sellers leads are handed to, their capacity and pauses; the auto-assign setting."""

from typing import Annotated

import typer

from pipectl.cli.options import DbOption, FormatOption

app = typer.Typer(help="The team's owners: who leads are handed to, with an optional capacity.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The owner's name.", show_default=False)]
MaxOpenOption = Annotated[
    str | None,
    typer.Option("--max-open", metavar="N|none", help="The most open leads they hold at once.", show_default=False),
]
MaxNewOption = Annotated[
    str | None,
    typer.Option(
        "--max-new-per-week",
        metavar="N|none",
        help="The most leads handed to them in seven days.",
        show_default=False,
    ),
]


def _capacity(row: dict) -> str:
    parts = []
    if row["max_open"] is not None:
        parts.append(f"{row['max_open']} open")
    if row["max_new_per_week"] is not None:
        parts.append(f"{row['max_new_per_week']} new/week")
    return ", ".join(parts) or "no limit"


@app.command("add")
def add(name: NameArgument, max_open: MaxOpenOption = None, max_new: MaxNewOption = None, db: DbOption = None) -> None:
    """Add an owner: round-robin hands them leads, and they may claim leads.

    Example: pipectl owners add sam --max-open 40
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.owners import add_owner, parse_capacity
    from pipectl.render import message

    limits = parse_capacity(max_open, "--max-open"), parse_capacity(max_new, "--max-new-per-week")
    with pipeline(db) as session:
        owner = add_owner(session, name, max_open=limits[0], max_new_per_week=limits[1])
        shown = owner.name
    message(f"Added owner {shown}.")


@app.command("set")
def set_capacity(
    name: NameArgument, max_open: MaxOpenOption = None, max_new: MaxNewOption = None, db: DbOption = None
) -> None:
    """Change an owner's capacity; `none` removes a limit.

    Example: pipectl owners set sam --max-new-per-week 10 --max-open none
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.owners import parse_capacity, set_capacity as change
    from pipectl.errors import UsageError
    from pipectl.render import message

    changes = {}
    if max_open is not None:
        changes["max_open"] = parse_capacity(max_open, "--max-open")
    if max_new is not None:
        changes["max_new_per_week"] = parse_capacity(max_new, "--max-new-per-week")
    if not changes:
        raise UsageError("Give --max-open and/or --max-new-per-week (a number, or none).")
    with pipeline(db) as session:
        owner = change(session, name, changes)
        shown = owner.name, _capacity({"max_open": owner.max_open, "max_new_per_week": owner.max_new_per_week})
    message(f"{shown[0]}: {shown[1]}.")


@app.command("list")
def list_owners(fmt: FormatOption = "table", db: DbOption = None) -> None:
    """List the owners: active or paused, open leads, leads handed to them in 7 days, capacity.

    Example: pipectl owners list
    """
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.owners import loads
    from pipectl.output import emit

    with pipeline(db, write=False) as session:
        rows = [load.row() for load in loads(session, clock.now())]
    emit(fmt, rows, table=_owner_table)


def _owner_table(rows: list[dict]) -> None:
    from pipectl.cli.table_layout import Column, cell, hidden_note, print_table
    from pipectl.render import message, stdout_console

    if not rows:
        message("No owners yet; add one with `pipectl owners add NAME`.")
        return
    columns = (
        Column("Owner", priority=9, min_width=8, keep=True),
        Column("Status", priority=8),
        Column("Open leads", priority=7, justify="right"),
        Column("New in 7 days", priority=5, justify="right"),
        Column("Capacity", priority=6, min_width=8),
        Column("Room", priority=4),
    )
    table_rows = [
        [
            cell(row["name"]),
            row["status"],
            str(row["open_leads"]),
            str(row["new_this_week"]),
            _capacity(row),
            "yes" if row["room"] else "no",
        ]
        for row in rows
    ]
    console = stdout_console()
    hidden_note(console, print_table(console, columns, table_rows, title="Owners"))


@app.command("pause")
def pause(name: NameArgument, db: DbOption = None) -> None:
    """Pause an owner: they keep their leads and get no new ones (round-robin skips them).

    Example: pipectl owners pause sam
    """
    _pause(name, True, db)


@app.command("resume")
def resume(name: NameArgument, db: DbOption = None) -> None:
    """Resume a paused owner: round-robin hands them leads again.

    Example: pipectl owners resume sam
    """
    _pause(name, False, db)


def _pause(name: str, paused: bool, db: str | None) -> None:
    from pipectl.cli.runtime import pipeline
    from pipectl.core.owners import set_paused
    from pipectl.render import message

    with pipeline(db) as session:
        shown = set_paused(session, name, paused).name
    message(f"{shown} is {'paused: no new leads' if paused else 'active again'}.")


@app.command("remove")
def remove(name: NameArgument, db: DbOption = None) -> None:
    """Take an owner off the roster; refused while they hold open leads.

    Example: pipectl owners remove sam
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.owners import remove_owner
    from pipectl.render import message

    with pipeline(db) as session:
        shown = remove_owner(session, name).name
    message(f"Removed owner {shown}.")


@app.command("auto")
def auto(
    mode: Annotated[
        str | None,
        typer.Argument(
            metavar="round-robin|off", help="Hand new leads out by round-robin, or not.", show_default=False
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Whether `add` and `import` hand new leads without an owner out by round-robin; without MODE, print it.

    Example: pipectl owners auto round-robin
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.assignment import AUTO_ASSIGN
    from pipectl.core.settings import get_setting, put_setting
    from pipectl.errors import UsageError
    from pipectl.render import message

    if mode is None:
        with pipeline(db, write=False) as session:
            print(get_setting(session, AUTO_ASSIGN) or "off")
        return
    cleaned = mode.strip().lower()
    if cleaned not in ("round-robin", "off"):
        raise UsageError(f"owners auto takes round-robin or off, not {mode!r}.")
    with pipeline(db) as session:
        put_setting(session, AUTO_ASSIGN, None if cleaned == "off" else cleaned)
    message(
        "New leads without an owner are handed out by round-robin."
        if cleaned == "round-robin"
        else "New leads are no longer handed out automatically."
    )
