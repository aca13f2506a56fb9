"""Where the database is: `--db`, else `PIPECTL_DB`, else the user data directory.

Worked out at call time (never at import), so tests can point `PIPECTL_DB` at
a temporary folder and no test ever touches the user's real pipeline.
"""

import os
from pathlib import Path

from pipectl.errors import UsageError

DB_ENV = "PIPECTL_DB"
DEFAULT_FILENAME = "pipeline.db"
# `sqlite:///p.db?mode=ro` opens the file read-only; `mode=rw`/`rwc` are the ordinary way.
SQLITE_MODES = {"ro": True, "rw": False, "rwc": False}


def user_dir() -> Path:
    """pipectl's folder in the platform's user data directory (not created here)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("pipectl", appauthor=False))


def resolve(location: str | None = None) -> str:
    """The database as given, from the environment, or the default file's path."""
    if location is not None and not location.strip():
        # An empty --db is a mistake (an unset shell variable), not a wish for the default database.
        raise UsageError(
            "--db needs a file path or a database URL; leave it out to use PIPECTL_DB or the default file."
        )
    chosen = location or os.environ.get(DB_ENV)
    if chosen and "\x00" in chosen:
        raise UsageError("The database path holds a NUL character; give a plain path.")
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


def read_only(location: str) -> bool:
    """Whether a `sqlite:///…?mode=ro` URL asks for read-only use; other URL options are refused."""
    if not (is_url(location) and location.startswith("sqlite:") and "?" in location):
        return False
    from urllib.parse import parse_qs

    options = parse_qs(location.split("?", 1)[1], keep_blank_values=True)
    unknown = sorted(set(options) - {"mode"})
    mode = options.get("mode", ["rw"])[-1]
    if unknown or mode not in SQLITE_MODES:
        raise UsageError(
            f"{display(location)}: pipectl understands only ?mode=ro (read-only) in a SQLite URL, "
            f"not {'&'.join(unknown) or 'mode=' + mode}."
        )
    return SQLITE_MODES[mode]


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
