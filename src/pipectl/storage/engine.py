"""The engine and sessions: one transaction per command, SQLite tuned for two shells at once.

SQLite is opened with foreign keys on, WAL (readers never block the writer;
set once the file is accepted, see schema.py), and a busy timeout; write transactions start with BEGIN IMMEDIATE so that two
commands writing at once queue for the lock instead of failing half-way.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from pipectl.errors import DatabaseError
from pipectl.storage import location as locations

BUSY_TIMEOUT_MS = 30_000


class Database:
    """An open pipeline database: its engine and a way to run one transaction on it."""

    def __init__(self, location: str, engine: Engine):
        self.location = location
        self.engine = engine
        self.created = False  # set when this open created the database

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database."""
        return locations.sqlite_path(self.location)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        bind = self.engine.execution_options(sqlite_begin="IMMEDIATE" if write else "DEFERRED")
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                if write:
                    session.commit()
                # A read-only transaction just ends when the session closes: rolling it back
                # would expire the objects a command still wants to print.
            except OperationalError as error:
                session.rollback()
                raise DatabaseError(f"The database refused the change: {error.orig}") from None
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def make_engine(location: str) -> Engine:
    """An engine for a path or a URL; a new SQLite file is created with mode 0600."""
    path = locations.sqlite_path(location)
    if path is None:
        try:
            return create_engine(location)
        except (ArgumentError, ImportError) as error:
            hint = " (install the driver: pip install 'pipectl[postgres]')" if "postgres" in location else ""
            raise DatabaseError(f"Cannot use the database URL {locations.display(location)}: {error}{hint}.") from None
    _create_private_file(path)
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def use_wal(engine: Engine) -> None:
    """Put a SQLite file in WAL mode (it stays so); a no-op for other databases or when already on."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
    finally:
        raw.close()


def _create_private_file(path: Path) -> None:
    # The file holds people's personal data: only its owner may read it.
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as error:
        raise DatabaseError(f"Cannot create the database at {path}: {error.strerror}.") from None


def _configure_sqlite(dbapi_connection, _record) -> None:
    # Let the "begin" hook below emit BEGIN itself, instead of pysqlite's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    # WAL is switched on by schema.open_database, once the file is known to be ours: setting it
    # here would rewrite the header of a file pipectl is about to refuse.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _begin_sqlite(connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")
