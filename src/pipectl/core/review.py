"""The weekly pipeline review, laid out as its agenda.

1. Wins since the date, with their value.
2. Pipeline update: new leads, stage moves, lost leads with reasons, leads
   archived and restored, and the change in open value: what new leads brought,
   minus what was won, lost or archived, plus what was restored, plus value edits
   of leads that were open (so it matches the board's change over the period).
3. Roadblocks for next week: stalled leads, overdue and upcoming planned
   actions, unqualified leads in stages that need BANT or in the last stage.
4. Competition notes: `competitor` activities, notes mentioning a competitor,
   and notes on leads tagged `competitor`.

Counts and sums are SQL aggregates; each list shows at most `LIST_LIMIT` rows.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from pipectl.contract import BANT_CRITERIA
from pipectl.core.funnel import ACTIVITIES, LEADS, STAGES
from pipectl.core.periods import raw, ts
from pipectl.dates import from_timestamp, iso
from pipectl.money import to_number
from pipectl.storage.models import LeadTag

TAGS = LeadTag.__table__
LIST_LIMIT = 50
UPCOMING_DAYS = 7
COMPETITOR = "competitor"


def _lead_columns():
    return (LEADS.c.id, LEADS.c.name, LEADS.c.company, LEADS.c.value_cents)


def _lead(lead_id, name, company, value_cents) -> dict:
    return {"id": lead_id, "name": name, "company": company, "value": to_number(value_cents)}


def _when(seconds: int | None) -> str | None:
    return None if seconds is None else iso(from_timestamp(seconds))


def _count_and_value(session: Session, *conditions) -> tuple[int, int]:
    count, value = session.execute(
        select(func.count(), func.coalesce(func.sum(LEADS.c.value_cents), 0)).where(*conditions)
    ).one()
    return count, int(value)


def wins(session: Session, since: datetime) -> dict:
    closed_in = and_(LEADS.c.status == "won", raw(LEADS.c.closed_at) >= ts(since))
    count, value = _count_and_value(session, closed_in)
    rows = session.execute(
        select(*_lead_columns(), raw(LEADS.c.closed_at))
        .where(closed_in)
        .order_by(LEADS.c.closed_at, LEADS.c.id)
        .limit(LIST_LIMIT)
    )
    return {
        "leads": count,
        "value": to_number(value),
        "list": [{**_lead(*row[:4]), "closed_at": _when(row[4])} for row in rows],
    }


def pipeline_update(session: Session, since: datetime) -> dict:
    created_in = raw(LEADS.c.created_at) >= ts(since)
    new_count, new_value = _count_and_value(session, created_in)
    lost_in = and_(LEADS.c.status == "lost", raw(LEADS.c.closed_at) >= ts(since))
    lost_count, lost_value = _count_and_value(session, lost_in)
    _, won_value = _count_and_value(session, LEADS.c.status == "won", raw(LEADS.c.closed_at) >= ts(since))
    lost_rows = session.execute(
        select(*_lead_columns(), LEADS.c.lost_reason, raw(LEADS.c.closed_at))
        .where(lost_in)
        .order_by(LEADS.c.closed_at, LEADS.c.id)
        .limit(LIST_LIMIT)
    )
    moves_in = and_(ACTIVITIES.c.kind == "stage_change", raw(ACTIVITIES.c.at) >= ts(since))
    move_count = session.execute(select(func.count()).select_from(ACTIVITIES).where(moves_in)).scalar_one()
    source, target = aliased(STAGES), aliased(STAGES)
    move_rows = session.execute(
        select(LEADS.c.id, LEADS.c.name, LEADS.c.company, source.c.name, target.c.name, raw(ACTIVITIES.c.at))
        .select_from(
            ACTIVITIES.join(LEADS, LEADS.c.id == ACTIVITIES.c.lead_id)
            .outerjoin(source, source.c.id == ACTIVITIES.c.from_stage_id)
            .outerjoin(target, target.c.id == ACTIVITIES.c.to_stage_id)
        )
        .where(moves_in)
        .order_by(ACTIVITIES.c.at, ACTIVITIES.c.id)
        .limit(LIST_LIMIT)
    )
    archived_in = and_(LEADS.c.status == "archived", raw(LEADS.c.archived_at) >= ts(since))
    archived_count, archived_value = _count_and_value(session, archived_in)
    restored_count, restored_value = _count_and_value(session, _restored_in(since))
    edited = _value_edits(session, since)
    change = new_value - won_value - lost_value - archived_value + restored_value + edited
    return {
        "new_leads": {"leads": new_count, "value": to_number(new_value)},
        "archived": {"leads": archived_count, "value": to_number(archived_value)},
        "restored": {"leads": restored_count, "value": to_number(restored_value)},
        "stage_moves": {
            "count": move_count,
            "list": [
                {"id": lead_id, "name": name, "company": company, "from": old, "to": new, "at": _when(at)}
                for lead_id, name, company, old, new, at in move_rows
            ],
        },
        "lost": {
            "leads": lost_count,
            "value": to_number(lost_value),
            "list": [{**_lead(*row[:4]), "reason": row[4], "closed_at": _when(row[5])} for row in lost_rows],
        },
        # Open value grows with what new and restored leads bring and with value edits, and
        # shrinks by what was won, lost or archived.
        "value_change": {
            "added": to_number(new_value),
            "closed": to_number(won_value + lost_value),
            "archived": to_number(archived_value),
            "restored": to_number(restored_value),
            "edited": to_number(edited),
            "change": to_number(change),
        },
    }


def _restored_in(since: datetime):
    """Open leads restored in the period from an archiving before it (archived and restored within it: no change)."""
    restored = and_(
        ACTIVITIES.c.lead_id == LEADS.c.id, ACTIVITIES.c.kind == "restored", raw(ACTIVITIES.c.at) >= ts(since)
    )
    archived_since = and_(
        ACTIVITIES.c.lead_id == LEADS.c.id, ACTIVITIES.c.kind == "archived", raw(ACTIVITIES.c.at) >= ts(since)
    )
    return and_(
        LEADS.c.status == "open",
        raw(LEADS.c.created_at) < ts(since),
        exists().where(restored),
        ~exists().where(archived_since),
    )


def _value_edits(session: Session, since: datetime) -> int:
    """Cents added by value edits in the period (`edit --value`, `won --value`) to leads that were open.

    Leads added in the period count at their current value already, and a lead closed before
    the period was not open value: both are left out. Read from the JSON `[old, new]` pair in SQL.
    """
    pairs = {"edited": ("changes", "value_cents"), "won": ("value_cents",)}
    total = 0
    for kind, path in pairs.items():
        old = func.coalesce(ACTIVITIES.c.data[(*path, 0)].as_integer(), 0)
        new = func.coalesce(ACTIVITIES.c.data[(*path, 1)].as_integer(), 0)
        open_then = or_(
            LEADS.c.status == "open", raw(LEADS.c.closed_at) >= ts(since), raw(LEADS.c.archived_at) >= ts(since)
        )
        total += session.execute(
            select(func.coalesce(func.sum(new - old), 0))
            .select_from(ACTIVITIES.join(LEADS, LEADS.c.id == ACTIVITIES.c.lead_id))
            .where(
                ACTIVITIES.c.kind == kind,
                raw(ACTIVITIES.c.at) >= ts(since),
                raw(LEADS.c.created_at) < ts(since),
                open_then,
            )
        ).scalar_one()
    return int(total)


def roadblocks(session: Session, now: datetime) -> dict:
    from pipectl.core.hygiene import StaleFinder

    # The rules as a row condition: SQL counts the stalled leads and picks the most valuable ones,
    # so a million open leads never put their reasons in memory; only the shown ones are worded.
    finder = StaleFinder(session, now)
    stalled = finder.condition()
    count = session.execute(select(func.count()).select_from(LEADS).where(stalled)).scalar_one()
    stalled_rows = session.execute(
        select(*_lead_columns(), STAGES.c.name)
        .join(STAGES, STAGES.c.id == LEADS.c.stage_id)
        .where(stalled)
        .order_by(LEADS.c.value_cents.desc().nulls_last(), LEADS.c.id)
        .limit(LIST_LIMIT)
    ).all()
    reasons = finder.reasons([row[0] for row in stalled_rows])
    return {
        "stalled": {
            "count": count,
            "list": [{**_lead(*row[:4]), "stage": row[4], "reasons": reasons.get(row[0], [])} for row in stalled_rows],
        },
        "overdue": _planned(session, raw(ACTIVITIES.c.due) < ts(now)),
        "upcoming": _planned(
            session, raw(ACTIVITIES.c.due) >= ts(now), raw(ACTIVITIES.c.due) < ts(now + timedelta(days=UPCOMING_DAYS))
        ),
        "unqualified": _unqualified(session),
    }


def _planned(session: Session, *conditions) -> dict:
    where = and_(
        ACTIVITIES.c.done == False,  # noqa: E712
        ACTIVITIES.c.due.is_not(None),
        LEADS.c.status == "open",
        *conditions,
    )
    joined = ACTIVITIES.join(LEADS, LEADS.c.id == ACTIVITIES.c.lead_id)
    count = session.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    rows = session.execute(
        select(*_lead_columns(), ACTIVITIES.c.note, raw(ACTIVITIES.c.due))
        .select_from(joined)
        .where(where)
        .order_by(ACTIVITIES.c.due, ACTIVITIES.c.id)
        .limit(LIST_LIMIT)
    )
    return {"count": count, "list": [{**_lead(*row[:4]), "action": row[4], "due": _when(row[5])} for row in rows]}


def _unqualified(session: Session) -> dict:
    last_position = select(func.max(STAGES.c.position)).where(STAGES.c.removed == False).scalar_subquery()  # noqa: E712
    late = or_(STAGES.c.requires_bant == True, STAGES.c.position == last_position)  # noqa: E712
    not_qualified = or_(*(getattr(LEADS.c, name) != "yes" for name in BANT_CRITERIA))
    where = and_(LEADS.c.status == "open", late, not_qualified)
    joined = LEADS.join(STAGES, STAGES.c.id == LEADS.c.stage_id)
    count = session.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    rows = session.execute(
        select(*_lead_columns(), STAGES.c.name, *(getattr(LEADS.c, name) for name in BANT_CRITERIA))
        .select_from(joined)
        .where(where)
        .order_by(LEADS.c.value_cents.desc().nulls_last(), LEADS.c.id)
        .limit(LIST_LIMIT)
    )
    return {
        "count": count,
        "list": [
            {
                **_lead(*row[:4]),
                "stage": row[4],
                "missing": [
                    f"{name} is {answer}"
                    for name, answer in zip(BANT_CRITERIA, row[5:], strict=True)
                    if answer != "yes"
                ],
            }
            for row in rows
        ],
    }


def competition(session: Session, since: datetime) -> dict:
    tagged = exists().where(TAGS.c.lead_id == ACTIVITIES.c.lead_id, TAGS.c.tag == COMPETITOR)
    mentions = or_(
        ACTIVITIES.c.kind == COMPETITOR,
        func.lower(ACTIVITIES.c.note).like(f"%{COMPETITOR}%"),
        and_(ACTIVITIES.c.kind == "note", tagged),
    )
    where = and_(raw(ACTIVITIES.c.at) >= ts(since), ACTIVITIES.c.done == True, mentions)  # noqa: E712
    joined = ACTIVITIES.join(LEADS, LEADS.c.id == ACTIVITIES.c.lead_id)
    count = session.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    rows = session.execute(
        select(LEADS.c.id, LEADS.c.name, LEADS.c.company, ACTIVITIES.c.kind, ACTIVITIES.c.note, raw(ACTIVITIES.c.at))
        .select_from(joined)
        .where(where)
        .order_by(ACTIVITIES.c.at, ACTIVITIES.c.id)
        .limit(LIST_LIMIT)
    )
    return {
        "count": count,
        "list": [
            {"id": lead_id, "name": name, "company": company, "kind": kind, "note": note, "at": _when(at)}
            for lead_id, name, company, kind, note, at in rows
        ],
    }


def compute_review(session: Session, now: datetime, since: datetime) -> dict:
    """Every section of `pipectl review`, as the JSON it prints."""
    return {
        "since": iso(since),
        "until": iso(now),
        "wins": wins(session, since),
        "pipeline": pipeline_update(session, since),
        "roadblocks": roadblocks(session, now),
        "competition": competition(session, since),
    }
