"""The sweep: archive dead leads with their reasons, restore them, purge old archives.

Archiving and purging are bulk SQL (one UPDATE and one INSERT per chunk of
leads, DELETEs over a subquery), never an ORM loop over leads, so a sweep of
a large pipeline stays one quick transaction. Nothing here deletes a lead's
history except `purge_archived`, and that only touches archived leads.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, bindparam, delete, func, insert, select, update
from sqlmodel import Session, col

from pipectl.core.history import close_open_actions, record
from pipectl.core.hygiene import StaleFinder
from pipectl.dates import to_timestamp
from pipectl.errors import RuleViolation
from pipectl.storage.models import Activity, Lead, LeadField, LeadTag

CHILD_TABLES = (Activity.__table__, LeadTag.__table__, LeadField.__table__)

REASON_SEPARATOR = "; "
WRITE_CHUNK = 500


@dataclass
class SweepFilter:
    """What `clean` looks at: a stage, some rules, leads idle longer than a duration."""

    stage: str | None = None
    rules: list[str] | None = None
    older_than: timedelta | None = None


def sweep_candidates(session: Session, now: datetime, wanted: SweepFilter | None = None) -> list[dict]:
    """Every open lead the rules would archive: `{id, name, stage, reasons, action}`, by id."""
    return list(stream_candidates(session, now, wanted))


def stream_candidates(session: Session, now: datetime, wanted: SweepFilter | None = None) -> Iterator[dict]:
    """The leads the rules would archive, one dict at a time, by id; read them while the session is open.

    The rules run window by window of ids: a sweep of a million leads never
    holds them all (a dry run prints them as they come, in flat memory).
    """
    wanted = wanted or SweepFilter()
    stage_id = None
    if wanted.stage:
        from pipectl.core.stages import find_stage

        stage_id = find_stage(session, wanted.stage).id
    finder = StaleFinder(session, now, wanted.rules)
    cutoff = now - wanted.older_than if wanted.older_than is not None else None
    stage_names = {stage_id: info.name for stage_id, info in finder.stages.items()}
    return (
        {"id": lead_id, "name": name, "stage": stage_names[lead_stage], "reasons": why, "action": "archive"}
        for lead_id, name, lead_stage, why in finder.stream(stage_id=stage_id, last_activity_before=cutoff)
    )


def archive_leads(session: Session, candidates: list[dict], now: datetime) -> int:
    """Archive the candidates still open, keeping their reasons on the lead and in an `archived` activity.

    The lead keeps its stage, so `restore` can put it back. Archiving is
    bookkeeping, not contact: `last_activity_at` stays as it was.
    """
    leads, activities = Lead.__table__, Activity.__table__
    now_ts = to_timestamp(now)
    archived = 0
    for start in range(0, len(candidates), WRITE_CHUNK):
        chunk = candidates[start : start + WRITE_CHUNK]
        still_open = {
            lead_id: stage_id
            for lead_id, stage_id in session.execute(
                select(col(Lead.id), col(Lead.stage_id)).where(
                    col(Lead.id).in_([item["id"] for item in chunk]), col(Lead.status) == "open"
                )
            )
        }
        chunk = [item for item in chunk if item["id"] in still_open]
        if not chunk:
            continue
        session.execute(
            update(leads)
            .where(leads.c.id == bindparam("lead_id"), leads.c.status == "open")
            .values(status="archived", archived_at=now_ts, updated_at=now_ts, archived_reason=bindparam("reason")),
            [{"lead_id": item["id"], "reason": REASON_SEPARATOR.join(item["reasons"])} for item in chunk],
        )
        # An archived lead has no next step: its open action is closed, and named in the `archived` row.
        closed = close_open_actions(session, [item["id"] for item in chunk], "archived", now)
        session.execute(
            insert(activities),
            [
                {
                    "lead_id": item["id"],
                    "kind": "archived",
                    "at": now_ts,
                    "note": REASON_SEPARATOR.join(item["reasons"]),
                    "due": None,
                    "done": True,
                    "from_stage_id": still_open[item["id"]],
                    "to_stage_id": None,
                    "data": {
                        "reasons": item["reasons"],
                        **({"closed_action": closed[item["id"]]} if item["id"] in closed else {}),
                    },
                    "recorded_at": now_ts,
                }
                for item in chunk
            ],
        )
        archived += len(chunk)
    # The ORM must not keep stale copies of leads changed behind its back.
    session.expire_all()
    return archived


def restore_lead(session: Session, lead: Lead, *, at: datetime | None = None, note: str | None = None) -> Lead:
    """Bring an archived lead back, open, in the stage it was archived from.

    The next action closed by the archiving stays closed (`closed_action` tells which it was):
    the seller plans afresh.
    """
    from pipectl import clock

    if lead.status != "archived":
        raise RuleViolation(
            f"Lead #{lead.id} {lead.name} is {lead.status}, not archived; only archived leads "
            "can be restored (`pipectl list --status archived` shows them)."
        )
    from pipectl.core.merging import merged_into

    kept = merged_into(lead)
    if kept is not None:
        raise RuleViolation(
            f"Lead #{lead.id} {lead.name} was merged into #{kept}; its activities, tags and fields are "
            f"there now (`pipectl show {kept}`)."
        )
    at = at or clock.now()
    reasons = lead.archived_reason
    lead.status, lead.archived_at, lead.archived_reason = "open", None, None
    # Restoring counts as activity: the next sweep gives the lead a fresh idle period.
    record(session, lead, "restored", at, note=note, data={"archived_because": reasons}, to_stage_id=lead.stage_id)
    return lead


def closed_by_archiving(session: Session, lead_id: int) -> dict | None:
    """The next action closed when the lead was last archived (`{id, note, due}`), if it had one."""
    data = session.execute(
        select(col(Activity.data))
        .where(col(Activity.lead_id) == lead_id, col(Activity.kind) == "archived")
        .order_by(col(Activity.at).desc(), col(Activity.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    return (data or {}).get("closed_action")


@dataclass
class PurgeCount:
    leads: int
    activities: int
    tags: int
    fields: int

    @property
    def rows(self) -> int:
        return self.leads + self.activities + self.tags + self.fields


def purge_selection(cutoff: datetime):
    """The ids of archived leads archived before `cutoff`: the only leads a purge may delete."""
    return select(col(Lead.id)).where(col(Lead.status) == "archived", col(Lead.archived_at) < to_timestamp(cutoff))


def count_purge(session: Session, cutoff: datetime) -> PurgeCount:
    """What `purge_archived(cutoff)` would delete, counted in SQL."""
    ids = purge_selection(cutoff)
    leads = session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    counts = [
        session.execute(select(func.count()).select_from(table).where(table.c.lead_id.in_(ids))).scalar_one()
        for table in CHILD_TABLES
    ]
    return PurgeCount(leads, *counts)


def purge_list(session: Session, cutoff: datetime) -> list[dict]:
    """The leads `purge_archived(cutoff)` would delete, by id: `{id, name, company, stage, archived_at, reason}`."""
    from pipectl.dates import iso
    from pipectl.storage.models import Stage

    rows = session.execute(
        select(
            col(Lead.id),
            col(Lead.name),
            col(Lead.company),
            col(Stage.name),
            col(Lead.archived_at),
            col(Lead.archived_reason),
        )
        .join(Stage, col(Stage.id) == col(Lead.stage_id))
        .where(col(Lead.id).in_(purge_selection(cutoff)))
        .order_by(col(Lead.id))
    )
    return [
        {
            "id": lead_id,
            "name": name,
            "company": company,
            "stage": stage,
            "archived_at": iso(archived_at),
            "reason": reason,
        }
        for lead_id, name, company, stage, archived_at, reason in rows
    ]


def purge_archived(session: Session, cutoff: datetime) -> PurgeCount:
    """Delete archived leads archived before `cutoff`, with their activities, tags and fields."""
    ids = purge_selection(cutoff)
    # Children first, explicitly: the result is the same whether or not the backend cascades.
    # (A DELETE's result is a CursorResult, which counts rows; Session.execute is typed for any result.)
    removed = [
        cast(CursorResult, session.execute(delete(table).where(table.c.lead_id.in_(ids)))).rowcount
        for table in CHILD_TABLES
    ]
    table = Lead.__table__
    leads = cast(
        CursorResult,
        session.execute(delete(table).where(table.c.status == "archived", table.c.archived_at < to_timestamp(cutoff))),
    ).rowcount
    session.expire_all()
    return PurgeCount(leads, *removed)
