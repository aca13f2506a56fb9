"""The activity log: every call, signal and change is a row with its time.

Time in stage, sales cycle, conversion and stale detection are all computed
from these rows, so every command that changes a lead writes one through
`record`. Recording marks the lead for re-scoring; the score itself is
recomputed once, before the command commits (`core/rescoring.py`).
"""

from datetime import datetime

from sqlmodel import Session, select

from pipectl import clock
from pipectl.core.kinds import QUIET
from pipectl.core.rescoring import mark
from pipectl.errors import UsageError
from pipectl.storage.models import Activity, Lead


def record(
    session: Session,
    lead: Lead,
    kind: str,
    at: datetime,
    *,
    note: str | None = None,
    data: dict | None = None,
    from_stage_id: int | None = None,
    to_stage_id: int | None = None,
    touch: bool = True,
) -> Activity:
    """Write one activity and keep the lead's `last_activity_at` and `updated_at` current."""
    activity = Activity(
        lead_id=lead.id,
        kind=kind,
        at=at,
        note=note,
        data=data,
        done=True,
        from_stage_id=from_stage_id,
        to_stage_id=to_stage_id,
        recorded_at=clock.now(),
    )
    session.add(activity)
    touch_lead(session, lead, kind, at, touch=touch)
    return activity


def touch_lead(session: Session, lead: Lead, kind: str, at: datetime, *, touch: bool = True) -> None:
    """Keep `last_activity_at` and `updated_at` current after an activity was written or completed."""
    if touch and kind not in QUIET and at > lead.last_activity_at:
        lead.last_activity_at = at
    lead.updated_at = clock.now()
    session.add(lead)
    # Flushed now so the caller can print the new activity's id; the score waits for the commit.
    session.flush()
    mark(session, [lead.id])


def timeline(session: Session, lead_id: int, *, limit: int | None = None) -> list[Activity]:
    """A lead's activities, newest first (planned ones by their due time)."""
    query = select(Activity).where(Activity.lead_id == lead_id).order_by(Activity.at.desc(), Activity.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def check_not_future(at: datetime, what: str = "--at") -> datetime:
    """Something that happened cannot have happened after now."""
    now = clock.now()
    if at > now:
        raise UsageError(f"{at:%Y-%m-%d %H:%M} is in the future; {what} records what already happened.")
    return at
