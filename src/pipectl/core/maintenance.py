"""The database itself: a consistent backup, an integrity check (the search index included), a reindex."""

import sqlite3
from pathlib import Path

from sqlalchemy import func, text
from sqlmodel import select

from pipectl.errors import DatabaseError, RuleViolation, UsageError
from pipectl.files import check_output, database_files, reserved
from pipectl.storage import health, journal
from pipectl.storage.engine import Database, driver_of
from pipectl.storage.models import Activity, Lead, Stage


def backup(database: Database, destination: str | Path, *, overwrite: bool = False) -> Path:
    """Copy the database with SQLite's online backup: consistent even while others write."""
    source_path = database.path
    if source_path is None:
        raise UsageError("`db backup` copies SQLite files; back up a server database with its own tools.")
    # Never the database, its -wal/-shm/-journal (even with --force): replacing them destroys the pipeline.
    destination = check_output(destination, what="the backup", option="FILE", protected=database_files(source_path))
    if destination.exists() and not overwrite:
        raise RuleViolation(f"{destination} exists; choose another file or add --force to replace it.")
    try:
        with reserved(destination, overwrite=overwrite) as partial:
            raw = database.engine.raw_connection()
            driver = raw.driver_connection
            assert driver is not None, "an open connection"
            try:
                # A copy of a damaged file is damaged too, and may be about to replace a good backup.
                health.check_before_write(driver, source_path, str(source_path.resolve()))
                target = sqlite3.connect(partial)
                try:
                    # No journal file beside the copy: its name could be planted as well.
                    target.execute("PRAGMA journal_mode = OFF")
                    driver.backup(target)
                finally:
                    target.close()
            finally:
                raw.close()
    except sqlite3.Error as error:
        if health.is_damage(error):
            raise health.damaged(str(source_path.resolve()), error) from None
        raise DatabaseError(f"The backup to {destination} failed: {error}.") from None
    return destination


def check(database: Database) -> dict:
    """Integrity and foreign keys (on SQLite), the schema revision, stages, row counts, and the journal."""
    report: dict = {"problems": []}
    with database.session(write=False) as session:
        # Inside the session: a damaged file then fails as the session's (handled) database error.
        report["schema"] = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if database.path is not None:
            report["problems"].extend(health.problems(driver_of(session)))
        report["stages"] = session.exec(select(func.count()).select_from(Stage).where(Stage.removed == False)).one()  # noqa: E712
        report["leads"] = session.exec(select(func.count()).select_from(Lead)).one()
        report["activities"] = session.exec(select(func.count()).select_from(Activity)).one()
        if not report["problems"]:  # a damaged file's journal and index are beside the point
            # The journal `pipectl undo` reads: its triggers cover every column, no command is left open.
            report["problems"].extend(journal.problems(session.connection()))
            from pipectl.core.search_index import index_problems

            found = index_problems(session)
            report["problems"].extend(f"{problem}; rebuild it with `pipectl db reindex`" for problem in found)
    if report["stages"] == 0:
        report["problems"].append("The pipeline has no stages (its creation was cut short?); restore a backup.")
    report["ok"] = not report["problems"]
    return report


def damaged_report(detail: str) -> dict:
    """What `db check` reports for a file too damaged to open or count."""
    return {"schema": None, "problems": [detail], "stages": None, "leads": None, "activities": None, "ok": False}
