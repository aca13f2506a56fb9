"""The journal's bookkeeping: a `commands` row per write command, and keeping the journal short.

Triggers on the pipeline's tables (migration 0012) note every row a command inserts, updates or
deletes in `journal`, in write order, under the command in `command_running`: an inserted row's key,
an updated or deleted row whole as it was before. A row's state after the command is the next
journal entry's before-image, or the row as it is now; an undo needs nothing more. On SQLite the
leads and activities a command adds are noted as id ranges on its `commands` row instead (their
ids follow the highest ones when it began), with no journal row for them or their tags, custom
fields and updates: an import journals next to nothing.
That row exists only inside the command's own transaction: `begin` inserts it with the command's
`commands` row when the transaction starts, `finish` deletes it just before the commit (after any
re-scoring, so the scores a command changed are journaled too). No other connection ever sees it,
and a write outside a command (a migration, an undo) journals nothing. A command that changed
nothing leaves no `commands` row, so `pipectl history` lists only what `pipectl undo` can reverse.
"""

from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from pipectl import clock
from pipectl.storage.models import Activity, Command, CommandRunning, JournalEntry, Lead, Setting
from pipectl.storage.types import Timestamp

# The pipeline's tables and their primary keys: what the triggers journal and what undo restores.
TABLES: dict[str, tuple[str, ...]] = {
    "stages": ("id",),
    "leads": ("id",),
    "lead_tags": ("lead_id", "tag"),
    "lead_fields": ("lead_id", "key"),
    "activities": ("id",),
    "settings": ("key",),
    # The team (migration 0013): `undo` of `owners add` or of a hand-over takes the owner or the
    # assignment back. The round-robin turn (`counters`) is not journaled: an undone hand-over
    # leaves the turn where it was, which only moves whose turn is next.
    "owners": ("id",),
    "assignments": ("id",),
}
# How long the journal keeps a command: the newest KEEP_COMMANDS of them, none older than KEEP_DAYS.
SETTING = "journal"
KEEP_COMMANDS = 100
KEEP_DAYS = 30

COMMANDS = Command.__table__
JOURNAL = JournalEntry.__table__
RUNNING = CommandRunning.__table__


def begin(connection: Connection, name: str, argv: list[str], actor: str) -> int:
    """Open the command's journal: its `commands` row, and the `command_running` row the triggers read."""
    at = Timestamp().process_bind_param(clock.now(), connection.dialect)
    # SQLite: the highest lead and activity ids now; the rows past them will be this command's own.
    floors = {name: _highest(connection, table) for name, table in _RANGED.items()} if _ranged(connection) else {}
    written = connection.execute(
        insert(COMMANDS).values(
            name=name[:64],
            argv=argv,
            actor=actor,
            at=at,
            **{f"{name}_from": floor for name, floor in floors.items()},
        )
    )
    assert written.inserted_primary_key is not None, "an insert"
    command_id = int(written.inserted_primary_key[0])
    connection.execute(delete(RUNNING))  # a rolled-back command leaves none; belt and braces
    connection.execute(
        insert(RUNNING).values(command_id=command_id, **{f"{name}_floor": floor for name, floor in floors.items()})
    )
    return command_id


def finish(connection: Connection, command_id: int) -> None:
    """Close the command's journal before the commit; forget the command if it changed nothing; prune."""
    connection.execute(delete(RUNNING))
    added = False
    if _ranged(connection):
        floors = connection.execute(select(COMMANDS).where(COMMANDS.c.id == command_id)).first()
        if floors is None:
            return  # the command's own row went with a rollback inside the session: nothing to close
        ceilings = {
            name: max(_highest(connection, table), getattr(floors, f"{name}_from")) for name, table in _RANGED.items()
        }
        added = any(ceiling > getattr(floors, f"{name}_from") for name, ceiling in ceilings.items())
        if added:
            connection.execute(
                update(COMMANDS)
                .where(COMMANDS.c.id == command_id)
                .values(**{f"{name}_to": ceiling for name, ceiling in ceilings.items()})
            )
    wrote = connection.execute(select(JOURNAL.c.id).where(JOURNAL.c.command_id == command_id).limit(1)).first()
    if wrote is None and not added:
        connection.execute(delete(COMMANDS).where(COMMANDS.c.id == command_id))
        return
    prune(connection)


_RANGED = {"leads": Lead.__table__, "activities": Activity.__table__}


def _ranged(connection: Connection) -> bool:
    # PostgreSQL hands out ids to concurrent transactions in any order: it journals every row instead.
    return connection.dialect.name == "sqlite"


def _highest(connection: Connection, table) -> int:
    return connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()


def retention(connection: Connection) -> tuple[int, int]:
    """(commands, days) the journal keeps: the `journal` setting, else 100 commands and 30 days."""
    stored = connection.execute(select(Setting.__table__.c.value).where(Setting.__table__.c.key == SETTING)).scalar()
    stored = stored if isinstance(stored, dict) else {}
    keep, days = stored.get("keep_commands"), stored.get("keep_days")
    return (
        keep if isinstance(keep, int) and keep > 0 else KEEP_COMMANDS,
        days if isinstance(days, int) and days > 0 else KEEP_DAYS,
    )


def prune(connection: Connection) -> int:
    """Drop the commands past the newest N or older than D days (see `retention`), with their rows."""
    keep, days = retention(connection)
    oldest = Timestamp().process_bind_param(clock.now() - timedelta(days=days), connection.dialect)
    cutoff = connection.execute(select(COMMANDS.c.id).order_by(COMMANDS.c.id.desc()).offset(keep - 1).limit(1)).scalar()
    condition = COMMANDS.c.at < oldest
    if cutoff is not None:
        condition = condition | (COMMANDS.c.id < cutoff)
    doomed = [row[0] for row in connection.execute(select(COMMANDS.c.id).where(condition))]
    if doomed:
        connection.execute(delete(JOURNAL).where(JOURNAL.c.command_id.in_(doomed)))
        connection.execute(delete(COMMANDS).where(COMMANDS.c.id.in_(doomed)))
    return len(doomed)


def problems(connection: Connection) -> list[str]:
    """What `db check` reports about the journal: missing triggers, a stray running row, orphan rows."""
    found = []
    found.extend(_trigger_problems(connection))
    if connection.execute(select(func.count()).select_from(RUNNING)).scalar_one():
        found.append("The journal holds a `command_running` row outside a command; undo records may be wrong.")
    orphans = connection.execute(
        select(func.count())
        .select_from(JOURNAL)
        .where(~select(COMMANDS.c.id).where(COMMANDS.c.id == JOURNAL.c.command_id).exists())
    ).scalar_one()
    if orphans:
        found.append(f"The journal holds {orphans:,} row(s) of no command.")
    return found


def _trigger_problems(connection: Connection) -> list[str]:
    from sqlalchemy import inspect, text

    found = []
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgname LIKE 'journal_%'"
            )
        ).all()
        have = {(table, name) for table, name in rows}
        for table in TABLES:
            for kind in ("write", "update"):
                if (table, f"journal_{table}_{kind}") not in have:
                    found.append(f"The journal trigger journal_{table}_{kind} is missing: {table} is not journaled.")
        return found
    sql: dict[str, str] = dict(
        connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    )
    for table in TABLES:
        columns = [column["name"] for column in inspect(connection).get_columns(table)]
        # Leads and activities have no insert trigger: the rows a command adds there are id ranges.
        for kind in ("update", "delete") if table in _RANGED else ("insert", "update", "delete"):
            body = sql.get(f"journal_{table}_{kind}")
            if body is None:
                found.append(f"The journal trigger journal_{table}_{kind} is missing: {table} is not journaled.")
                continue
            # An insert journals the new row's key; an update or a delete the whole row before it.
            wanted = TABLES[table] if kind == "insert" else columns
            missed = [name for name in wanted if f"'{name}'" not in body]
            if missed:
                found.append(f"The journal trigger journal_{table}_{kind} misses column(s) {', '.join(missed)}.")
    return found
