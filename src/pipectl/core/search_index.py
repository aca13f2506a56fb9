"""Does the search index match the data? The check behind `db check` (the index is migration 0010's).

The database keeps the index current itself (SQLite triggers, PostgreSQL generated columns), so a
difference means a write went around it: a hand edit with the triggers dropped, a restored copy of
part of a file. Each backend is compared with what its index should hold, in SQL, in one pass.
"""

import sqlite3

from sqlalchemy import text
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlmodel import Session

# What `lead_search` holds for a lead (the same expressions as migration 0010's triggers), written out
# in full: SQL text is never built here.
_SQLITE_DIFFERENT = """
    SELECT count(*) FROM leads l LEFT JOIN lead_search s ON s.rowid = l.id
    WHERE s.rowid IS NULL OR s.name IS NOT l.name OR s.company IS NOT l.company OR s.email IS NOT l.email
       OR s.phone IS NOT trim(coalesce(l.phone, '') || ' ' || coalesce(l.phone_key, ''))
       OR s.title IS NOT l.title
       OR s.tags IS NOT (SELECT group_concat(tag, ' ') FROM
                         (SELECT tag FROM lead_tags WHERE lead_id = l.id ORDER BY tag))
       OR s.fields IS NOT (SELECT group_concat(key || ' ' || value, ' ') FROM
                           (SELECT key, value FROM lead_fields WHERE lead_id = l.id ORDER BY key))
"""
_SQLITE_ORPHANS = "SELECT count(*) FROM lead_search WHERE rowid NOT IN (SELECT id FROM leads)"
_POSTGRESQL_DIFFERENT = "SELECT count(*) FROM leads WHERE search_extra IS DISTINCT FROM pipectl_search_extra(id)"
# FTS5's own check of each index against its content (for `activity_search`, the activities' notes).
_INTEGRITY = {
    "lead_search": "INSERT INTO lead_search (lead_search, rank) VALUES ('integrity-check', 1)",
    "activity_search": "INSERT INTO activity_search (activity_search, rank) VALUES ('integrity-check', 1)",
}


def index_problems(session: Session) -> list[str]:
    """What differs between the search index and the data, in words; empty when they match."""
    if session.get_bind().dialect.name == "postgresql":
        different = session.execute(text(_POSTGRESQL_DIFFERENT)).scalar_one()
        return [_differ(different)] if different else []
    problems = []
    different = session.execute(text(_SQLITE_DIFFERENT)).scalar_one()
    orphans = session.execute(text(_SQLITE_ORPHANS)).scalar_one()
    if different:
        problems.append(_differ(different))
    if orphans:
        problems.append(f"the search index holds {orphans} lead(s) that are no longer in the pipeline")
    for table in ("lead_search", "activity_search"):
        problem = _fts_integrity(session, table)
        if problem:
            problems.append(problem)
    return problems


def _differ(count: int) -> str:
    return f"the search index differs from the data for {count} lead(s)"


def _fts_integrity(session: Session, table: str) -> str | None:
    """FTS5's check of an index against its content; None when it matches or cannot run without waiting.

    The check is an INSERT, so it needs the write lock: a writer that holds it past the busy timeout,
    or a read-only file, skips it (the comparison above still ran).
    """
    connection = session.connection()
    try:
        # A savepoint: a failed check must not end the transaction the rest of `db check` reads in.
        with connection.begin_nested():
            connection.execute(text(_INTEGRITY[table]))
    except SQLAlchemyDatabaseError as error:
        said = str(error.orig).replace("-", "")
        if isinstance(error.orig, sqlite3.Error) and any(word in said for word in ("readonly", "locked", "busy")):
            return None
        what = "the leads" if table == "lead_search" else "the activity notes"
        return f"the search index ({table}) does not match {what}"
    return None


# The statements that fill the SQLite index afresh from the data (`db reindex`, the benchmark generator).
SQLITE_REBUILD = (
    "DELETE FROM lead_search",
    """INSERT INTO lead_search (rowid, name, company, email, phone, title, tags, fields)
    SELECT l.id, l.name, l.company, l.email, trim(coalesce(l.phone, '') || ' ' || coalesce(l.phone_key, '')), l.title,
        (SELECT group_concat(tag, ' ') FROM (SELECT tag FROM lead_tags WHERE lead_id = l.id ORDER BY tag)),
        (SELECT group_concat(key || ' ' || value, ' ') FROM
            (SELECT key, value FROM lead_fields WHERE lead_id = l.id ORDER BY key))
    FROM leads l""",
    "INSERT INTO activity_search (activity_search) VALUES ('rebuild')",
)


def rebuild_index(session: Session) -> None:
    """Build the search index afresh from the data (`db reindex`), in the command's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "UPDATE leads SET search_extra = pipectl_search_extra(id) "
                "WHERE search_extra IS DISTINCT FROM pipectl_search_extra(id)"
            )
        )
        return
    for statement in SQLITE_REBUILD:
        session.execute(text(statement))
