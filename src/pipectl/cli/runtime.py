"""What every command needs at run time: the open pipeline and the chosen database."""

from collections.abc import Iterator
from contextlib import contextmanager

# Set by the root callback from `pipectl --db …` or PIPECTL_DB; a command's own --db wins.
root_db: dict[str, str | None] = {"location": None}


def stdin_is_terminal() -> bool:
    """Whether someone is there to answer a question; tests replace it in each command module."""
    import sys

    return sys.stdin.isatty()


def chosen_location(db: str | None) -> str | None:
    return db or root_db["location"]


@contextmanager
def pipeline(db: str | None = None, *, write: bool = True) -> Iterator:
    """Open the pipeline database and run one transaction on it: all of a command, or nothing."""
    from pipectl.storage.schema import open_database

    database = open_database(chosen_location(db))
    try:
        with database.session(write=write) as session:
            yield session
    finally:
        database.close()


@contextmanager
def database(db: str | None = None) -> Iterator:
    """The open database itself, for commands that work on the file (backup, check)."""
    from pipectl.storage.schema import open_database

    opened = open_database(chosen_location(db))
    try:
        yield opened
    finally:
        opened.close()
