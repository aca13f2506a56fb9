"""`pipectl db …`: where the database is, upgrading, checking and backing it up."""

from typing import Annotated

import typer

from pipectl.cli.options import DbOption, format_flag

app = typer.Typer(help="The database itself: path, upgrade, check, reindex, backup.", no_args_is_help=True)


@app.command("path")
def path(db: DbOption = None) -> None:
    """Print where the pipeline database is (without creating it).

    Example: pipectl db path
    """
    from pipectl.cli.runtime import chosen_location
    from pipectl.storage import location

    print(location.display(location.resolve(chosen_location(db))))


@app.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Apply any pending schema migrations (opening the database does this too).

    Example: pipectl db upgrade
    """
    from pipectl.cli.runtime import open_chosen
    from pipectl.render import message
    from pipectl.storage import location
    from pipectl.storage.schema import SCHEMA_REVISION

    database = open_chosen(db, write=False)  # upgrading a file that is not there is a typo, not a wish
    database.close()
    message(f"{location.display(database.location)} is at schema {SCHEMA_REVISION} (the newest this pipectl knows).")


CheckFormatOption = Annotated[str, format_flag("table", "json", "jsonl")]


@app.command("check")
def check(fmt: CheckFormatOption = "table", db: DbOption = None) -> None:
    """Check the database's integrity and report its schema version and size.

    Example: pipectl db check
    """
    from pipectl.cli.runtime import database
    from pipectl.core.maintenance import check as run_check, damaged_report
    from pipectl.errors import DatabaseError
    from pipectl.output import emit
    from pipectl.storage.health import DatabaseDamaged

    try:
        with database(db) as opened:
            report = run_check(opened)
    except DatabaseDamaged as error:
        # The check's whole point: a damaged file is reported, not a reason to fail.
        report = damaged_report(f"damaged: {error.detail}")
    emit(fmt, report, table=_report)
    if report["problems"] and all("db reindex" in problem for problem in report["problems"]):
        raise DatabaseError("The search index does not match the data; rebuild it with `pipectl db reindex`.")
    if not report["ok"]:
        raise DatabaseError(
            "The integrity check found problems; restore a backup (a copy made by "
            "`pipectl db backup FILE`) after checking it with `pipectl --db COPY db check`."
        )


def _report(report: dict) -> None:
    from pipectl.terminal import visible

    status = "ok" if report["ok"] else "PROBLEMS FOUND"
    if report["leads"] is None:
        print(f"{status}: the database cannot be read")
    else:
        print(
            f"{status}: schema {report['schema']}, {report['stages']} stages, {report['leads']} leads, "
            f"{report['activities']} activities"
        )
    for problem in report["problems"]:
        # A problem may quote a damaged row: its control characters are shown, not run.
        print(f"  {visible(problem, one_line=True)}")


@app.command("reindex")
def reindex(db: DbOption = None) -> None:
    """Rebuild the search index from the data (when `db check` says they differ).

    Example: pipectl db reindex
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.search_index import rebuild_index
    from pipectl.render import message

    with pipeline(db) as session:
        rebuild_index(session)
    message("Rebuilt the search index.")


@app.command("backup")
def backup(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Where to write the copy.", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    db: DbOption = None,
) -> None:
    """Write a consistent copy of the database, safe while other commands write.

    Example: pipectl db backup ~/backups/pipeline-2026-11-23.db
    """
    from pipectl.cli.runtime import database
    from pipectl.core.maintenance import backup as run_backup
    from pipectl.render import message

    with database(db) as opened:
        written = run_backup(opened, file, overwrite=force)
    message(f"Backed up to {written}.")
