"""The databases tests run on: SQLite files, and PostgreSQL databases when a server is given.

PIPECTL_TEST_POSTGRES_URL names a PostgreSQL server and a database on it to connect to for
administration, e.g. `postgresql+psycopg://postgres@127.0.0.1:5441/postgres` (`.ci/run` starts one and
sets it). Then every test that opens a database runs twice, `[sqlite]` and `[postgresql]`; each
PostgreSQL test gets a database of its own (CREATE DATABASE … TEMPLATE, dropped after the test).

Three things keep the suite fast without changing what a test sees:
- the CLI is built once (Typer would rebuild the whole command tree on every `runner.invoke`);
- SQL compiled for one engine is reused by the next on the same backend (SharedCompiledSQL);
- a new pipeline's schema is made by replaying, in the same transaction, the statements Alembic ran
  the first time it built one on that backend in this process, instead of loading and running every
  migration again (~0.1 s each time). Creation still goes through `open_database`, so the file, its
  mode, `created`, the template's stages and every message are as they are for a user. Upgrades of an
  existing schema, and tests marked `real_migrations`, always run Alembic itself.
"""

import itertools
import os

import typer.testing
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import make_url

SERVER_ENV = "PIPECTL_TEST_POSTGRES_URL"
SERVER = os.environ.get(SERVER_ENV, "").strip() or None
BACKENDS = ["sqlite", "postgresql"] if SERVER else ["sqlite"]


# ---- the CLI, built once ------------------------------------------------------------------------

_build_command = typer.testing._get_command
_built: dict[int, object] = {}


def _built_once(app):
    # Apps are module globals that live as long as the run, so their id is a stable key.
    if id(app) not in _built:
        _built[id(app)] = _build_command(app)
    return _built[id(app)]


typer.testing._get_command = _built_once


# ---- compiled SQL, shared between engines -------------------------------------------------------


class SharedCompiledSQL:
    """One cache of compiled statements for every engine the tests open, in place of one per engine.

    A user's command opens one engine and compiles each statement once. A test process opens thousands
    (every `runner.invoke` opens the database afresh), and SQLAlchemy keys its cache by the dialect
    object, new with each engine: about a third of a command's time in a test went to compiling SQL it
    had compiled before. Here the dialect in the key is replaced by what the compiled SQL depends on
    (its class and settings, the server's version), so engines on the same backend share their work.
    """

    def __init__(self, size: int = 20_000):
        from sqlalchemy.util import LRUCache

        self.cache: LRUCache = LRUCache(size)

    @staticmethod
    def _key(key):
        dialect = key[0]
        same = (
            type(dialect),
            dialect.server_version_info,
            dialect.paramstyle,
            getattr(dialect, "_json_serializer", None),
            getattr(dialect, "_json_deserializer", None),
        )
        return (same, *key[1:])

    def get(self, key, default=None):
        return self.cache.get(self._key(key), default)

    def __setitem__(self, key, value) -> None:
        self.cache[self._key(key)] = value

    def __getitem__(self, key):
        return self.cache[self._key(key)]

    def __contains__(self, key) -> bool:
        return self._key(key) in self.cache

    def __len__(self) -> int:
        return len(self.cache)

    def clear(self) -> None:
        self.cache.clear()


def _share_compiled_sql() -> None:
    from sqlalchemy.engine import Engine

    shared = SharedCompiledSQL()
    init = Engine.__init__

    def __init__(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        if self._compiled_cache is not None:
            self._compiled_cache = shared

    Engine.__init__ = __init__  # type: ignore[method-assign]


_share_compiled_sql()


# ---- a new schema, replayed ---------------------------------------------------------------------


class Replay:
    """Stands in for `schema._migrate`: records Alembic's first build of a new schema, replays it after."""

    def __init__(self):
        from pipectl.storage import schema

        self.schema = schema
        self.real = schema._migrate
        self.recorded: dict[str, list[tuple]] = {}
        self.enabled = True

    def install(self) -> None:
        self.schema._migrate = self.migrate

    def migrate(self, connection, revision: str) -> None:
        if not self.enabled or revision != "head" or inspect(connection).get_table_names():
            return self.real(connection, revision)
        dialect = connection.dialect.name
        script = self.recorded.get(dialect)
        if script is None:
            self.recorded[dialect] = self.record(connection, revision)
            return
        # Straight to the driver, in the same transaction: the statements are the driver's own, as recorded,
        # and SQLAlchemy's per-statement work was about half the cost of replaying a hundred of them.
        cursor = connection.connection.cursor()
        try:
            for statement, parameters, many in script:
                if many:
                    cursor.executemany(statement, list(parameters))
                elif parameters:
                    cursor.execute(statement, parameters)
                else:
                    cursor.execute(statement)
        finally:
            cursor.close()

    def record(self, connection, revision: str) -> list[tuple]:
        statements: list[tuple] = []

        def note(_connection, _cursor, statement, parameters, _context, executemany) -> None:
            statements.append((statement, parameters, executemany))

        event.listen(connection, "before_cursor_execute", note)
        try:
            self.real(connection, revision)
        finally:
            event.remove(connection, "before_cursor_execute", note)
        return statements


REPLAY = Replay()
REPLAY.install()


# ---- PostgreSQL databases -----------------------------------------------------------------------


class Server:
    """Creates and drops the tests' databases on the server PIPECTL_TEST_POSTGRES_URL names."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.engine = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=1)
        # Unique across xdist workers and across runs that share the server.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"pipectl_test_{worker}_{os.getpid()}_"
        self.count = itertools.count(1)

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """A new, empty database (or a copy of `template`); returns its name."""
        name = f"{self.prefix}{next(self.count)}"
        with self.engine.connect() as connection:
            copy = f" TEMPLATE {template}" if template else " TEMPLATE template0"
            connection.exec_driver_sql(f"CREATE DATABASE {name}{copy}")
        return name

    def copy_into(self, name: str, template: str) -> None:
        """Replace the database `name` with a copy of `template`."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {template}")

    def drop(self, name: str) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def drop_leftovers(self) -> None:
        """This process's databases a failed test left (a template, a crash between create and drop)."""
        with self.engine.connect() as connection:
            names = connection.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE datname LIKE %(prefix)s", {"prefix": self.prefix + "%"}
            ).scalars()
            for name in list(names):
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.engine.dispose()


SERVER_DATABASES = Server(SERVER) if SERVER else None


def rows_of_every_table(location: str) -> list:
    """Every row of every table of a database on either backend, in a stable order."""
    from sqlalchemy import MetaData, select

    engine = create_engine(location if "://" in location else f"sqlite:///{location}")
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            taken = []
            for table in sorted(metadata.tables.values(), key=lambda table: table.name):
                order = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(select(table).order_by(*order)).all()
                taken.append((table.name, [tuple(row) for row in rows]))
            return taken
    finally:
        engine.dispose()


def query(location: str, sql: str, parameters: dict | None = None) -> list[tuple]:
    """Rows of one SQL query (`:name` parameters) on a test database, SQLite file or PostgreSQL URL."""
    from sqlalchemy import text

    engine = create_engine(location if "://" in location else f"sqlite:///{location}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), parameters or {})]
    finally:
        engine.dispose()


def execute(location: str, *statements: str, parameters: dict | list | None = None) -> None:
    """Run SQL statements (`:name` parameters) on a test database in one committed transaction.

    For what no command does: damage a row, set a stored value by hand.
    """
    from sqlalchemy import text

    engine = create_engine(location if "://" in location else f"sqlite:///{location}")
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement), parameters or {})
    finally:
        engine.dispose()
