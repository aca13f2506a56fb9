"""Undo: reverse one write command from the journal, all of it in one transaction, or refuse.

The journal (storage/journal.py) holds every row a command wrote, before and after. Undoing it puts
each row back as it was before: rows the command deleted come back (parents first), rows it changed
get their old values, rows it added go (children first). It is refused, naming the lead, when a row
it would touch is not as the command left it (someone wrote to it since), or when a row it would
remove has gained a dependant since (an activity logged on an imported lead): undoing then would
lose that later work. The undo itself journals nothing (there is no redo); the command is marked
undone and its journal rows dropped.

`pipectl undo` takes the acting person's latest command that has not been undone (one person's undo
never reverses a colleague's work on a shared pipeline; alone, that is simply the latest command).
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import TableClause, bindparam, column, delete, func, select, table as plain_table, text, update
from sqlalchemy.engine import Connection

from pipectl import clock
from pipectl.errors import NotFound, RuleViolation
from pipectl.storage.journal import COMMANDS, JOURNAL, TABLES
from pipectl.storage.models import SQLModel
from pipectl.storage.types import Timestamp

# Parents before children: re-created rows go in this order, added rows leave in the reverse one.
ORDER = ("settings", "stages", "leads", "lead_tags", "lead_fields", "activities")
# Rows that point at a lead or a stage (foreign keys): removing an added parent must not take them along.
DEPENDANTS = {
    "leads": (("activities", "lead_id"), ("lead_tags", "lead_id"), ("lead_fields", "lead_id")),
    "stages": (("leads", "stage_id"), ("activities", "from_stage_id"), ("activities", "to_stage_id")),
}
WORDS = {
    "stages": ("stage", "stages"),
    "leads": ("lead", "leads"),
    "lead_tags": ("tag", "tags"),
    "lead_fields": ("custom field", "custom fields"),
    "activities": ("activity", "activities"),
    "settings": ("setting", "settings"),
}
CHUNK = 500  # keys per IN (…) list


@dataclass
class Change:
    """One row's net change by a command: `before` None means it added the row, `after` None removed it."""

    table: str
    key: tuple
    before: dict | None
    after: dict | None

    @property
    def kind(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"

    @property
    def lead_id(self) -> int | None:
        image = self.after or self.before or {}
        return image.get("id") if self.table == "leads" else image.get("lead_id")


def latest(connection: Connection, actor: str):
    """The acting person's latest command that has not been undone, or None."""
    return connection.execute(
        select(COMMANDS).where(COMMANDS.c.actor == actor, COMMANDS.c.undone_at.is_(None)).order_by(COMMANDS.c.id.desc())
    ).first()


def undo(connection: Connection, actor: str, *, dry_run: bool = False) -> dict:
    """Reverse `actor`'s latest command (or with `dry_run` only say what that would do); the report."""
    if connection.dialect.name == "postgresql" and not dry_run:
        # Every write command inserts into `commands` first: this waits for those running, and holds
        # new ones back until the undo commits, so nothing changes between the check and the undo.
        connection.execute(text("LOCK TABLE commands IN SHARE ROW EXCLUSIVE MODE"))
    command = latest(connection, actor)
    if command is None:
        raise NotFound(
            f"Nothing to undo: the journal holds no command of {actor}'s that is not undone "
            "(it keeps the latest commands for a while; see `pipectl history`)."
        )
    changes = changes_of(connection, command.id)
    refusal = _conflict(connection, command, changes)
    if refusal:
        raise RuleViolation(f"Cannot undo #{command.id} `{shown_command(command)}`: {refusal}")
    report = describe(command, changes, _names(connection, changes))
    if not dry_run:
        _apply(connection, changes)
        at = Timestamp().process_bind_param(clock.now(), connection.dialect)
        connection.execute(update(COMMANDS).where(COMMANDS.c.id == command.id).values(undone_at=at, undone_by=actor))
        connection.execute(delete(JOURNAL).where(JOURNAL.c.command_id == command.id))
    return report


def changes_of(connection: Connection, command_id: int) -> list[Change]:
    """The command's net change per row (first image before, last image after), in first-write order."""
    net: dict[tuple, Change] = {}
    rows = connection.execute(
        select(JOURNAL.c.tbl, JOURNAL.c.old, JOURNAL.c.new)
        .where(JOURNAL.c.command_id == command_id)
        .order_by(JOURNAL.c.id)
    )
    for table, old, new in rows:
        old, new = _image(old), _image(new)
        image = new or old
        assert image is not None, "a journal row holds an image"
        key = tuple(image[name] for name in TABLES[table])
        change = net.get((table, key))
        if change is None:
            net[(table, key)] = Change(table, key, old, new)
        else:
            change.after = new
    # A row added and removed by the same command is as it was: nothing to undo there.
    return [change for change in net.values() if change.before is not None or change.after is not None]


def _image(value) -> dict | None:
    # SQLite hands the JSON text back when the column type does not parse it; PostgreSQL a dict.
    return json.loads(value) if isinstance(value, str) else value


def _conflict(connection: Connection, command, changes: list[Change]) -> str | None:
    """Why undoing would lose later work, naming the lead (None: it would not)."""
    by_table: dict[str, list[Change]] = {}
    for change in changes:
        by_table.setdefault(change.table, []).append(change)
    for table in ORDER:
        wanted = by_table.get(table, [])
        current = _current(connection, table, [change.key for change in wanted])
        for change in wanted:
            now = current.get(change.key)
            if change.after is None and now is None:
                continue
            if change.after is not None and now is not None and _same(now, change.after):
                continue
            later = _later_writer(connection, command.id, table, change.key)
            return f"{_label(connection, change)} changed since{later}. Undo that first, or leave it."
    removed = {(change.table, change.key) for change in changes if change.kind == "added"}
    for parent, children in DEPENDANTS.items():
        ids = [change.key[0] for change in by_table.get(parent, []) if change.kind == "added"]
        for child, foreign_key in children:
            for key, row in _rows_pointing_at(connection, child, foreign_key, ids):
                if (child, key) not in removed:
                    change = next(c for c in by_table[parent] if c.key == (row[foreign_key],))
                    singular = WORDS[child][0]
                    return (
                        f"{_label(connection, change)} gained {'an' if singular[0] in 'aeiou' else 'a'} {singular} "
                        f"since{_later_writer(connection, command.id, child, key)}. Undo that first, or leave it."
                    )
    return None


def _same(row: dict, image: dict) -> bool:
    return all(name in row and row[name] == value for name, value in image.items())


def _columns(table: str) -> list[str]:
    return [item.name for item in SQLModel.metadata.tables[table].columns]


def _raw(table: str) -> TableClause:
    # Untyped columns: values go in and out as the database holds them, as the journal's images do.
    return plain_table(table, *(column(name) for name in _columns(table)))


def _current(connection: Connection, table: str, keys: list[tuple]) -> dict[tuple, dict]:
    """The rows now at these keys, as dicts of stored values."""
    found: dict[tuple, dict] = {}
    names = TABLES[table]
    raw = _raw(table)
    firsts = sorted({key[0] for key in keys}, key=str)
    wanted = set(keys)
    for start in range(0, len(firsts), CHUNK):
        chosen = firsts[start : start + CHUNK]
        for row in connection.execute(select(raw).where(raw.c[names[0]].in_(chosen))).mappings():
            key = tuple(row[name] for name in names)
            if key in wanted:
                found[key] = dict(row)
    return found


def _rows_pointing_at(connection: Connection, table: str, foreign_key: str, ids: list) -> Iterable[tuple]:
    raw = _raw(table)
    names = TABLES[table]
    for start in range(0, len(ids), CHUNK):
        statement = select(raw).where(raw.c[foreign_key].in_(ids[start : start + CHUNK]))
        for row in connection.execute(statement).mappings():
            yield tuple(row[name] for name in names), row


def _later_writer(connection: Connection, command_id: int, table: str, key: tuple) -> str:
    """` (by #14 `edit 5`, bob, 2026-11-29 10:02)`: the latest later command that wrote the row, if journaled."""
    rows = connection.execute(
        select(JOURNAL.c.command_id, JOURNAL.c.old, JOURNAL.c.new)
        .where(JOURNAL.c.tbl == table, JOURNAL.c.command_id > command_id)
        .order_by(JOURNAL.c.id.desc())
    )
    for writer, old, new in rows:
        image = _image(new) or _image(old) or {}
        if tuple(image.get(name) for name in TABLES[table]) == key:
            found = connection.execute(select(COMMANDS).where(COMMANDS.c.id == writer)).first()
            if found is not None:
                return f" (by #{found.id} `{shown_command(found)}`, {found.actor}, {_when(found.at)})"
    return " (outside any command the journal knows)"


def _label(connection: Connection, change: Change) -> str:
    image = change.after or change.before or {}
    if change.table == "stages":
        return f"stage {image.get('name')!r}"
    if change.table == "settings":
        return f"the setting {image.get('key')!r}"
    lead_id = change.lead_id
    name = _names(connection, [change]).get(lead_id) if lead_id is not None else None
    return f"lead #{lead_id}" + (f" {name}" if name else "")


def _names(connection: Connection, changes: list[Change]) -> dict[int, str]:
    """Names of the leads the changes touch: from the rows now, else from the images."""
    names: dict[int, str] = {}
    for change in changes:
        if change.table == "leads":
            image = change.after or change.before or {}
            names[change.key[0]] = str(image.get("name"))
    missing = sorted({change.lead_id for change in changes if change.lead_id is not None} - set(names))
    raw = _raw("leads")
    for start in range(0, len(missing), CHUNK):
        statement = select(raw.c.id, raw.c.name).where(raw.c.id.in_(missing[start : start + CHUNK]))
        names.update({lead_id: name for lead_id, name in connection.execute(statement)})
    return names


def _apply(connection: Connection, changes: list[Change]) -> None:
    """Put every row back as it was before the command: re-create, restore, remove, in a safe order."""
    postgres = connection.dialect.name == "postgresql"
    if not postgres:
        # The order below keeps every reference valid at the end; SQLite checks them at the commit.
        connection.execute(text("PRAGMA defer_foreign_keys = ON"))
    by_kind: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        by_kind.setdefault((change.kind, change.table), []).append(change)
    for table in ORDER:
        target = SQLModel.metadata.tables[table] if postgres else _raw(table)
        if rows := by_kind.get(("removed", table)):
            connection.execute(target.insert(), [_values(change.before) for change in rows])
        if rows := by_kind.get(("changed", table)):
            keys = TABLES[table]
            statement = (
                update(target)
                .where(*(target.c[name] == bindparam(f"key_{name}") for name in keys))
                .values({name: bindparam(f"new_{name}") for name in _columns(table)})
            )
            params = []
            for change in rows:
                values = _values(change.before)
                params.append(
                    {**{f"key_{name}": value for name, value in zip(keys, change.key, strict=True)}}
                    | {f"new_{name}": values.get(name) for name in _columns(table)}
                )
            connection.execute(statement, params)
    for table in reversed(ORDER):
        if rows := by_kind.get(("added", table)):
            target = _raw(table)
            keys = TABLES[table]
            removal = delete(target).where(*(target.c[name] == bindparam(f"key_{name}") for name in keys))
            connection.execute(
                removal, [{f"key_{name}": value for name, value in zip(keys, c.key, strict=True)} for c in rows]
            )


def _values(image: dict | None) -> dict:
    assert image is not None, "a row image"
    return dict(image)


def describe(command, changes: list[Change], names: dict[int, str]) -> dict:
    """What undoing the command reverses: the command, who ran it and when, and its changes counted."""
    counted: dict[str, dict[str, int]] = {}
    for change in changes:
        kinds = counted.setdefault(change.table, {"added": 0, "changed": 0, "removed": 0})
        kinds[change.kind] += 1
    leads = sorted({change.lead_id for change in changes if change.lead_id is not None})
    return {
        "id": command.id,
        "command": shown_command(command),
        "actor": command.actor,
        "at": _when(command.at),
        "changes": {table: counted[table] for table in ORDER if table in counted},
        "leads": [{"id": lead_id, "name": names.get(lead_id)} for lead_id in leads],
    }


def summary(changes: dict[str, dict[str, int]]) -> str:
    """`added 2 leads and 2 activities, changed 1 stage`: a report's changes in words."""
    parts = []
    for kind in ("added", "changed", "removed"):
        counted = [
            f"{count:,} {WORDS[table][count != 1]}" for table, kinds in changes.items() if (count := kinds[kind])
        ]
        if counted:
            parts.append(f"{kind} {_and(counted)}")
    return ", ".join(parts) or "changed nothing"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def shown_command(command) -> str:
    """What was typed, as one line: `pipectl import leads.csv` (the --db option left out)."""
    words, skip = [], False
    for word in command.argv or [command.name]:
        if skip:
            skip = False
            continue
        if word == "--db":
            skip = True
            continue
        if word.startswith("--db="):
            continue
        words.append(word if word and not any(char.isspace() for char in word) else json.dumps(word))
    return " ".join(["pipectl", *words])


def _when(at) -> str:
    value = at if isinstance(at, datetime) else datetime.fromtimestamp(at)
    return value.strftime("%Y-%m-%d %H:%M")


def history(connection: Connection, *, limit: int | None) -> list[dict]:
    """Recent undoable commands, newest first: who ran them, when, and how many rows and leads they changed."""
    statement = select(COMMANDS).where(COMMANDS.c.undone_at.is_(None)).order_by(COMMANDS.c.id.desc())
    commands = connection.execute(statement.limit(limit) if limit else statement).all()
    ids = [command.id for command in commands]
    counts = _counts(connection, ids)
    return [
        {
            "id": command.id,
            "at": _when(command.at),
            "actor": command.actor,
            "command": shown_command(command),
            "leads": counts.get(command.id, (0, 0))[0],
            "rows": counts.get(command.id, (0, 0))[1],
        }
        for command in commands
    ]


def _counts(connection: Connection, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per command: the distinct leads its rows belong to, and the rows it wrote."""
    if not ids:
        return {}
    image = func.coalesce(JOURNAL.c.new, JOURNAL.c.old)
    lead: Any
    if connection.dialect.name == "postgresql":
        lead = image.op("->>")(text("CASE WHEN journal.tbl = 'leads' THEN 'id' ELSE 'lead_id' END"))
    else:
        lead = func.json_extract(image, text("CASE WHEN journal.tbl = 'leads' THEN '$.id' ELSE '$.lead_id' END"))
    statement = (
        select(JOURNAL.c.command_id, func.count(func.distinct(lead)), func.count())
        .where(JOURNAL.c.command_id.in_(ids))
        .group_by(JOURNAL.c.command_id)
    )
    return {command_id: (leads, rows) for command_id, leads, rows in connection.execute(statement)}


def set_retention(session, keep: int | None, days: int | None) -> tuple[int, int]:
    """Change how long the journal keeps commands (the `journal` setting); returns (commands, days) now kept."""
    from pipectl.core.settings import put_setting
    from pipectl.storage.journal import SETTING, retention

    current_keep, current_days = retention(session.connection())
    kept, kept_days = keep or current_keep, days or current_days
    put_setting(session, SETTING, {"keep_commands": kept, "keep_days": kept_days})
    return kept, kept_days
