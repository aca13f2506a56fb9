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

from sqlalchemy import select
from sqlmodel import Session, col

from pipectl.contract import BANT_COLUMNS
from pipectl.core.views import CONTRACT_KEYS, LeadFilter, activity_dict, bant_block, lead_query, lead_rows
from pipectl.dates import iso
from pipectl.errors import UsageError
from pipectl.storage.models import Activity, Lead, Stage

WHATS = ("leads", "activities", "all")
LEAD_KEYS = CONTRACT_KEYS + ("archived_at", "bant")
# What a lead's CSV adds to the contract's columns: what a restore needs.
LEAD_CSV_EXTRA = ("archived_at",) + BANT_COLUMNS
ACTIVITY_KEYS = ("id", "lead_id", "lead_email", "kind", "at", "note", "due", "done", "from_stage", "to_stage", "data")
CHUNK = 1000


def check_what(what: str) -> str:
    what = what.lower()
    if what not in WHATS:
        raise UsageError(f"--what is one of {', '.join(WHATS)}, not {what!r}.")
    return what


def _restore_keys(lead: Lead) -> dict:
    return {"archived_at": iso(lead.archived_at), "bant": bant_block(lead)}


def lead_records(session: Session, wanted: LeadFilter) -> Iterator[dict]:
    """Leads for export: the contract's keys (no derived extras), then `archived_at` and `bant`."""
    for row in lead_rows(session, wanted, extend=_restore_keys):
        yield {key: row[key] for key in LEAD_KEYS}


def activity_records(session: Session, wanted: LeadFilter) -> Iterator[dict]:
    """The activities of the chosen leads, oldest first (by id), streamed."""
    stage_names = dict(session.execute(select(col(Stage.id), col(Stage.name))).all())
    query = (
        select(Activity, col(Lead.email)).join(Lead, col(Lead.id) == col(Activity.lead_id)).order_by(col(Activity.id))
    )
    if _filters(wanted):
        chosen = lead_query(session, wanted).with_only_columns(Lead.id).order_by(None)
        query = query.where(col(Activity.lead_id).in_(chosen))
    result = session.execute(query.execution_options(yield_per=CHUNK))
    for activity, email in result:
        row = activity_dict(activity, stage_names)
        yield {key: email if key == "lead_email" else row[key] for key in ACTIVITY_KEYS}


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
