"""`pipectl demo`: the demo pipeline, built in a database of its own, never in the user's."""

from pathlib import Path
from typing import Annotated

import typer

DEMO_FILENAME = "demo.db"


def demo(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH",
            show_default=False,
            help=(
                "Where to build it (default: demo.db in the user data folder; never PIPECTL_DB, which is "
                "your own pipeline)."
            ),
        ),
    ] = None,
) -> None:
    """Build the demo pipeline (40 sample leads) in its own database and say how to open it.

    Running it again rebuilds the demo from scratch; a file that holds anything but the demo is
    never replaced. The demo's path is printed on stdout.

    Example: PIPECTL_DB=$(pipectl demo) pipectl board
    """
    import shlex

    from pipectl.cli.runtime import root_db
    from pipectl.render import message
    from pipectl.storage import location as locations

    chosen = db or _typed_root_db(ctx, root_db["location"])
    target = Path(chosen).expanduser().absolute() if chosen else locations.user_dir() / DEMO_FILENAME
    if chosen and locations.is_url(chosen):
        from pipectl.errors import UsageError

        raise UsageError("--db for the demo is a file path: the demo is a SQLite file of its own.")
    result = _build(target, default=not chosen)
    counts = result.counts
    message(
        f"Built the demo pipeline at {target}: {counts.added} leads, {counts.activities} activities "
        "(dated around 2026-11-23). Your own pipeline is untouched."
    )
    shown = shlex.quote(str(target))
    message(f"Open it with: pipectl --db {shown} board   (or: export PIPECTL_DB={shown})")
    print(target)


def _typed_root_db(ctx: typer.Context, location: str | None) -> str | None:
    """`pipectl --db PATH demo` builds there; PIPECTL_DB, which names the user's own pipeline, never counts."""
    if location is None:
        return None
    source = ctx.find_root().get_parameter_source("db")
    return location if source is not None and source.name == "COMMANDLINE" else None


def _build(target: Path, *, default: bool):
    """Build the demo in a file beside `target`, then move it in: a failed build leaves what was there."""
    import os

    from pipectl.core.demo import load_demo
    from pipectl.errors import NotFound
    from pipectl.storage.schema import open_database

    if not target.parent.is_dir():
        if not default:
            raise NotFound(
                f"There is no folder {target.parent} for the demo; check the path, or create the folder first."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        _check_replaceable(target)
    partial = target.with_name(f".{target.name}.building")
    _remove(partial)
    try:
        database = open_database(str(partial))
        try:
            # Not journaled: `pipectl demo` rebuilds the demo, and undoing its making would only empty it.
            with database.session(journal=False) as session:
                result = load_demo(session)
        finally:
            database.close()
        _remove(target)
        os.replace(partial, target)
    finally:
        _remove(partial)
    return result


def _check_replaceable(target: Path) -> None:
    """Only a database that holds the demo is rebuilt: pointing `demo --db` at real work is refused."""
    from pipectl.core.demo import is_demo
    from pipectl.errors import DatabaseError, RuleViolation
    from pipectl.storage.schema import open_database

    try:
        database = open_database(str(target))
    except DatabaseError:
        raise RuleViolation(
            f"{target} is not pipectl's demo pipeline; it was left untouched. Choose another path with --db."
        ) from None
    try:
        with database.session(write=False) as session:
            demo = is_demo(session)
    finally:
        database.close()
    if not demo:
        raise RuleViolation(
            f"{target} holds a pipeline that is not pipectl's demo; it was left untouched. "
            "Choose another path with --db."
        )


def _remove(path: Path) -> None:
    # The database and the files SQLite keeps beside it.
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        name.unlink(missing_ok=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
