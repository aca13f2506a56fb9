"""What every command needs at run time: the open pipeline and the chosen database."""

from collections.abc import Iterator
from contextlib import contextmanager

# Set by the root callback from `pipectl --db …` or PIPECTL_DB; a command's own --db wins.
# "command" names the running command (for the note a writer leaves while it holds the lock);
# "opened" is the database this command opened, for the error handler to check when something fails.
root_db: dict[str, str | None] = {"location": None, "command": None, "opened": None}
# The words typed after `pipectl`, as the journal records them (a database URL without its password).
typed_args: list[str] = []


def start_command(name: str | None) -> None:
    root_db["command"], root_db["opened"] = name, None


def note_args(args: list[str]) -> None:
    """Keep what was typed for the journal; a `--db` URL is kept without its password."""
    from pipectl.storage.location import display, sqlite_path

    shown: list[str] = []
    for word in args:
        flag, equals, value = word.partition("=")
        if shown and shown[-1] == "--db" and sqlite_path(word) is None:
            word = display(word)
        elif flag == "--db" and equals and sqlite_path(value) is None:
            word = f"--db={display(value)}"
        shown.append(word)
    typed_args[:] = shown


def stdin_is_terminal() -> bool:
    """Whether someone is there to answer a question; tests replace it in each command module."""
    import sys

    return sys.stdin.isatty()


def chosen_location(db: str | None) -> str | None:
    from pipectl.storage.location import resolve

    chosen = db if db is not None else root_db["location"]
    if chosen is not None:
        resolve(chosen)  # an empty or NUL-holding --db is a usage error, never the default database
    return chosen


def database_files(db: str | None = None) -> list:
    """The chosen SQLite database and the files SQLite keeps beside it: what no output may overwrite."""
    from pipectl.files import database_files as files_of
    from pipectl.storage.location import resolve, sqlite_path

    return files_of(sqlite_path(resolve(chosen_location(db))))


def admitted_location(db: str | None, *, write: bool, dry_run: bool = False) -> str:
    """The database to open, refused when a path someone typed does not lead to one.

    Only the default file (and its folder) is created silently. A path given with --db or
    PIPECTL_DB may hold a typo: a read never creates it (it would show an empty pipeline as if
    the leads were gone), a write creates the file (the caller says so on stderr) but never
    missing folders. A dry run creates nothing anywhere (schema.open_database works on an empty
    pipeline in memory and says so), so it is let through.
    """
    from pipectl.errors import NotFound
    from pipectl.storage import location as locations

    typed = chosen_location(db)
    resolved = locations.resolve(typed)
    path = locations.sqlite_path(resolved)
    locations.read_only(resolved)  # a URL option pipectl does not know is a usage error before anything else
    if typed is None or path is None or path.exists() or dry_run:
        return resolved
    shown = path.absolute()
    if not shown.parent.is_dir():
        raise NotFound(
            f"There is no folder {shown.parent} for the database {shown.name}; check the path "
            "(--db or PIPECTL_DB), or create the folder first."
        )
    if not write:
        raise NotFound(
            f"There is no pipeline at {shown}; check the path (--db or PIPECTL_DB), "
            f"or create one there with `pipectl init --db {shown}`."
        )
    return resolved


def open_chosen(db: str | None = None, *, write: bool = True, dry_run: bool = False, **options):
    """Open the chosen database (see admitted_location, and storage.schema.open_database for the options).

    A write that created a database at a path given with --db or PIPECTL_DB says so on stderr.
    """
    from pipectl.storage.schema import open_database

    location = admitted_location(db, write=write, dry_run=dry_run)
    root_db["opened"] = location  # before opening: opening is where a damaged file often fails
    database = open_database(location, dry_run=dry_run, **options)
    database.command = root_db["command"] or "command"
    database.argv = list(typed_args)
    if database.scratch:
        from pipectl.render import warning

        warning("There is no pipeline here yet; the dry run used an empty one and created nothing.")
    elif database.created and chosen_location(db) is not None:
        from pipectl.render import message
        from pipectl.storage import location as locations

        message(f"Created a new pipeline at {locations.display(database.location)}.")
    return database


@contextmanager
def pipeline(db: str | None = None, *, write: bool = True, dry_run: bool = False) -> Iterator:
    """Open the pipeline database and run one transaction on it: all of a command, or nothing.

    A dry run opens the file without creating, converting or upgrading it (with no pipeline yet, it
    works on an empty one in memory); its transaction is never committed.
    """
    database = open_chosen(db, write=write, dry_run=dry_run)
    try:
        with database.session(write=write and not dry_run) as session:
            yield session
    finally:
        database.close()


@contextmanager
def database(db: str | None = None, *, write: bool = False, **options) -> Iterator:
    """The open database itself, for commands that work on the file (backup, check: never created here)
    or that print after their commit (`score`, a write); `options` as for storage.schema.open_database."""
    opened = open_chosen(db, write=write, **options)
    try:
        yield opened
    finally:
        opened.close()
