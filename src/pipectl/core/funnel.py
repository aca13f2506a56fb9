"""The funnel from the history: which stages each lead reached, how long it stayed, how each stage ends.

A lead's path is *known* when its history says which stage it was in: it was
created in a stage or moved into one. A lead reached every stage up to the
furthest one it reached (a lead moved straight from Discovery to Proposal
passed Qualification and Contact too), so the funnel never rises from one
stage to the next. A closed lead imported without the stage it closed from
has a `created` row with no stage: its path is unknown, and the stage figures
(funnel, conversion, days in stage, bottleneck, stage win rates) leave it
out, counted and explained, instead of piling it into the first stage.

Everything is aggregated in SQL that SQLite and PostgreSQL both run; a path
is one row per lead, joined to the handful of open stages it passed.
"""

from datetime import datetime

from sqlalchemy import and_, case, false, func, or_, select, true
from sqlmodel import Session

from pipectl.core.periods import raw, ts
from pipectl.storage.models import Activity, Lead, Stage

LEADS, ACTIVITIES, STAGES = Lead.__table__, Activity.__table__, Stage.__table__
# A lead reaches a stage when it is created in it or moved into it.
REACH_KINDS = ("created", "stage_change")
# Kinds that put a lead (back) into a stage: the start of a stay.
ENTRY_KINDS = ("created", "stage_change", "reopened", "restored")
# Kinds that end a stay in a stage (or start the next one).
STAGE_EVENT_KINDS = ENTRY_KINDS + ("won", "lost", "archived")
# The default filter of the functions below: no filter.
EVERY_LEAD = true()
UNKNOWN_PATH_REASON = "closed without a stage history (imported won or lost without the stage they closed from)"
UNKNOWN_PATH_HINT = "import the stage they closed from with --map COLUMN=stage to count them"


def scan_kind():
    """`activities.kind` as an expression no index covers (`kind || ''`).

    Stage events are about a third of all activities, too many for the kind
    index to pay: through it SQLite fetches rows in random order and then sorts
    them, where a scan of the (lead_id, at) index already yields them in the
    window's order. Twice as fast on 100,000 leads; harmless on PostgreSQL.
    """
    return ACTIVITIES.c.kind.concat("")


def known_paths(leads_where=EVERY_LEAD):
    """Subquery: one row per lead with a known path — `lead_id`, `status`, `furthest` (stage position)."""
    return (
        select(ACTIVITIES.c.lead_id, LEADS.c.status, func.max(STAGES.c.position).label("furthest"))
        .select_from(
            ACTIVITIES.join(STAGES, STAGES.c.id == ACTIVITIES.c.to_stage_id).join(
                LEADS, LEADS.c.id == ACTIVITIES.c.lead_id
            )
        )
        .where(scan_kind().in_(REACH_KINDS), STAGES.c.position.is_not(None), leads_where)
        .group_by(ACTIVITIES.c.lead_id, LEADS.c.status)
        .subquery()
    )


def _passed(paths):
    """The open stages each path passed: every stage up to its furthest."""
    return paths.join(
        STAGES, and_(STAGES.c.removed == false(), STAGES.c.position.is_not(None), STAGES.c.position <= paths.c.furthest)
    )


def funnel_counts(session: Session, leads_where=EVERY_LEAD) -> dict[int, dict]:
    """Stage id → leads (with a known path) that reached it, moved past it, were won, were lost."""
    paths = known_paths(leads_where)
    won, lost = paths.c.status == "won", paths.c.status == "lost"
    moved_on = or_(paths.c.furthest > STAGES.c.position, won)
    query = (
        select(
            STAGES.c.id,
            func.count(),
            func.sum(case((moved_on, 1), else_=0)),
            func.sum(case((won, 1), else_=0)),
            func.sum(case((lost, 1), else_=0)),
        )
        .select_from(_passed(paths))
        .group_by(STAGES.c.id)
    )
    return {
        stage_id: {"reached": int(reached), "advanced": int(advanced), "won": int(won_count), "lost": int(lost_count)}
        for stage_id, reached, advanced, won_count, lost_count in session.execute(query)
    }


def stage_outcomes(session: Session, leads_where=EVERY_LEAD) -> dict[int, tuple[int, int]]:
    """Stage id → (won, lost) among the leads with a known path that reached it: stage win rates."""
    return {
        stage_id: (counts["won"], counts["lost"]) for stage_id, counts in funnel_counts(session, leads_where).items()
    }


def stays(session: Session, now: datetime, leads_where=EVERY_LEAD) -> dict[int, float]:
    """Stage id → average seconds a stay in it lasted (a stay still going counts up to now).

    A stay starts at a stage event that enters a stage and ends at the lead's next stage event.
    """
    order = (ACTIVITIES.c.at, ACTIVITIES.c.id)
    events = (
        select(
            ACTIVITIES.c.kind,
            ACTIVITIES.c.to_stage_id,
            raw(ACTIVITIES.c.at).label("at"),
            func.lead(raw(ACTIVITIES.c.at)).over(partition_by=ACTIVITIES.c.lead_id, order_by=order).label("next_at"),
        )
        .select_from(ACTIVITIES.join(LEADS, LEADS.c.id == ACTIVITIES.c.lead_id))
        .where(scan_kind().in_(STAGE_EVENT_KINDS), leads_where)
        .subquery()
    )
    query = (
        select(events.c.to_stage_id, func.avg(func.coalesce(events.c.next_at, ts(now)) - events.c.at))
        .where(events.c.kind.in_(ENTRY_KINDS), events.c.to_stage_id.is_not(None))
        .group_by(events.c.to_stage_id)
    )
    return {stage_id: max(float(seconds), 0.0) for stage_id, seconds in session.execute(query) if seconds is not None}


def path_counts(session: Session, leads_where=EVERY_LEAD, known: int | None = None) -> dict:
    """How many leads the stage figures count (`known`) and leave out (`unknown`), and why.

    `known`, when the caller has the funnel: the leads that reached the first stage, since every
    known path passed it (open stages are numbered 1..n)."""
    total = session.execute(select(func.count()).select_from(LEADS).where(leads_where)).scalar_one()
    if known is None:
        known = session.execute(select(func.count()).select_from(known_paths(leads_where))).scalar_one()
    unknown = int(total) - int(known)
    return {"known": int(known), "unknown": unknown, "unknown_reason": UNKNOWN_PATH_REASON if unknown else None}


def unknown_path_note(unknown: int) -> str:
    return (
        f"{unknown:,} lead(s) left out of the funnel, conversion, days in stage, bottleneck and "
        f"stage win rates: {UNKNOWN_PATH_REASON}; {UNKNOWN_PATH_HINT}"
    )
