"""Where the database is: `--db`, else `PIPECTL_DB`, else the user data directory.

Worked out at call time (never at import), so tests can point `PIPECTL_DB` at
a temporary folder and no test ever touches the user's real pipeline.
"""

import os
from pathlib import Path

DB_ENV = "PIPECTL_DB"
DEFAULT_FILENAME = "pipeline.db"


def user_dir() -> Path:
    """pipectl's folder in the platform's user data directory (not created here)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("pipectl", appauthor=False))


def resolve(location: str | None = None) -> str:
    """The database as given, from the environment, or the default file's path."""
    chosen = location or os.environ.get(DB_ENV)
    return chosen if chosen else str(user_dir() / DEFAULT_FILENAME)


def is_url(location: str) -> bool:
    """A SQLAlchemy URL (`sqlite:///…`, `postgresql+psycopg://…`) rather than a file path."""
    return "://" in location


def sqlite_path(location: str) -> Path | None:
    """The file behind a plain path or a `sqlite:///` URL; None for other databases."""
    if not is_url(location):
        return Path(location).expanduser()
    if location.startswith("sqlite:///") and location != "sqlite:///:memory:":
        return Path(location[len("sqlite:///") :].split("?", 1)[0]).expanduser()
    return None


def display(location: str) -> str:
    """What `db path` prints: the absolute file for SQLite, the URL without its password."""
    path = sqlite_path(location)
    if path is not None:
        return str(path.resolve())
    scheme, _, rest = location.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme}://{credentials}{at}{host}"
