"""A briefing before a call (`pipectl brief LEAD`): everything worth knowing about one lead.

Who they are, stage and days there, BANT answers and what is still open, the score with the rules
that weigh most, the latest activities, the open next action, competition notes, and won leads like
this one (same industry, company size band or source) with what moved them: the kinds of activity
most of them had before they were won. Counts and shares are SQL aggregates.
"""

from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_, select
from sqlmodel import Session, col

from pipectl.contract import BANT_CRITERIA
from pipectl.core.funnel import ACTIVITIES, LEADS
from pipectl.core.kinds import OUTREACH, RESPONSES, SIGNALS
from pipectl.core.periods import DAY, raw
from pipectl.dates import from_timestamp, iso
from pipectl.money import to_number
from pipectl.storage.models import Activity, Lead, LeadTag, Stage, stored_id

ACTIVITIES_SHOWN = 5
REASONS_SHOWN = 3
COMPETITION_SHOWN = 3
SIMILAR_SHOWN = 3
MOVERS_SHOWN = 3
# What moved the similar won leads is read from this many of the latest: enough for shares to mean
# something, and a briefing costs the same at a million leads (the hygiene rules' stage limits do the same).
MOVERS_FROM = 1000
COMPETITOR = "competitor"
# Company size bands (employees): upper bounds, the last one open.
SIZE_BANDS = ((10, "1–10"), (50, "11–50"), (200, "51–200"), (1000, "201–1000"), (None, "1001+"))
TAGS = LeadTag.__table__
# What can have moved a lead: what the seller did and how the lead answered, not notes or unsubscribes.
MOVERS = OUTREACH + RESPONSES + tuple(kind for kind in SIGNALS if kind != "unsubscribe")


def compute_brief(session: Session, lead: Lead, now: datetime) -> dict:
    """Every part of `pipectl brief`, as the JSON it prints."""
    from pipectl.core.agenda import is_appointment, open_task
    from pipectl.core.hygiene import stale_reasons
    from pipectl.core.scoring_sql import explain
    from pipectl.core.stages import open_stages
    from pipectl.core.views import activity_dict, bant_block, one_lead

    lead_id = stored_id(lead)
    row = one_lead(session, lead)
    bant = bant_block(lead)
    bant["open"] = [name for name in BANT_CRITERIA if bant[name]["status"] == "unknown"]
    scored = explain(session, lead_id, now=now)
    weighing = sorted(scored["breakdown"], key=lambda part: -abs(part["points"]))[:REASONS_SHOWN]
    probability = next((stage.probability for stage in open_stages(session) if stage.id == lead.stage_id), None)
    task = open_task(session, lead_id)
    next_action = None
    if task is not None and task.due is not None:
        next_action = {
            "action": task.note,
            "due": iso(task.due),
            "appointment": is_appointment(task.due),
            "days_overdue": max((now.date() - task.due.date()).days, 0),
        }
    stages: dict[int, str] = dict(session.execute(select(col(Stage.id), col(Stage.name))).tuples().all())
    happened = session.execute(
        select(Activity)
        .where(col(Activity.lead_id) == lead_id, col(Activity.done) == True)  # noqa: E712
        .order_by(col(Activity.at).desc(), col(Activity.id).desc())
        .limit(ACTIVITIES_SHOWN)
    ).scalars()
    return {
        "lead": row,
        "stage_probability": probability if lead.status == "open" else None,
        "bant": bant,
        "score": {"score": scored["score"], "band": scored["band"], "reasons": weighing},
        "stale_reasons": stale_reasons(session, now, [lead_id]).get(lead_id, []),
        "next_action": next_action,
        "activities": [activity_dict(done, stages) for done in happened],
        "competition": competition(session, lead_id),
        "similar_won": similar_won(session, lead),
    }


def competition(session: Session, lead_id: int) -> list[dict]:
    """The lead's latest competitor activities and notes that mention a competitor (all its notes when
    it is tagged competitor), as `review` finds them."""
    tagged = select(TAGS.c.lead_id).where(TAGS.c.lead_id == lead_id, TAGS.c.tag == COMPETITOR).exists()
    mentions = or_(
        ACTIVITIES.c.kind == COMPETITOR,
        func.lower(ACTIVITIES.c.note).like(f"%{COMPETITOR}%"),
        and_(ACTIVITIES.c.kind == "note", tagged),
    )
    rows = session.execute(
        select(ACTIVITIES.c.kind, ACTIVITIES.c.note, raw(ACTIVITIES.c.at))
        .where(ACTIVITIES.c.lead_id == lead_id, ACTIVITIES.c.done == True, mentions)  # noqa: E712
        .order_by(ACTIVITIES.c.at.desc(), ACTIVITIES.c.id.desc())
        .limit(COMPETITION_SHOWN)
    )
    return [{"kind": kind, "note": note, "at": iso(from_timestamp(at))} for kind, note, at in rows]


def size_band(size: int | None) -> str | None:
    """The band a company size falls in (`51–200`), or None without a size."""
    if size is None:
        return None
    return next(label for bound, label in SIZE_BANDS if bound is None or size <= bound)


def _in_band(column, size: int):
    """SQL: the company size falls in the same band as `size`, as a range the (status, company_size) index reads."""
    index = next(index for index, (bound, _label) in enumerate(SIZE_BANDS) if bound is None or size <= bound)
    upper = SIZE_BANDS[index][0]
    lower = SIZE_BANDS[index - 1][0] if index else None
    return and_(
        *([column > lower] if lower is not None else [column.is_not(None)]),
        *([column <= upper] if upper is not None else []),
    )


def similar_won(session: Session, lead: Lead) -> dict:
    """Won leads sharing the lead's industry, size band or source: how many, the closest, what moved them.

    Each of the three is an index range over won leads (migration 0009), so SQLite reads only the
    similar ones; what moved them is worked out from the latest MOVERS_FROM of those."""
    band = size_band(lead.company_size)
    matching = {"industry": lead.industry, "size_band": band, "source": lead.source}
    if not any(matching.values()):
        return {"matching": matching, "leads": 0, "list": [], "moved_by": [], "moved_by_of": 0}
    same = {
        "industry": func.lower(LEADS.c.industry) == lead.industry.lower() if lead.industry else None,
        "size_band": _in_band(LEADS.c.company_size, lead.company_size) if lead.company_size is not None else None,
        "source": LEADS.c.source_key == lead.source_key if lead.source else None,
    }
    terms = {name: condition for name, condition in same.items() if condition is not None}
    matches = sum((case((condition, 1), else_=0) for condition in terms.values()), literal(0))
    # "won" inside each term: SQLite then reads the three (status, …) index ranges and takes their union,
    # where `won AND (a OR b OR c)` made it read every won lead.
    where = and_(LEADS.c.id != lead.id, or_(*(and_(LEADS.c.status == "won", term) for term in terms.values())))
    flags = [case((condition, 1), else_=0).label(name) for name, condition in terms.items()]
    # The count rides along on the closest rows (a window over every similar lead): one pass.
    rows = session.execute(
        select(
            LEADS.c.id,
            LEADS.c.name,
            LEADS.c.company,
            LEADS.c.value_cents,
            raw(LEADS.c.closed_at),
            raw(LEADS.c.created_at),
            func.count().over(),
            *flags,
        )
        .where(where)
        .order_by(matches.desc(), LEADS.c.closed_at.desc(), LEADS.c.id.desc())
        .limit(SIMILAR_SHOWN)
    ).all()
    count = rows[0][6] if rows else 0
    shown = [
        {
            "id": row[0],
            "name": row[1],
            "company": row[2],
            "value": to_number(row[3]),
            "closed_at": iso(from_timestamp(row[4])),
            "cycle_days": round((row[4] - row[5]) / DAY, 1),
            "matched": [name for index, name in enumerate(terms) if row[7 + index]],
        }
        for row in rows
    ]
    of = min(count, MOVERS_FROM)
    return {
        "matching": matching,
        "leads": count,
        "list": shown,
        "moved_by": _moved_by(session, where, of),
        "moved_by_of": of,
    }


def _moved_by(session: Session, similar, of: int) -> list[dict]:
    """The kinds of activity (calls, demos, signals: not notes or pipectl's own records) that most of the latest
    `of` similar won leads had before they were won, with how many of them had each."""
    if not of:
        return []
    # The latest wins, by the (status, closed_at) order: how deals are won now, and a bounded read.
    latest = select(LEADS.c.id).where(similar).order_by(LEADS.c.closed_at.desc(), LEADS.c.id.desc()).limit(of)
    won = LEADS.alias("won")
    leads_with = func.count(ACTIVITIES.c.lead_id.distinct())
    rows = session.execute(
        select(ACTIVITIES.c.kind, leads_with)
        .select_from(ACTIVITIES.join(won, won.c.id == ACTIVITIES.c.lead_id))
        .where(
            ACTIVITIES.c.lead_id.in_(latest.scalar_subquery()),
            ACTIVITIES.c.done == True,  # noqa: E712
            ACTIVITIES.c.kind.in_(MOVERS),
            raw(ACTIVITIES.c.at) <= raw(won.c.closed_at),
        )
        .group_by(ACTIVITIES.c.kind)
        .order_by(leads_with.desc(), ACTIVITIES.c.kind)
        .limit(MOVERS_SHOWN)
    )
    return [{"kind": kind, "leads": leads, "share": round(leads / of, 4)} for kind, leads in rows]
