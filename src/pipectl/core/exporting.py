"""What `export` writes: leads and their activities as records, streamed row by row.

Leads have the contract's keys plus what a restore needs (`archived_at` and
the BANT answers); activities have the activity contract's keys plus the
lead's email and the names of the stages they moved between. `all_records`
gives the leads and then the activities, so that importing the file into an
empty database brings the whole history back and exports identically again.
Nothing is collected in memory: rows go out as the database hands them over.
The format is the output path's business (`pipectl.output`), as for every command.
"""

import json
from collections.abc import Iterator

from sqlalchemy import Integer, select, type_coerce
from sqlmodel import Session, col

from pipectl.contract import BANT_COLUMNS
from pipectl.core.views import CONTRACT_KEYS, LeadFilter, lead_query, lead_rows
from pipectl.dates import LocalInstants
from pipectl.errors import UsageError
from pipectl.storage.models import Activity, Lead, Stage

WHATS = ("leads", "activities", "all")
LEAD_KEYS = CONTRACT_KEYS + ("archived_at", "bant")
# What a lead's CSV adds to the contract's columns: what a restore needs.
LEAD_CSV_EXTRA = ("archived_at",) + BANT_COLUMNS
# `actor` last: who did it (issue 17), so a restore keeps it; files from before it have no such column.
ACTIVITY_KEYS = (
    "id",
    "lead_id",
    "lead_email",
    "kind",
    "at",
    "note",
    "due",
    "done",
    "from_stage",
    "to_stage",
    "data",
    "actor",
)
CHUNK = 1000


def check_what(what: str) -> str:
    what = what.lower()
    if what not in WHATS:
        raise UsageError(f"--what is one of {', '.join(WHATS)}, not {what!r}.")
    return what


def lead_records(session: Session, wanted: LeadFilter) -> Iterator[dict]:
    """Leads for export: the contract's keys (no derived extras), then `archived_at` and `bant`."""
    return lead_rows(session, wanted, restore=True)


def activity_records(session: Session, wanted: LeadFilter) -> Iterator[dict]:
    """The activities of the chosen leads, oldest first (by id), streamed as plain rows."""
    stage_names = dict(session.execute(select(col(Stage.id), col(Stage.name))).all())
    activities, leads = Activity.__table__, Lead.__table__
    query = (
        select(
            activities.c.id,
            activities.c.lead_id,
            leads.c.email,
            activities.c.kind,
            type_coerce(activities.c.at, Integer),
            activities.c.note,
            type_coerce(activities.c.due, Integer),
            activities.c.done,
            activities.c.from_stage_id,
            activities.c.to_stage_id,
            activities.c.data,
            activities.c.actor,
        )
        .join(leads, leads.c.id == activities.c.lead_id)
        .order_by(activities.c.id)
    )
    if _filters(wanted):
        chosen = lead_query(session, wanted).with_only_columns(leads.c.id).order_by(None)
        query = query.where(activities.c.lead_id.in_(chosen))
    text = LocalInstants().text
    for activity_id, lead_id, email, kind, at, note, due, done, from_id, to_id, data, actor in session.execute(
        query.execution_options(yield_per=CHUNK)
    ):
        yield {
            "id": activity_id,
            "lead_id": lead_id,
            "lead_email": email,
            "kind": kind,
            "at": text(at),
            "note": note,
            "due": text(due),
            "done": done,
            "from_stage": stage_names.get(from_id),
            "to_stage": stage_names.get(to_id),
            "data": data,
            "actor": actor,
        }


def all_records(session: Session, wanted: LeadFilter) -> Iterator[dict]:
    """The pipeline's settings, leads, then activities, each marked with its `type` (one stream: JSON Lines)."""
    from pipectl.core.pipeline_settings import settings_record

    yield {"type": "settings", **settings_record(session)}
    for row in lead_records(session, wanted):
        yield {"type": "lead", **row}
    for row in activity_records(session, wanted):
        yield {"type": "activity", **row}


def _filters(wanted: LeadFilter) -> bool:
    return any(
        (
            wanted.stage,
            wanted.status not in (None, "all"),
            wanted.tags,
            wanted.owner,
            wanted.source,
            wanted.min_score is not None,
            wanted.ids is not None,
            wanted.qualified is not None,
            wanted.disqualified,
            wanted.limit,
        )
    )


def flat_activity(activity: dict) -> dict:
    """An activity as one CSV row: its data as a JSON text."""
    return dict(activity, data=None if activity["data"] is None else json.dumps(activity["data"], ensure_ascii=False))
