"""Shell completion of option values: stage names, activity kinds, statuses, sorts and formats.

Typer's `--install-completion` / `--show-completion` set the shell up (bash, zsh,
fish); these functions give the values. They run on every Tab, so values the
core defines next to SQLAlchemy code are written out here (`tests/test_completion.py`
checks they match the core's), and those in light modules (the contract's
statuses, `core.kinds`) are read from them. Stage names come from the
database itself, read with plain sqlite3 (read-only, never creating a file);
anything that goes wrong completes nothing rather than printing an error into
the user's command line.
"""

import typer

SORTS = ("id", "value", "score", "probability", "age", "created", "last-activity", "name", "stage")
RULES = ("idle", "too-long-in-stage", "overdue-action", "too-old", "no-response", "disqualified", "not-audience")
TEMPLATES = ("default", "saas", "agency")
WHATS = ("leads", "activities", "all")
DUPLICATE_MODES = ("error", "skip", "update")


def _starting(values, incomplete: str) -> list[str]:
    wanted = incomplete.lower()
    return [value for value in values if value.lower().startswith(wanted)]


def complete_status(incomplete: str) -> list[str]:
    from pipectl.contract import STATUSES  # the contract imports nothing heavy

    return _starting(STATUSES + ("all",), incomplete)


def complete_sort(incomplete: str) -> list[str]:
    return _starting(SORTS, incomplete)


def complete_kind(incomplete: str) -> list[str]:
    from pipectl.core.kinds import LOGGABLE  # a plain vocabulary module: no database stack

    return _starting(LOGGABLE, incomplete)


def complete_outcome(incomplete: str) -> list[str]:
    from pipectl.core.kinds import CALL_OUTCOMES  # a plain vocabulary module: no database stack

    return _starting(CALL_OUTCOMES, incomplete)


def complete_rule(incomplete: str) -> list[str]:
    return _starting(RULES, incomplete)


def complete_template(incomplete: str) -> list[str]:
    return _starting(TEMPLATES, incomplete)


def complete_transfer_format(incomplete: str) -> list[str]:
    from pipectl.core.import_sources import FORMATS  # standard library only

    return _starting(FORMATS, incomplete)


def complete_what(incomplete: str) -> list[str]:
    return _starting(WHATS, incomplete)


def complete_duplicate_mode(incomplete: str) -> list[str]:
    return _starting(DUPLICATE_MODES, incomplete)


def complete_stage(ctx: typer.Context, incomplete: str) -> list[str]:
    """The open stages of the pipeline the command line points at, in pipeline order."""
    try:
        names = stage_names(_chosen_db(ctx))
    except Exception:  # completion must never break the command line being typed
        return []
    return _starting(names, incomplete)


def _chosen_db(ctx) -> str | None:
    """`--db` as typed on the command or before it, else None (PIPECTL_DB or the default file)."""
    while ctx is not None:
        given = (ctx.params or {}).get("db")
        if given:
            return given
        ctx = ctx.parent
    return None


def stage_names(location: str | None) -> list[str]:
    """Open stage names, read without creating or migrating anything; [] when there is no database."""
    import sqlite3

    from pipectl.storage.location import resolve, sqlite_path

    chosen = resolve(location)
    path = sqlite_path(chosen)
    if path is None:
        return _stage_names_by_url(chosen)
    if not path.is_file():
        return []
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
    try:
        rows = connection.execute("SELECT name FROM stages WHERE position IS NOT NULL ORDER BY position")
        return [name for (name,) in rows]
    finally:
        connection.close()


def _stage_names_by_url(url: str) -> list[str]:
    # A server database (PostgreSQL) needs its driver: slower, but only when a stage name is completed.
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT name FROM stages WHERE position IS NOT NULL ORDER BY position"))
            return [name for (name,) in rows]
    finally:
        engine.dispose()
