"""The morning screen (`pipectl status`): what needs the seller today, read in one transaction.

Every count and sum is a SQL aggregate; only the few rows shown come back as rows. The pipeline by
stage and the quota block are `forecast`'s own figures (the same function, without the per-stage
win rates that status does not show), so the two commands cannot disagree.

Score crossings compare each open lead's score now with its score a day ago, both worked out by
the same SQL (`scoring_sql.raw_score`): a day ago counts only the activities up to then, with
today's rules and today's fields (pipectl keeps no history of scores or of field values). A lead
crossed when its band (nurture, between, MQL, SQL) differs; a lead added since then has no score
to compare and is left out. Only the leads that have a counted activity inside the two narrow
ranges where the scores can differ are worked out (`_moved`), so the cost follows a day's activity,
not the pipeline's size; no score history needs keeping.
"""

import itertools
from datetime import datetime, time, timedelta

from sqlalchemy import and_, case, exists, func, select, union
from sqlmodel import Session

from pipectl.core.agenda import planned_rows, stalled_rows
from pipectl.core.funnel import ACTIVITIES, LEADS, STAGES
from pipectl.core.periods import raw, ts
from pipectl.dates import from_timestamp, iso
from pipectl.money import to_number

# Rows each list shows; the counts are always whole.
ACTIONS_SHOWN = 5
DECISIONS_SHOWN = 3
CROSSINGS_SHOWN = 3
WINS_SHOWN = 3
WEEK = timedelta(days=7)
SINCE_YESTERDAY = timedelta(days=1)
BANDS = ("nurture", "", "mql", "sql")  # low to high, as `scoring.band` names them


def compute_status(session: Session, now: datetime) -> dict:
    """Every figure of `pipectl status`, as the JSON it prints."""
    from pipectl.core.forecast import compute_forecast

    forecast = compute_forecast(session, now, stage_history=False)
    return {
        "as_of": iso(now),
        "actions": actions(session, now),
        "needs_decision": needs_decision(session, now),
        "pipeline": {
            "stages": [
                {key: row[key] for key in ("stage", "probability", "leads", "value", "weighted")}
                for row in forecast["stages"]
            ],
            "open": {key: forecast["open"][key] for key in ("leads", "value", "weighted")},
        },
        "quota": forecast["quota"],
        "week": week(session, now),
        "score_crossings": score_crossings(session, now),
    }


def _today(now: datetime) -> tuple[datetime, datetime]:
    today = datetime.combine(now.date(), time())
    return today, today + timedelta(days=1)


def actions(session: Session, now: datetime) -> dict:
    """Open leads' next actions overdue or due today: both counts, and the first few in agenda order."""
    today, tomorrow = _today(now)
    due = raw(ACTIVITIES.c.due)
    overdue, due_today = session.execute(
        select(
            func.coalesce(func.sum(case((due < ts(today), 1), else_=0)), 0),
            func.coalesce(func.sum(case((due >= ts(today), 1), else_=0)), 0),
        )
        .select_from(ACTIVITIES.join(LEADS, LEADS.c.id == ACTIVITIES.c.lead_id))
        .where(ACTIVITIES.c.done == False, due.is_not(None), due < ts(tomorrow), LEADS.c.status == "open")  # noqa: E712
    ).one()
    # The agenda's own order (most overdue first, then by score), within today: no upcoming window.
    first = list(itertools.islice(planned_rows(session, now, timedelta(0)), ACTIONS_SHOWN))
    details = _leads(session, [row.lead_id for row in first])
    tasks = dict(
        session.execute(
            select(ACTIVITIES.c.id, ACTIVITIES.c.note).where(ACTIVITIES.c.id.in_([row.task_id for row in first]))
        ).all()
    )
    shown = [
        {
            **details[row.lead_id],
            "section": row.section,
            "action": tasks.get(row.task_id),
            "due": iso(row.due),
            "days_overdue": row.days_overdue,
        }
        for row in first
    ]
    return {"overdue": int(overdue), "today": int(due_today), "list": shown}


def needs_decision(session: Session, now: datetime) -> dict:
    """Stalled open leads (the hygiene rules) without an action due today: how many, and the top ones."""
    from pipectl.core.hygiene import StaleFinder

    _today_start, tomorrow = _today(now)
    due_today = exists().where(
        ACTIVITIES.c.lead_id == LEADS.c.id,
        ACTIVITIES.c.done == False,  # noqa: E712
        raw(ACTIVITIES.c.due) < ts(tomorrow),
    )
    count = session.execute(
        select(func.count()).select_from(LEADS).where(StaleFinder(session, now).condition(), ~due_today)
    ).scalar_one()
    first = stalled_rows(session, now, DECISIONS_SHOWN, within=timedelta(0))
    details = _leads(session, [row.lead_id for row in first])
    return {"leads": count, "list": [{**details[row.lead_id], "reasons": row.reasons} for row in first]}


def _leads(session: Session, lead_ids: list[int]) -> dict[int, dict]:
    """The few facts a status line shows about each lead, by id."""
    if not lead_ids:
        return {}
    rows = session.execute(
        select(LEADS.c.id, LEADS.c.name, LEADS.c.company, STAGES.c.name, LEADS.c.value_cents, LEADS.c.score)
        .select_from(LEADS.join(STAGES, STAGES.c.id == LEADS.c.stage_id))
        .where(LEADS.c.id.in_(lead_ids))
    )
    return {
        lead_id: {
            "id": lead_id,
            "name": name,
            "company": company,
            "stage": stage,
            "value": to_number(value),
            "score": score,
        }
        for lead_id, name, company, stage, value, score in rows
    }


def week(session: Session, now: datetime) -> dict:
    """Leads won and lost in the last seven days: counts, values, and the latest wins."""
    since = now - WEEK
    closed = and_(LEADS.c.status.in_(("won", "lost")), raw(LEADS.c.closed_at) >= ts(since))
    totals = {
        status: (count, int(value))
        for status, count, value in session.execute(
            select(LEADS.c.status, func.count(), func.coalesce(func.sum(LEADS.c.value_cents), 0))
            .where(closed)
            .group_by(LEADS.c.status)
        )
    }
    latest = session.execute(
        select(LEADS.c.id, LEADS.c.name, LEADS.c.company, LEADS.c.value_cents, raw(LEADS.c.closed_at))
        .where(LEADS.c.status == "won", raw(LEADS.c.closed_at) >= ts(since))
        .order_by(LEADS.c.closed_at.desc(), LEADS.c.id.desc())
        .limit(WINS_SHOWN)
    )
    won, lost = totals.get("won", (0, 0)), totals.get("lost", (0, 0))
    return {
        "since": iso(since),
        "won": {"leads": won[0], "value": to_number(won[1])},
        "lost": {"leads": lost[0], "value": to_number(lost[1])},
        "wins": [
            {
                "id": lead_id,
                "name": name,
                "company": company,
                "value": to_number(value),
                "closed_at": iso(from_timestamp(at)),
            }
            for lead_id, name, company, value, at in latest
        ],
    }


def _band_index(score, thresholds):
    """SQL: 0 nurture, 1 in between, 2 MQL, 3 SQL (the order of BANDS)."""
    return case(
        (score >= thresholds.sql, 3),
        (score >= thresholds.mql, 2),
        (score < thresholds.nurture_below, 0),
        else_=1,
    )


def _moved(rules, then: datetime, now: datetime):
    """SQL: the ids of leads with a counted activity that one of the two scores counts and the other does not.

    Demographic points are today's either way, so only behaviour moves a score. A lead's score a day
    ago counts a rule's activities in [since(then), then], its score now those from since(now) on; only
    an activity after `then`, or one a rule's window let go of between since(then) and since(now), is
    counted by one and not the other. Both are narrow ranges of the (kind, at) index: the leads found
    are the few whose score can have moved (a superset: their bands are compared after), whatever the
    pipeline's size, instead of every lead with an activity in the widest window."""
    # Rules reading a count or a date held in a field move with the field's edits, not with activities.
    behavioural = rules.activity_rules
    done = ACTIVITIES.c.done == True  # noqa: E712
    at = raw(ACTIVITIES.c.at)
    # One range per kind (an IN over kinds would let SQLite pick the (done, due) index and read every
    # done activity).
    slices = [
        select(ACTIVITIES.c.lead_id).where(ACTIVITIES.c.kind == kind, at > ts(then), done)
        for kind in sorted({rule.activity_kind for rule in behavioural})
    ]
    for rule in behavioural:
        since_then, since_now = rule.since(then), rule.since(now)
        if since_then is not None and since_now is not None:
            slices.append(
                select(ACTIVITIES.c.lead_id).where(
                    ACTIVITIES.c.kind == rule.activity_kind, at >= ts(since_then), at < ts(since_now), done
                )
            )
    return union(*slices)


def score_crossings(session: Session, now: datetime) -> dict:
    """Open leads whose score band changed since this time yesterday: how many, and the first few."""
    from pipectl.core.scoring import current_rules
    from pipectl.core.scoring_sql import clamped, raw_score

    model = current_rules(session)
    then = now - SINCE_YESTERDAY
    thresholds = model.thresholds
    summary = {
        "since": iso(then),
        "thresholds": {"nurture_below": thresholds.nurture_below, "mql": thresholds.mql, "sql": thresholds.sql},
    }
    if not model.scoring.activity_rules:
        # A score made of fields alone is today's both times: nothing can have crossed.
        return {**summary, "leads": 0, "list": []}
    scored = LEADS.alias("scored")
    scores = (
        select(
            scored.c.id.label("id"),
            raw_score(model.scoring, scored, now).label("raw_now"),
            raw_score(model.scoring, scored, then, as_of=True).label("raw_then"),
        )
        .where(
            scored.c.id.in_(_moved(model.scoring, then, now)),
            scored.c.status == "open",
            raw(scored.c.created_at) <= ts(then),
        )
        # Worked out once per lead: the clamps and bands below read the stored raw scores.
        .cte("scores")
        .prefix_with("MATERIALIZED")
    )
    clamped_now, clamped_then = clamped(scores.c.raw_now), clamped(scores.c.raw_then)
    banded = select(
        scores.c.id,
        clamped_now.label("now"),
        clamped_then.label("then"),
        _band_index(clamped_now, model.thresholds).label("band_now"),
        _band_index(clamped_then, model.thresholds).label("band_then"),
    ).subquery()
    crossed = banded.c.band_now != banded.c.band_then
    # One pass: the count rides along on the first few rows (a window over every crossed lead).
    rows = session.execute(
        select(banded.c.id, banded.c.now, banded.c.then, banded.c.band_now, banded.c.band_then, func.count().over())
        .where(crossed)
        # Biggest moves first: those are the leads whose readiness changed most.
        .order_by(func.abs(banded.c.now - banded.c.then).desc(), banded.c.now.desc(), banded.c.id)
        .limit(CROSSINGS_SHOWN)
    ).all()
    count = rows[0][5] if rows else 0
    details = _leads(session, [row[0] for row in rows])
    shown = [
        {
            **details[lead_id],
            "score": int(score_now),
            "was": int(score_then),
            "band": BANDS[band_now],
            "was_band": BANDS[band_then],
            "direction": "up" if band_now > band_then else "down",
        }
        for lead_id, score_now, score_then, band_now, band_then, _count in rows
    ]
    return {**summary, "leads": count, "list": shown}
