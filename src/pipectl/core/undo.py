"""Undo: reverse one write command from the journal, all of it in one transaction, or refuse.

The journal (storage/journal.py) names every row a command wrote, with the row as it was before.
Undoing the command puts each row back as it was: rows the command deleted come back (parents
first), rows it changed get their old values, rows it added go (children first). It is refused,
naming the lead, when a later command wrote a row it would touch (someone else changed it since),
when a row is not where the command left it (something outside pipectl wrote it), or when a row it
would remove has gained a dependant since (an activity logged on an imported lead): undoing then
would lose later work. The undo itself journals nothing (there is no redo); the command is marked
undone and its journal rows dropped.

`pipectl undo` takes the acting person's latest command that has not been undone (one person's undo
never reverses a colleague's work on a shared pipeline; alone, that is simply the latest command).
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import TableClause, bindparam, column, delete, func, select, table as plain_table, text, update
from sqlalchemy.engine import Connection

from pipectl import clock
from pipectl.core.journal_log import WORDS, shown_command, when
from pipectl.errors import NotFound, RuleViolation
from pipectl.storage.journal import COMMANDS, JOURNAL, TABLES
from pipectl.storage.models import SQLModel
from pipectl.storage.types import Timestamp

# Parents before children: re-created rows go in this order, added rows leave in the reverse one.
ORDER = ("settings", "owners", "stages", "leads", "lead_tags", "lead_fields", "activities", "assignments")
# Rows that point at a lead or a stage (foreign keys): removing an added parent must not take them along.
DEPENDANTS = {
    "leads": (("activities", "lead_id"), ("lead_tags", "lead_id"), ("lead_fields", "lead_id")),
    "stages": (("leads", "stage_id"), ("activities", "from_stage_id"), ("activities", "to_stage_id")),
}
CHUNK = 500  # keys per IN (…) list


@dataclass
class Change:
    """One row's net change by a command: `before` None means it added the row; `kept` False, it removed it."""

    table: str
    key: tuple
    before: dict | None
    kept: bool
    now: dict | None = None  # the row as it is now (filled by the conflict check)

    @property
    def kind(self) -> str:
        return "added" if self.before is None else "changed" if self.kept else "removed"

    @property
    def lead_id(self) -> int | None:
        if self.table == "leads" or self.table in ("lead_tags", "lead_fields"):
            return self.key[0]
        image = self.before or self.now or {}
        return image.get("lead_id")


@dataclass
class Added:
    """SQLite: the leads and activities the command added, as id ranges (from, to] (storage/journal.py)."""

    leads: tuple[int, int] | None
    activities: tuple[int, int] | None

    @classmethod
    def of(cls, command) -> "Added":
        def span(low, high) -> tuple[int, int] | None:
            return (low, high) if low is not None and high is not None and high > low else None

        return cls(span(command.leads_from, command.leads_to), span(command.activities_from, command.activities_to))

    def lead(self, lead_id) -> bool:
        return self.leads is not None and isinstance(lead_id, int) and self.leads[0] < lead_id <= self.leads[1]

    def activity(self, activity_id) -> bool:
        return (
            self.activities is not None
            and isinstance(activity_id, int)
            and self.activities[0] < activity_id <= self.activities[1]
        )

    def owns(self, table: str, key: tuple, old: dict | None) -> bool:
        """Whether a journaled row belongs to these added rows (a lead's tag, an activity on an added lead)."""
        if table in ("leads", "lead_tags", "lead_fields"):
            return self.lead(key[0])
        if table == "activities":
            return self.activity(key[0]) or self.lead((old or {}).get("lead_id"))
        return False


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
    changes, added = changes_of(connection, command.id), Added.of(command)
    refusal = _conflict(connection, command, changes, added)
    if refusal:
        raise RuleViolation(f"Cannot undo #{command.id} `{shown_command(command)}`: {refusal}")
    report = describe(connection, command, changes, added)
    if not dry_run:
        _apply(connection, changes, added)
        at = Timestamp().process_bind_param(clock.now(), connection.dialect)
        connection.execute(update(COMMANDS).where(COMMANDS.c.id == command.id).values(undone_at=at, undone_by=actor))
        connection.execute(delete(JOURNAL).where(JOURNAL.c.command_id == command.id))
    return report


def changes_of(connection: Connection, command_id: int) -> list[Change]:
    """The command's net change per row (as it was before the command; whether it is still there), in order."""
    net: dict[tuple, Change] = {}
    rows = connection.execute(
        select(JOURNAL.c.tbl, JOURNAL.c.op, JOURNAL.c.old, JOURNAL.c.new)
        .where(JOURNAL.c.command_id == command_id)
        .order_by(JOURNAL.c.id)
    )
    for table, op, old, new in rows:
        old = _image(old)
        key = _key(table, old, new)
        change = net.get((table, key))
        if change is None:
            net[(table, key)] = Change(table, key, None if op == "I" else old, op != "D")
        else:
            change.kept = op != "D"
    # A row added and removed by the same command is as it was: nothing to undo there.
    return [change for change in net.values() if change.before is not None or change.kept]


def _image(value) -> dict | None:
    # SQLite hands the JSON text back when the column type does not parse it; PostgreSQL a dict.
    return json.loads(value) if isinstance(value, str) else value


def _key(table: str, old, new) -> tuple:
    image = _image(new) or _image(old)
    assert image is not None, "a journal row names its row"
    return tuple(image[name] for name in TABLES[table])


def _conflict(connection: Connection, command, changes: list[Change], added: Added) -> str | None:
    """Why undoing would lose later work, naming the lead (None: it would not)."""
    touched = {(change.table, change.key): change for change in changes}
    tables = {table for table, _ in touched}
    if added.leads or added.activities:
        tables |= {"leads", "activities", "lead_tags", "lead_fields"}
    later = connection.execute(
        select(JOURNAL.c.command_id, JOURNAL.c.tbl, JOURNAL.c.old, JOURNAL.c.new)
        .where(JOURNAL.c.command_id > command.id, JOURNAL.c.tbl.in_(tables))
        .order_by(JOURNAL.c.id)
    )
    for writer, table, old, new in later:
        key = _key(table, old, new)
        change = touched.get((table, key))
        if change is not None:
            _fill_now(connection, [change])
            what = _label(connection, change)
        elif added.owns(table, key, _image(old)):
            what = _lead_label(connection, _owner(connection, table, key, _image(old)))
        else:
            continue
        return f"{what} changed since{_writer(connection, writer)}. Undo that first, or leave it."
    _fill_now(connection, changes)
    for change in changes:
        # Every write pipectl makes is journaled: a row not as the command left it was written by something else.
        if (change.now is not None) != change.kept:
            return f"{_label(connection, change)} changed since (outside pipectl). Undo refused."
    return _dependant(connection, changes, added)


def _dependant(connection: Connection, changes: list[Change], added: Added) -> str | None:
    """A row added since that points at a lead or stage the undo would remove (it would go with it)."""
    removed = {(change.table, change.key) for change in changes if change.kind == "added"}
    by_key = {(change.table, change.key[0]): change for change in changes if change.kind == "added"}
    for parent, children in DEPENDANTS.items():
        ids = [key for table, key in by_key if table == parent]
        for child, foreign_key in children:
            for key, row in _rows_pointing_at(connection, child, foreign_key, ids):
                if (child, key) not in removed and not added.owns(child, key, dict(row)):
                    return f"{_label(connection, by_key[(parent, row[foreign_key])])} {_gained(child)}"
    if added.leads:
        raw = _raw("activities")
        low, high = added.leads
        statement = select(raw.c.id, raw.c.lead_id).where(raw.c.lead_id > low, raw.c.lead_id <= high)
        for activity_id, lead_id in connection.execute(statement):
            if not added.activity(activity_id) and ("activities", (activity_id,)) not in removed:
                return f"{_lead_label(connection, lead_id)} {_gained('activities')}"
    return None


def _gained(child: str) -> str:
    singular = WORDS[child][0]
    return f"gained {'an' if singular[0] in 'aeiou' else 'a'} {singular} since. Undo that first, or leave it."


def _owner(connection: Connection, table: str, key: tuple, old: dict | None) -> int | None:
    """The lead a row belongs to (an activity journaled by its key alone: the activity as it is now)."""
    if table != "activities":
        return key[0]
    if old is not None:
        return old.get("lead_id")
    raw = _raw("activities")
    return connection.execute(select(raw.c.lead_id).where(raw.c.id == key[0])).scalar()


def _fill_now(connection: Connection, changes: list[Change]) -> None:
    by_table: dict[str, list[Change]] = {}
    for change in changes:
        by_table.setdefault(change.table, []).append(change)
    for table, wanted in by_table.items():
        current = _current(connection, table, [change.key for change in wanted])
        for change in wanted:
            change.now = current.get(change.key)


def _writer(connection: Connection, command_id: int) -> str:
    found = connection.execute(select(COMMANDS).where(COMMANDS.c.id == command_id)).first()
    if found is None:
        return ""
    return f" (by #{found.id} `{shown_command(found)}`, {found.actor}, {when(found.at)})"


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


def _label(connection: Connection, change: Change) -> str:
    image = change.before or change.now or {}
    if change.table == "stages":
        return f"stage {image.get('name')!r}"
    if change.table == "settings":
        return f"the setting {image.get('key')!r}"
    return _lead_label(connection, change.lead_id)


def _lead_label(connection: Connection, lead_id: int | None) -> str:
    if lead_id is None:
        return "a lead"
    raw = _raw("leads")
    name = connection.execute(select(raw.c.name).where(raw.c.id == lead_id)).scalar()
    return f"lead #{lead_id}" + (f" {name}" if name else "")


def _names(connection: Connection, changes: list[Change], lead_ids: list[int]) -> dict[int, str]:
    """Names of these leads: from the rows now, else from the images."""
    names: dict[int, str] = {}
    for change in changes:
        image = change.now or change.before
        if change.table == "leads" and image is not None:
            names[change.key[0]] = str(image.get("name"))
    missing = sorted(set(lead_ids) - set(names))
    raw = _raw("leads")
    for start in range(0, len(missing), CHUNK):
        statement = select(raw.c.id, raw.c.name).where(raw.c.id.in_(missing[start : start + CHUNK]))
        names.update({lead_id: name for lead_id, name in connection.execute(statement)})
    return names


def _apply(connection: Connection, changes: list[Change], added: Added) -> None:
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
            for values in _shaped(table, rows).values():
                connection.execute(target.insert(), values)
        if rows := by_kind.get(("changed", table)):
            keys = TABLES[table]
            for names, values in _shaped(table, rows).items():
                statement = (
                    update(target)
                    .where(*(target.c[name] == bindparam(f"key_{name}") for name in keys))
                    .values({name: bindparam(f"new_{name}") for name in names})
                )
                params = [
                    {f"key_{name}": row[name] for name in keys} | {f"new_{name}": row[name] for name in names}
                    for row in values
                ]
                connection.execute(statement, params)
    for table in reversed(ORDER):
        if rows := by_kind.get(("added", table)):
            target = _raw(table)
            keys = TABLES[table]
            removal = delete(target).where(*(target.c[name] == bindparam(f"key_{name}") for name in keys))
            connection.execute(
                removal, [{f"key_{name}": value for name, value in zip(keys, c.key, strict=True)} for c in rows]
            )
    # Last, the added leads and activities (and their leads' tags and fields), by id range: every row
    # restored above points at rows that existed before the command, never at these.
    for table, (low, high) in _ranges(added):
        raw = _raw(table)
        owner = raw.c.id if table in ("leads", "activities") else raw.c.lead_id
        connection.execute(delete(raw).where(owner > low, owner <= high))


def _shaped(table: str, changes: list[Change]) -> dict[tuple[str, ...], list[dict]]:
    """The rows as they were, by the columns they restore: those of the image a column may be written to.

    A generated column (computed by the database) is left out; so is one the image lacks (a column a
    later migration added), which keeps the value it has.
    """
    writable = [item.name for item in SQLModel.metadata.tables[table].columns if item.computed is None]
    shaped: dict[tuple[str, ...], list[dict]] = {}
    for change in changes:
        assert change.before is not None, "a row as it was"
        names = tuple(name for name in writable if name in change.before)
        shaped.setdefault(names, []).append({name: change.before[name] for name in names})
    return shaped


def _ranges(added: Added) -> list[tuple[str, tuple[int, int]]]:
    """(table, (from, to]) of the rows the ranges hold, children first; tags and fields go by their lead."""
    found: list[tuple[str, tuple[int, int]]] = []
    if added.activities:
        found.append(("activities", added.activities))
    if added.leads:
        found += [("lead_tags", added.leads), ("lead_fields", added.leads), ("leads", added.leads)]
    return found


def _range_counts(connection: Connection, added: Added) -> dict[str, int]:
    counts = {}
    for table, (low, high) in _ranges(added):
        raw = _raw(table)
        owner = raw.c.id if table in ("leads", "activities") else raw.c.lead_id
        counts[table] = connection.execute(
            select(func.count()).select_from(raw).where(owner > low, owner <= high)
        ).scalar_one()
    return counts


def describe(connection: Connection, command, changes: list[Change], added: Added) -> dict:
    """What undoing the command reverses: the command, who ran it and when, its changes counted, its leads."""
    counted: dict[str, dict[str, int]] = {}
    for change in changes:
        kinds = counted.setdefault(change.table, {"added": 0, "changed": 0, "removed": 0})
        kinds[change.kind] += 1
    for table, count in _range_counts(connection, added).items():
        if count:
            counted.setdefault(table, {"added": 0, "changed": 0, "removed": 0})["added"] += count
    leads = {change.lead_id for change in changes if change.lead_id is not None}
    if added.leads:
        raw = _raw("leads")
        statement = select(raw.c.id).where(raw.c.id > added.leads[0], raw.c.id <= added.leads[1])
        leads.update(connection.execute(statement).scalars())
    if added.activities:
        raw = _raw("activities")
        statement = select(raw.c.lead_id).where(raw.c.id > added.activities[0], raw.c.id <= added.activities[1])
        leads.update(connection.execute(statement).scalars())
    ordered = sorted(leads)
    names = _names(connection, changes, ordered)
    return {
        "id": command.id,
        "command": shown_command(command),
        "actor": command.actor,
        "at": when(command.at),
        "changes": {table: counted[table] for table in ORDER if table in counted},
        "leads": [{"id": lead_id, "name": names.get(lead_id)} for lead_id in ordered],
    }
