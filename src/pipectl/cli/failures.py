"""Failures a user can cause that are not pipectl's own errors, each turned into one `Error:` line.

Hostile or unlucky input reaches Python and SQLite in ways no command checks
one by one: JSON nested ten thousand deep, a number with 5,000 digits or
beyond 64 bits, a lone surrogate, a file that cannot be read, a full disk, a
damaged database. The command's transaction has already been rolled back and
its temporary files removed when the exception gets here; this only says
what happened and what to do. Anything else is a bug, and its traceback shows.
"""

import errno

from pipectl.errors import PipectlError

DAMAGE_SUSPECTS = (UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError, AssertionError)


def explain(error: Exception) -> PipectlError | None:
    """The error a person should see for `error`, or None when it is a bug in pipectl."""
    module = type(error).__module__
    if module.startswith(("typer", "click")):
        return None  # Exit, Abort and usage errors: already the command line's own way out
    if isinstance(error, RecursionError):
        return PipectlError(
            "The input is nested too deeply to read (lists or tables inside each other "
            "hundreds of levels down); flatten it and try again."
        )
    if isinstance(error, OverflowError):
        return PipectlError(f"A number is too large to store or compute with ({error}); check the input.")
    if isinstance(error, ValueError) and "integer string conversion" in str(error):
        return PipectlError("A number has thousands of digits, too many to read; check the input.")
    if isinstance(error, UnicodeEncodeError):
        bad = error.object[error.start : error.end]
        return PipectlError(
            f"The text holds {bad!r}, which is not a character (a lone surrogate, usually "
            "from a file or an argument in a broken encoding); fix the text and try again."
        )
    if _is_database_error(error):
        return _database_failure(error)
    if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
        return _os_failure(error)
    if isinstance(error, DAMAGE_SUSPECTS):
        damage = _damage()
        if damage is not None:
            return damage
    if isinstance(error, UnicodeDecodeError):
        return PipectlError(
            f"Some text is not valid UTF-8 ({error.reason} at byte {error.start}); save the "
            "file as UTF-8 and try again."
        )
    return None


def _is_database_error(error: Exception) -> bool:
    import sqlite3

    from sqlalchemy.exc import DatabaseError

    return isinstance(error, (DatabaseError, sqlite3.Error))


def _database_failure(error: Exception) -> PipectlError:
    from pipectl.errors import DatabaseError
    from pipectl.storage import health

    if health.is_damage(error):
        return health.damaged(_opened_display(), getattr(error, "orig", None) or error)
    return DatabaseError(f"The database failed: {getattr(error, 'orig', None) or error}.")


def _os_failure(error: OSError) -> PipectlError:
    name = f" {error.filename}" if error.filename else ""
    hint = {
        errno.ENOSPC: " (the disk is full: free some space and try again)",
        errno.EACCES: " (check the file's permissions)",
        errno.EPERM: " (check the file's permissions)",
    }.get(error.errno or 0, "")
    return PipectlError(f"Cannot use{name or ' a file'}: {error.strerror or error}{hint}.")


def _damage() -> PipectlError | None:
    """The damage in the database this command opened, if a check finds any."""
    from pathlib import Path

    from pipectl.cli.runtime import root_db
    from pipectl.storage import health, location

    opened = root_db.get("opened")
    path = location.sqlite_path(opened) if opened else None
    if opened is None or path is None or not Path(path).exists():
        return None
    found = health.damage_of_file(Path(path))
    return health.damaged(location.display(opened), found[0]) if found else None


def _opened_display() -> str:
    from pipectl.cli.runtime import root_db
    from pipectl.storage import location

    opened = root_db.get("opened")
    return location.display(opened) if opened else "The database"
