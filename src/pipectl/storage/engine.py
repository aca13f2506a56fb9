"""The engine and sessions: one transaction per command, SQLite tuned for two shells at once.

SQLite is opened with foreign keys on, WAL (readers never block the writer;
set once the file is accepted, see schema.py), and a busy timeout. Reads run
in plain (deferred) transactions and never wait for a writer; write
transactions start with BEGIN IMMEDIATE so that two commands writing at once
queue for the lock instead of failing half-way.
"""

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DatabaseError as SQLAlchemyDatabaseError, OperationalError
from sqlmodel import Session

from pipectl.errors import DatabaseError, UsageError
from pipectl.storage import health, location as locations

BUSY_TIMEOUT_MS = 30_000
BUSY_ENV = "PIPECTL_BUSY_TIMEOUT"  # seconds a writer waits for the lock


class Database:
    """An open pipeline database: its engine and a way to run one transaction on it."""

    def __init__(self, location: str, engine: Engine, *, read_only: str | None = None):
        self.location = location
        self.engine = engine
        self.created = False  # set when this open created the database
        self.read_only = read_only  # why writes are refused (None: they are not)
        self.command = "command"  # what the writer note says holds the lock; set by the CLI
        self.scratch = False  # a dry run's pipeline in memory, standing in for a file not made yet
        # What the journal records of each write command (storage/journal.py); set by the CLI.
        self.argv: list[str] = []
        self.actor: str | None = None

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database (or a dry run's scratch copy)."""
        return None if self.scratch else locations.sqlite_path(self.location)

    @contextmanager
    def session(self, *, write: bool = True, journal: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        A write is journaled (storage/journal.py) unless `journal` is false: `pipectl undo` itself.
        """
        if write and self.read_only:
            raise DatabaseError(
                f"{locations.display(self.location)} is open read-only ({self.read_only}); "
                "this command changes the pipeline, so it was refused."
            )
        bind = self.engine.execution_options(sqlite_begin="IMMEDIATE" if write else "DEFERRED")
        path = self.path
        with Session(bind, expire_on_commit=False) as session:
            noted: Path | None = None  # the file whose lock note this command wrote
            try:
                if write and self._sqlite_file() and path is not None:
                    # Take the write lock now, refuse a damaged file, and say who holds the lock.
                    health.check_before_write(driver_of(session), path, locations.display(self.location))
                    noted = path if health.claim(path, self.command) else None
                command_id = self._begin_journal(session) if write and journal else None
                yield session
                if write:
                    if command_id is not None:
                        # Listening only now puts this after the re-scoring a command's marks ask for
                        # (core/rescoring.py), so the scores it changes are journaled with the rest.
                        event.listen(session, "before_commit", lambda done: self._finish_journal(done, command_id))
                    if noted:
                        health.release(noted)
                        noted = None
                    session.commit()
                # A read-only transaction just ends when the session closes: rolling it back
                # would expire the objects a command still wants to print.
            except SQLAlchemyDatabaseError as error:
                session.rollback()
                raise self.failure(error) from None
            except BaseException:
                session.rollback()
                raise
            finally:
                if noted:
                    health.release(noted)

    def _begin_journal(self, session: Session) -> int:
        from pipectl.actor import current_actor
        from pipectl.storage import journal

        return journal.begin(session.connection(), self.command, self.argv, self.actor or current_actor())

    @staticmethod
    def _finish_journal(session: Session, command_id: int) -> None:
        from pipectl.storage import journal

        session.flush()  # pending ORM rows are written (and journaled) before the journal closes
        journal.finish(session.connection(), command_id)

    def failure(self, error: SQLAlchemyDatabaseError) -> DatabaseError:
        """A database error in words: damaged, busy (and who holds the lock), or refused."""
        display = locations.display(self.location)
        if health.is_damage(error):
            return health.damaged(display, error.orig)
        text = str(error.orig)
        if isinstance(error, OperationalError) and ("locked" in text or "busy" in text):
            who = health.holder(self.path) if self.path is not None else None
            return DatabaseError(
                f"{display} is busy: {who or 'another command'} holds the write lock. Try again when it has "
                f"finished, or wait longer with {BUSY_ENV}=SECONDS (now {busy_timeout_ms() / 1000:g})."
            )
        return DatabaseError(f"The database refused the change: {text}")

    def _sqlite_file(self) -> bool:
        return self.path is not None and self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()


def make_engine(location: str, *, read_only: bool = False, create: bool = True) -> Engine:
    """An engine for a path or a URL; a new SQLite file is created with mode 0600.

    `read_only`: a file the user may not write is opened through SQLite's read-only URI (immutable
    when no writer has left a WAL), so reading it leaves no -wal/-shm files behind; a file the user
    could write is opened as usual with `query_only`, so it is never changed either.
    """
    path = locations.sqlite_path(location)
    if path is None:
        try:
            return create_engine(location)
        except (ArgumentError, ImportError) as error:
            hint = " (install the driver: pip install 'pipectl[postgres]')" if "postgres" in location else ""
            raise DatabaseError(f"Cannot use the database URL {locations.display(location)}: {error}{hint}.") from None
    if create and not read_only:
        _create_private_file(path)
    options = {}
    if read_only and path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        import sqlite3

        wal = Path(f"{path}-wal")
        immutable = not wal.exists() or wal.stat().st_size == 0
        uri = f"{path.resolve().as_uri()}?{'immutable=1' if immutable else 'mode=ro'}"
        options["creator"] = lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
    engine = create_engine(f"sqlite:///{path}", **options)
    _listen(engine, query_only=read_only)
    return engine


def memory_engine() -> Engine:
    """A private in-memory SQLite database (a dry run's scratch pipeline)."""
    from sqlalchemy.pool import StaticPool

    engine = create_engine("sqlite://", poolclass=StaticPool)
    _listen(engine, query_only=False)
    return engine


def busy_timeout_ms() -> int:
    """How long a writer waits for the lock: PIPECTL_BUSY_TIMEOUT seconds, else 30 s."""
    text = os.environ.get(BUSY_ENV, "").strip()
    if not text:
        return BUSY_TIMEOUT_MS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise UsageError(f"{BUSY_ENV} is a number of seconds between 0 and 86400, not {text!r}.")
    return int(seconds * 1000)


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


def _listen(engine: Engine, *, query_only: bool) -> None:
    timeout = busy_timeout_ms()

    def configure(dbapi_connection, _record) -> None:
        # Let the "begin" hook below emit BEGIN itself, instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {timeout:d}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL is switched on by schema.open_database, once the file is known to be ours: setting it
        # here would rewrite the header of a file pipectl is about to refuse.
        cursor.execute("PRAGMA synchronous = NORMAL")
        if query_only:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    event.listen(engine, "connect", configure)
    event.listen(engine, "begin", _begin_sqlite)


def _begin_sqlite(connection) -> None:
    # Deferred unless the caller asks for the write lock: a read never queues behind a writer.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def driver_of(session: Session) -> sqlite3.Connection:
    """The sqlite3 connection under a session on a SQLite file."""
    driver = session.connection().connection.driver_connection
    assert driver is not None, "an open connection"
    return driver
