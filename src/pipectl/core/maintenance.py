"""The database itself: a consistent backup and an integrity check."""

import os
import sqlite3
from pathlib import Path

from sqlalchemy import func, text
from sqlmodel import select

from pipectl.errors import DatabaseError, RuleViolation, UsageError
from pipectl.storage.engine import Database
from pipectl.storage.models import Activity, Lead, Stage
from pipectl.storage.schema import current_revision


def backup(database: Database, destination: Path, *, overwrite: bool = False) -> Path:
    """Copy the database with SQLite's online backup: consistent even while others write."""
    source_path = database.path
    if source_path is None:
        raise UsageError("`db backup` copies SQLite files; back up a server database with its own tools.")
    destination = destination.expanduser()
    if destination.resolve() == source_path.resolve():
        raise UsageError("The backup cannot overwrite the database itself; choose another file.")
    if destination.exists() and not overwrite:
        raise RuleViolation(f"{destination} exists; choose another file or add --force to replace it.")
    if not destination.parent.is_dir():
        raise UsageError(f"{destination.parent} is not a folder.")
    partial = destination.with_name(destination.name + ".partial")
    try:
        # The copy holds the same personal data as the original: owner-only from the first byte.
        os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
        raw = database.engine.raw_connection()
        try:
            target = sqlite3.connect(partial)
            try:
                raw.driver_connection.backup(target)
            finally:
                target.close()
        finally:
            raw.close()
        os.replace(partial, destination)
    except (OSError, sqlite3.Error) as error:
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"The backup to {destination} failed: {error}.") from None
    return destination


def check(database: Database) -> dict:
    """Integrity and foreign keys (on SQLite), the schema revision, and row counts."""
    report: dict = {"schema": current_revision(database), "problems": []}
    with database.session(write=False) as session:
        if database.path is not None:
            integrity = [row[0] for row in session.execute(text("PRAGMA integrity_check"))]
            if integrity != ["ok"]:
                report["problems"].extend(integrity)
            for table, rowid, parent, _ in session.execute(text("PRAGMA foreign_key_check")):
                report["problems"].append(f"{table} row {rowid} points at a missing {parent} row")
        report["stages"] = session.exec(select(func.count()).select_from(Stage).where(Stage.removed == False)).one()  # noqa: E712
        report["leads"] = session.exec(select(func.count()).select_from(Lead)).one()
        report["activities"] = session.exec(select(func.count()).select_from(Activity)).one()
    report["ok"] = not report["problems"]
    return report
