"""The activity log: every call, signal and change is a row with its time.

Time in stage, sales cycle, conversion and stale detection are all computed
from these rows, so every command that changes a lead writes one through
`record`. Recording marks the lead for re-scoring; the score itself is
recomputed once, before the command commits (`core/rescoring.py`).
"""

from datetime import datetime

from sqlalchemy import select as core_select  # sqlmodel's select types at most four columns
from sqlmodel import Session, col, select

from pipectl import clock
from pipectl.core.kinds import QUIET
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
    assert lead.id is not None, "the lead is stored"
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
    assert lead.id is not None, "the lead is stored"
    # Imported here: re-scoring pulls in the scoring rules and their SQL, which a read of the
    # timeline (`show`) never needs.
    from pipectl.core.rescoring import mark

    mark(session, [lead.id])


def close_open_actions(session: Session, lead_ids: list[int], closed_by: str, at: datetime) -> dict[int, dict]:
    """Close the open next actions of leads that were won, lost or archived; lead id → the action closed.

    A closed lead has no next step, so its planned action must leave `show`, `next` and the
    calendar; it is kept, marked done with `data.closed` (why and when), not completed: closing
    is bookkeeping and touches no lead. One SELECT and one executemany UPDATE, however many leads.
    """
    from sqlalchemy import bindparam, update

    from pipectl.dates import iso

    activities = Activity.__table__
    open_tasks = (
        session.execute(
            core_select(
                activities.c.id, activities.c.lead_id, activities.c.note, activities.c.due, activities.c.data
            ).where(activities.c.lead_id.in_(lead_ids), activities.c.done == False)  # noqa: E712
        ).all()
        if lead_ids
        else []
    )
    if not open_tasks:
        return {}
    closed = {"by": closed_by, "at": iso(at)}
    session.execute(
        update(activities)
        .where(activities.c.id == bindparam("task_id"))
        .values(done=True, data=bindparam("closed_data")),
        [
            {"task_id": task_id, "closed_data": {**(data or {}), "closed": closed}}
            for task_id, _lead_id, _note, _due, data in open_tasks
        ],
    )
    for task_id, *_rest in open_tasks:
        # The ORM must not keep an open copy of a task closed behind its back.
        held = session.identity_map.get((Activity, (task_id,), None))
        if held is not None:
            session.expire(held)
    return {
        lead_id: {"id": task_id, "note": note, "due": iso(due)} for task_id, lead_id, note, due, _data in open_tasks
    }


def timeline(session: Session, lead_id: int, *, limit: int | None = None) -> list[Activity]:
    """A lead's activities, newest first (planned ones by their due time)."""
    query = (
        select(Activity).where(Activity.lead_id == lead_id).order_by(col(Activity.at).desc(), col(Activity.id).desc())
    )
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def check_not_future(at: datetime, what: str = "--at") -> datetime:
    """Something that happened cannot have happened after now."""
    now = clock.now()
    if at > now:
        raise UsageError(f"{at:%Y-%m-%d %H:%M} is in the future; {what} records what already happened.")
    return at
