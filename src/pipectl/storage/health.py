"""Is the SQLite file sound, and who holds its write lock: the checks behind `db check` and every write.

A damaged file fails only where a command happens to read a damaged page, so
a write could succeed on a file `db check` flags and bury the damage under new
rows. Every write therefore checks the file first where that is cheap (the
full check costs about 10 ms a MiB, the quick one about 2 ms); a larger
pipeline is checked by `pipectl db check`.

A command waiting for the write lock cannot ask SQLite who holds it, so the
writer leaves a small note beside the database (`FILE-writer`: the command,
its pid and since when) while it holds the lock.
"""

import json
import os
import sqlite3
import time
from contextlib import suppress
from pathlib import Path

from pipectl.errors import DatabaseError

# SQLite's result codes for a damaged file and for a file that is not a database at all.
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26
FULL_CHECK_BYTES = 4 * 1024 * 1024
QUICK_CHECK_BYTES = 32 * 1024 * 1024
NOTE_SUFFIX = "-writer"


class DatabaseDamaged(DatabaseError):
    """The database file is damaged; the way out is a backup."""

    detail: str = ""  # SQLite's own words, for `db check`


def is_damage(error: BaseException) -> bool:
    """Whether a DB-API (or SQLAlchemy-wrapped) error says the file is damaged or not a database."""
    original = getattr(error, "orig", None) or error
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)
    text = str(original).lower()
    return "malformed" in text or "not a database" in text


def damaged(display: str, detail: object) -> DatabaseDamaged:
    # SQLite's report can run over many lines ("*** in database main ***", then one line a page).
    lines = [line.strip() for line in str(detail).replace("*** in database main ***", "").splitlines()]
    detail = "; ".join(line for line in lines if line)[:200] or "database disk image is malformed"
    error = DatabaseDamaged(
        f"{display} is damaged ({detail}); pipectl will not work on it. Restore it from a backup (a copy "
        "made by `pipectl db backup FILE`): check the copy with `pipectl --db COPY db check`, then put it "
        "in place of the damaged file."
    )
    error.detail = str(detail)
    return error


def problems(connection: sqlite3.Connection, *, full: bool = True) -> list[str]:
    """What SQLite's integrity check (and, when `full`, the foreign key check) finds; empty when sound."""
    previous = connection.text_factory
    # A damaged page can hold any bytes: report them, never fail on decoding them.
    connection.text_factory = lambda data: data.decode("utf-8", "replace")
    try:
        rows = [row[0] for row in connection.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check")]
        # One problem a line, without SQLite's "*** in database main ***" heading.
        found = (
            []
            if rows == ["ok"]
            else [
                line.strip()
                for row in rows
                for line in str(row).splitlines()
                if line.strip() and line.strip() != "*** in database main ***"
            ]
        )
        if full:
            found += [
                f"{table} row {rowid} points at a missing {parent} row"
                for table, rowid, parent, _ in connection.execute("PRAGMA foreign_key_check")
            ]
    except (sqlite3.Error, UnicodeDecodeError) as error:
        # SQLite's own message may quote damaged bytes, which then fail to decode.
        found = [str(error) if isinstance(error, sqlite3.Error) else "database disk image is malformed"]
    finally:
        connection.text_factory = previous
    return found


def check_before_write(connection: sqlite3.Connection, path: Path, display: str) -> None:
    """Refuse to write to (or copy) a damaged file, checking it whole where that is cheap."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size > QUICK_CHECK_BYTES:
        return
    found = problems(connection, full=size <= FULL_CHECK_BYTES)
    if found:
        raise damaged(display, found[0])


def damage_of_file(path: Path) -> list[str]:
    """The check of a file on its own read-only connection, after an unexplained failure (so its cost,
    up to a second or so for a large pipeline, is paid only when something already went wrong)."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return [str(error)]
    try:
        return problems(connection, full=path.stat().st_size <= QUICK_CHECK_BYTES)
    finally:
        connection.close()


def note_path(path: Path) -> Path:
    return Path(f"{path}{NOTE_SUFFIX}")


def claim(path: Path, command: str) -> bool:
    """Leave the note that `command` holds the write lock; best effort (a read-only folder just has none)."""
    note = note_path(path)
    temporary = Path(f"{note}.{os.getpid()}")
    try:
        # Written under a private name and renamed: a file planted under the note's name is replaced,
        # never written through.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with open(descriptor, "w", encoding="utf-8") as out:
            json.dump({"command": command, "pid": os.getpid(), "since": time.time()}, out)
        os.replace(temporary, note)
        return True
    except OSError:
        temporary.unlink(missing_ok=True)
        return False


def release(path: Path) -> None:
    with suppress(OSError):
        note_path(path).unlink(missing_ok=True)


def holder(path: Path) -> str | None:
    """Who holds the write lock, from its note: "`pipectl import` (pid 42, for 1 min 5 s)", or None."""
    try:
        with open(note_path(path), encoding="utf-8") as note:
            facts = json.loads(note.read(4096))
        pid, since = int(facts["pid"]), float(facts["since"])
        command = "".join(char for char in str(facts["command"]) if char.isalnum() or char in " -_")[:60]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None  # left by a command that was killed: it holds nothing now
    return f"`pipectl {command}` (pid {pid}, writing for {_duration(time.time() - since)})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return False
    return True


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
