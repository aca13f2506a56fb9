"""Shared fixtures: every test runs on its own temporary database, at a fixed time, 100 columns wide.

A test that opens the test database (through `cli`, `ok`, `database`, `db_location`…) runs on SQLite,
and on PostgreSQL too when PIPECTL_TEST_POSTGRES_URL names a server (see backends.py); a test that
cannot run there is marked `sqlite_only("why")` and is skipped on PostgreSQL with that reason.
"""

import os
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends import BACKENDS, REPLAY, SERVER_DATABASES, SERVER_ENV, rows_of_every_table
from pipectl.cli.app import app

FIXED_NOW = "2026-11-23T09:00:00"


def pytest_configure(config):
    # Test databases are written and closed thousands of times; on a disk each close of a WAL file waits
    # for fsync (~10 ms). Where the user chose no folder, tests write to memory (tmpfs) when there is room.
    chosen = config.option.basetemp or any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP"))
    memory = Path("/dev/shm")
    if not chosen and memory.is_dir() and os.access(memory, os.W_OK) and shutil.disk_usage(memory).free > 2**30:
        tempfile.tempdir = str(memory)


def pytest_generate_tests(metafunc):
    # Only with a server: without one, test ids stay as they were (no `[sqlite]`).
    if (
        "backend" in metafunc.fixturenames
        and len(BACKENDS) > 1
        and not metafunc.definition.get_closest_marker("both_backends")
    ):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


# The files whose tests take longest (eight sellers at once, the benchmark topics, the bounded fuzz run,
# mypy) run first, so that the workers share out the short tests at the end instead of one waiting for the
# other's long one.
LONG_FIRST = (
    "test_team_concurrency.py",
    "test_benchmarks_smoke.py",
    "test_reliability_hostile.py",
    "test_code_quality.py",
)


def pytest_collection_modifyitems(config, items):
    # Whole files move, so a module's fixtures are still built once; the order is the same on every worker.
    items.sort(key=lambda item: item.path.name not in LONG_FIRST)
    for item in items:
        callspec = getattr(item, "callspec", None)
        marker = item.get_closest_marker("sqlite_only")
        if callspec is not None and callspec.params.get("backend") == "postgresql" and marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {marker.args[0]}"))


def pytest_sessionfinish(session):
    # Pipelines built once per module on PostgreSQL, and any database a crashed test left behind.
    if SERVER_DATABASES is not None:
        SERVER_DATABASES.drop_leftovers()


def pytest_terminal_summary(terminalreporter):
    """The closing note: how many tests ran on each backend, and every skip counted by its reason."""
    ran: Counter = Counter()
    skipped: Counter = Counter()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", None) not in ("collect", "setup", "call"):
                continue
            lane = "PostgreSQL" if "[postgresql" in report.nodeid else "SQLite"
            if outcome == "skipped":
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                skipped[(lane, reason.removeprefix("Skipped: "))] += 1
            elif report.when == "call":
                ran[lane] += 1
    lanes = ", ".join(f"{ran[lane]} ran on {lane}" for lane in ("SQLite", "PostgreSQL") if lane in ran)
    terminalreporter.write_sep("-", f"{lanes or 'nothing ran'}; {sum(skipped.values())} skipped")
    if SERVER_DATABASES is None:
        terminalreporter.write_line(f"PostgreSQL lane off: set {SERVER_ENV} (bash .ci/run does)")
    for (lane, reason), count in sorted(skipped.items(), key=lambda item: (item[0][0], -item[1], item[0][1])):
        terminalreporter.write_line(f"{count:4d} skipped on {lane}: {reason}")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, request):
    """A temporary database, a fixed clock and a fixed terminal: never the user's pipeline.

    CliRunner's stdout is not a terminal, so by default every command draws its tables as in a
    pipe: whole, at their natural width. The `terminal` fixture draws them as a terminal would.
    """
    # Files a command writes to the current folder (an import's rejects file) land in the test's folder.
    monkeypatch.chdir(tmp_path)
    # The default location, not PIPECTL_DB: a path given with --db or PIPECTL_DB is not created by a read
    # and a write that creates it says so, while the default file is made silently on first use.
    from pipectl.storage import location

    monkeypatch.delenv("PIPECTL_DB", raising=False)
    monkeypatch.setattr(location, "user_dir", lambda: tmp_path)
    # A subprocess does not see the patch: XDG_DATA_HOME keeps its default away from the real one too.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PIPECTL_NOW", FIXED_NOW)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    # Rich's override of the terminal check; a developer's shell must not decide how tests draw.
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    # Typer keeps --db from the last invocation in a module global; start clean.
    from pipectl.cli.runtime import root_db

    root_db["location"] = None
    # A test about building a schema builds it with Alembic itself (see backends.Replay).
    REPLAY.enabled = request.node.get_closest_marker("real_migrations") is None
    yield


@pytest.fixture
def terminal(monkeypatch):
    """`terminal(80)`: commands draw tables as on a terminal 80 columns wide (TTY_COMPATIBLE=1, COLUMNS=80).

    TTY_COMPATIBLE is the variable Rich and `pipectl.terminal.stdout_is_terminal` read to override the
    isatty() check; TERM=dumb keeps the output free of colour codes.
    """

    def at(width: int) -> None:
        monkeypatch.setenv("TTY_COMPATIBLE", "1")
        monkeypatch.setenv("COLUMNS", str(width))

    return at


DB_URL = pytest.StashKey[str]()
DB_NAME = pytest.StashKey[str]()


@pytest.fixture
def backend(request, monkeypatch) -> str:
    """The test database's backend: "sqlite", or "postgresql" (a database of its own, made empty).

    On PostgreSQL the test's database stands where the default file would be: `pipectl list` with no
    --db or PIPECTL_DB opens it, as it opens the default file on SQLite.
    """
    name = getattr(request, "param", "sqlite")
    if name == "postgresql":
        assert SERVER_DATABASES is not None
        from pipectl.storage import location

        database = SERVER_DATABASES.create()
        request.addfinalizer(lambda: SERVER_DATABASES.drop(database))
        url = SERVER_DATABASES.url_of(database)
        resolve = location.resolve

        def resolve_to_the_test_database(chosen: str | None = None) -> str:
            if chosen is None and not os.environ.get(location.DB_ENV):
                return url
            return resolve(chosen)

        monkeypatch.setattr(location, "resolve", resolve_to_the_test_database)
        request.node.stash[DB_URL] = url
        request.node.stash[DB_NAME] = database
    return name


def use_copy_of(request, template: str) -> None:
    """On PostgreSQL: make the test's database a copy of the database `template` (a pipeline built once)."""
    assert SERVER_DATABASES is not None
    SERVER_DATABASES.copy_into(request.node.stash[DB_NAME], template)


@pytest.fixture
def db_location(backend, request, db_path) -> str:
    """The test database as `--db` takes it: the SQLite file's path, or the PostgreSQL database's URL."""
    return request.node.stash[DB_URL] if backend == "postgresql" else str(db_path)


@pytest.fixture
def another_database(backend, tmp_path, request):
    """`another_database("old")`: the location of one more empty database, on the test's backend."""

    def make(name: str) -> str:
        if backend == "sqlite":
            return str(tmp_path / f"{name}.db")
        assert SERVER_DATABASES is not None
        created = SERVER_DATABASES.create()
        request.addfinalizer(lambda: SERVER_DATABASES.drop(created))
        return SERVER_DATABASES.url_of(created)

    return make


@pytest.fixture
def db_path(tmp_path) -> Path:
    """The default SQLite file (on PostgreSQL, a file nothing uses unless the test names it)."""
    return tmp_path / "pipeline.db"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner, backend):
    """Run `pipectl ARGS…`; the result has .exit_code, .stdout, .stderr and .output."""

    def invoke(*args: str, input: str | None = None):
        result = runner.invoke(app, [str(arg) for arg in args], input=input)
        # A traceback is never an acceptable outcome, whatever the exit code.
        assert "Traceback" not in result.output, result.output
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


@pytest.fixture
def ok(cli):
    """Run `pipectl ARGS…` and insist it succeeds."""

    def invoke(*args: str, input: str | None = None):
        result = cli(*args, input=input)
        assert result.exit_code == 0, result.output
        return result

    return invoke


@pytest.fixture
def snapshot(backend, db_location):
    """Every row of every table, to prove a failed command changed nothing."""

    def take() -> list:
        if backend != "sqlite":
            return rows_of_every_table(db_location)
        connection = sqlite3.connect(db_location)
        try:
            return list(connection.iterdump())
        finally:
            connection.close()

    return take


@pytest.fixture
def database(db_location):
    """The opened test database (created with the default stages)."""
    from pipectl.storage.schema import open_database

    opened = open_database(db_location)
    yield opened
    opened.close()


@pytest.fixture
def session(database):
    """A write session on the test database, committed at the end of the test."""
    with database.session() as open_session:
        yield open_session


@pytest.fixture
def new_lead(ok):
    """Add a lead through the CLI (`new_lead("Ada", "--value", "5k")`) and return its id."""

    def add(name: str, *options: str) -> int:
        return int(ok("add", name, *options).stdout.strip())

    return add
