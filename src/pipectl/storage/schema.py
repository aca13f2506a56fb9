"""Opening a database: create it, upgrade it, or refuse it, before any command touches it.

The schema only changes through the Alembic migrations shipped in
`storage/migrations/versions/`; a new database is built by running them all,
so a new database and an upgraded one cannot differ.
"""

import os
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError

from pipectl.errors import DatabaseError
from pipectl.storage import health, location as locations
from pipectl.storage.engine import Database, make_engine, memory_engine, use_wal

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration this pipectl ships; tests check it is Alembic's head.
SCHEMA_REVISION = "0013"
# Tables every pipectl database has had since the first schema: an `alembic_version` table alone
# (any Alembic-managed program has one) does not make a file pipectl's.
OWN_TABLES = frozenset({"settings", "stages", "leads", "activities", "lead_tags", "lead_fields"})


def open_database(location: str | None = None, *, template: str = "default", dry_run: bool = False) -> Database:
    """Open the pipeline, creating it with `template`'s stages or upgrading it as needed.

    A `dry_run` never creates, converts or upgrades a file: with no pipeline yet it works on a scratch
    one in memory. A read-only database (`?mode=ro`, or a file the user may not write) is read as it is.
    """
    resolved = locations.resolve(location)
    path = locations.sqlite_path(resolved)
    if dry_run and path is not None and not path.exists():
        return _scratch(resolved, template)
    read_only = _read_only_reason(resolved, path)
    if read_only and path is not None and not path.exists():  # (a reason means a SQLite file)
        raise DatabaseError(f"There is no database at {locations.display(resolved)} to read.")
    database = Database(
        resolved, make_engine(resolved, read_only=bool(read_only), create=not dry_run), read_only=read_only
    )
    try:
        if dry_run and path is None and _survey(database) == (None, set()):
            # An empty server database is what a missing file is on SQLite: no pipeline yet, so a dry run
            # works on a scratch one as it does there, instead of refusing.
            database.close()
            return _scratch(resolved, template)
        _prepare(database, template, touch=not (dry_run or read_only), why=read_only or "a dry run")
    except UnicodeDecodeError:
        # SQLite's own error message quoted bytes of a damaged schema page.
        database.close()
        raise health.damaged(locations.display(resolved), "database disk image is malformed") from None
    except SQLAlchemyDatabaseError as error:
        database.close()
        if health.is_damage(error) and path is not None and path.stat().st_size > 0 and _looks_like_sqlite(path):
            raise health.damaged(locations.display(resolved), error.orig) from None
        raise DatabaseError(f"Cannot open {locations.display(resolved)} as a pipectl database: {error.orig}.") from None
    except BaseException:
        database.close()
        raise
    return database


def _prepare(database: Database, template: str, *, touch: bool, why: str) -> None:
    """Check the file is a pipectl database this pipectl can use; create or upgrade it when allowed."""
    display = locations.display(database.location)
    revision, tables = _survey(database)
    if revision is None and not tables:
        if not touch:
            raise DatabaseError(
                f"{display} holds no pipeline yet, and {why} does not create one; run `pipectl init` first."
            )
        use_wal(database.engine)
        _create(database, template)
        return
    if not tables >= OWN_TABLES or revision is None:
        # Checked before anything is written: WAL or a migration would change someone else's file.
        shown = ", ".join(sorted(tables - {"alembic_version"})[:5]) or "only an alembic_version table"
        raise DatabaseError(
            f"{display} is not a pipectl database (it holds {shown}); it was left untouched. "
            "Choose another file with --db."
        )
    if revision == SCHEMA_REVISION:
        if touch:
            use_wal(database.engine)
        return
    if revision not in known_revisions():
        raise DatabaseError(
            f"{display} was made by a newer pipectl (schema {revision}); "
            "upgrade pipectl to use it. It was left untouched."
        )
    if not touch:
        raise DatabaseError(
            f"{display} needs a schema upgrade, which {why} does not do; run `pipectl db upgrade` first."
        )
    use_wal(database.engine)
    upgrade(database)


def current_revision(database: Database) -> str | None:
    """The schema revision recorded in the database, or None for a database with no schema."""
    return _survey(database)[0]


def _survey(database: Database) -> tuple[str | None, set[str]]:
    """The recorded revision and the tables, read in one plain (deferred) read: it never waits for a writer."""
    with database.engine.connect() as connection:
        tables = _table_names(connection)
        revision = None
        if "alembic_version" in tables:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision, tables


def _table_names(connection) -> set[str]:
    """The tables of the database, as SQLAlchemy's inspector lists them.

    On SQLite, the inspector's own query on sqlite_master, run directly: building an inspector for
    it cost ten times the query, on every command.
    """
    if connection.dialect.name == "sqlite":
        listed = connection.exec_driver_sql(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite~_%' ESCAPE '~'"
        )
        return {name for (name,) in listed}
    return set(inspect(connection).get_table_names())


def _create(database: Database, template: str) -> None:
    """The schema and the template's stages in one transaction: a pipeline never exists without stages."""
    from sqlmodel import Session

    from pipectl.storage.templates import create_stages_from_template

    with database.engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        # Another first use may have built it while this one waited for the lock.
        tables = _table_names(connection)
        if tables:
            if not tables >= OWN_TABLES:
                raise DatabaseError(
                    f"{locations.display(database.location)} is not a pipectl database; "
                    "it was left untouched. Choose another file with --db."
                )
            return
        _migrate(connection, "head")
        with Session(bind=connection) as session:
            create_stages_from_template(session, template)
            session.flush()
    database.created = True


def _scratch(location: str, template: str) -> Database:
    """A dry run with no pipeline yet: an empty pipeline in memory, so nothing is created on disk."""
    database = Database(location, memory_engine())
    _create(database, template)
    database.created = False
    database.scratch = True
    return database


def _read_only_reason(location: str, path: Path | None) -> str | None:
    if path is None:
        return None
    if locations.read_only(location):
        return "the URL says mode=ro"
    if path.exists() and not os.access(path, os.W_OK):
        return "you may not write the file"
    if path.exists() and not os.access(path.parent, os.W_OK):
        # SQLite writes its -wal and -shm files beside the database: without them it cannot write.
        return "you may not write its folder"
    return None


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def known_revisions() -> set[str]:
    """Every revision this pipectl knows, from oldest to newest."""
    return {script.revision for script in _script_directory().walk_revisions()}


def head_revision() -> str:
    return _script_directory().get_current_head()


def upgrade(database: Database, revision: str = "head") -> None:
    """Apply the migrations the database lacks, in one transaction."""
    with database.engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
        _migrate(connection, revision)


def _migrate(connection, revision: str) -> None:
    from alembic import command

    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _script_directory():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())
