"""Shared fixtures: every test runs on its own temporary database, at a fixed time, 100 columns wide."""

import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipectl.cli.app import app

FIXED_NOW = "2026-11-23T09:00:00"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
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


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "pipeline.db"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner):
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
def snapshot(db_path):
    """Every row of every table, to prove a failed command changed nothing."""

    def take() -> list:
        connection = sqlite3.connect(db_path)
        try:
            return list(connection.iterdump())
        finally:
            connection.close()

    return take


@pytest.fixture
def database(db_path):
    """The opened test database (created with the default stages)."""
    from pipectl.storage.schema import open_database

    opened = open_database(str(db_path))
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
