"""What the journal says: recent undoable commands (`pipectl history`), a command as typed, and its changes in words."""

import shlex
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from pipectl.storage.journal import COMMANDS, JOURNAL

WORDS = {
    "stages": ("stage", "stages"),
    "leads": ("lead", "leads"),
    "lead_tags": ("tag", "tags"),
    "lead_fields": ("custom field", "custom fields"),
    "activities": ("activity", "activities"),
    "settings": ("setting", "settings"),
    "owners": ("owner", "owners"),
    "assignments": ("hand-over", "hand-overs"),
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
        words.append(word)
    return shlex.join(["pipectl", *words])  # quoted as a shell would need it: copied, it runs again


def when(at) -> str:
    value = at if isinstance(at, datetime) else datetime.fromtimestamp(at)
    return value.strftime("%Y-%m-%d %H:%M")


def history(connection: Connection, *, limit: int | None) -> list[dict]:
    """Recent undoable commands, newest first: who ran them, when, and how many leads they changed."""
    statement = select(COMMANDS).where(COMMANDS.c.undone_at.is_(None)).order_by(COMMANDS.c.id.desc())
    commands = connection.execute(statement.limit(limit) if limit else statement).all()
    ids = [command.id for command in commands]
    counts = _counts(connection, ids)
    rows = []
    for command in commands:
        leads = counts.get(command.id, 0)
        if command.leads_from is not None and command.leads_to is not None:
            leads += max(command.leads_to - command.leads_from, 0)  # ids of one command follow each other
        rows.append(
            {
                "id": command.id,
                "at": when(command.at),
                "actor": command.actor,
                "command": shown_command(command),
                "leads": leads,
            }
        )
    return rows


def _counts(connection: Connection, ids: list[int]) -> dict[int, int]:
    """Per command: the distinct leads its journal rows belong to (an added activity's lead aside)."""
    if not ids:
        return {}
    image = func.coalesce(JOURNAL.c.new, JOURNAL.c.old)
    lead: Any
    if connection.dialect.name == "postgresql":
        lead = image.op("->>")(text("CASE WHEN journal.tbl = 'leads' THEN 'id' ELSE 'lead_id' END"))
    else:
        lead = func.json_extract(image, text("CASE WHEN journal.tbl = 'leads' THEN '$.id' ELSE '$.lead_id' END"))
    statement = (
        select(JOURNAL.c.command_id, func.count(func.distinct(lead)))
        .where(JOURNAL.c.command_id.in_(ids))
        .group_by(JOURNAL.c.command_id)
    )
    return {command_id: leads for command_id, leads in connection.execute(statement)}


def set_retention(session, keep: int | None, days: int | None) -> tuple[int, int]:
    """Change how long the journal keeps commands (the `journal` setting); returns (commands, days) now kept."""
    from pipectl.core.settings import put_setting
    from pipectl.storage.journal import SETTING, retention

    current_keep, current_days = retention(session.connection())
    kept, kept_days = keep or current_keep, days or current_days
    put_setting(session, SETTING, {"keep_commands": kept, "keep_days": kept_days})
    return kept, kept_days
