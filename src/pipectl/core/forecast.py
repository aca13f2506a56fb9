"""The weighted forecast by expected close month, and the gap to a quota.

Each open lead's expected close date comes, in this order, from its BANT
timeline note when that starts or ends with an ISO date, from its custom field
`expected_close`, or from its creation plus the average sales cycle (never
earlier than now). The date is worked out and bucketed by month in SQL; only
the per-month, per-stage totals come back to Python.
"""

import math
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from pipectl.core.metrics import LEADS, overall_rates, stage_outcomes
from pipectl.core.periods import (
    DAY,
    PERIODS,
    add_months,
    date_in_text,
    month_label,
    month_start,
    period_bounds,
    raw,
    ts,
)
from pipectl.dates import iso, to_timestamp
from pipectl.errors import UsageError
from pipectl.money import to_number
from pipectl.storage.models import LeadField

FIELDS = LeadField.__table__
QUOTA_KEY = "quota"
EXPECTED_CLOSE_FIELD = "expected_close"
# Months shown one by one after the current one; anything further is "later".
HORIZON_MONTHS = 24
OVERDUE, LATER, UNSCHEDULED = "overdue", "later", "unscheduled"


def expected_close(now: datetime, cycle_days: float | None):
    """SQL: a lead's expected close instant (epoch seconds), or NULL when nothing says."""
    from_timeline = date_in_text(LEADS.c.timeline_note)
    from_field = date_in_text(FIELDS.c.value)
    fallback = None
    if cycle_days is not None:
        projected = raw(LEADS.c.created_at) + int(round(cycle_days * DAY))
        # A lead older than the usual cycle is due now, not in the past.
        fallback = case((projected > ts(now), projected), else_=ts(now))
    return func.coalesce(from_timeline, from_field, fallback)


def month_buckets(as_of: datetime) -> list:
    """The first day of each month shown: the as-of month and the horizon after it."""
    first = month_start(as_of.date())
    return [add_months(first, offset) for offset in range(HORIZON_MONTHS + 2)]


def bucket_of(expected, months: list):
    """SQL: -2 unscheduled, -1 overdue, 0..n-2 a month, n-1 later."""
    bounds = [to_timestamp(datetime.combine(day, datetime.min.time())) for day in months]
    whens = [(expected.is_(None), -2), (expected < bounds[0], -1)]
    whens += [(expected < bound, index) for index, bound in enumerate(bounds[1:])]
    return case(*whens, else_=len(bounds) - 1)


def bucket_name(index: int, months: list) -> str:
    if index == -2:
        return UNSCHEDULED
    if index == -1:
        return OVERDUE
    if index >= len(months) - 1:
        return LATER
    return month_label(months[index])


def open_pipeline(
    session: Session, now: datetime, cycle_days: float | None, months: list, period_end: datetime
) -> list[tuple]:
    """(bucket, stage id, leads, value cents, value cents due by `period_end`) for open leads."""
    expected = expected_close(now, cycle_days)
    query_from = LEADS.outerjoin(FIELDS, and_(FIELDS.c.lead_id == LEADS.c.id, FIELDS.c.key == EXPECTED_CLOSE_FIELD))
    dated = (
        select(LEADS.c.stage_id, LEADS.c.value_cents, expected.label("expected"))
        .select_from(query_from)
        .where(LEADS.c.status == "open")
        .subquery()
    )
    # The bucket is a column of its own subquery, so GROUP BY names it instead of repeating the
    # CASE (PostgreSQL would have to prove two copies with their own parameters equal).
    bucketed = select(dated, bucket_of(dated.c.expected, months).label("bucket")).subquery()
    due_value = func.sum(case((bucketed.c.expected < ts(period_end), bucketed.c.value_cents), else_=0))
    query = select(
        bucketed.c.bucket,
        bucketed.c.stage_id,
        func.count(),
        func.coalesce(func.sum(bucketed.c.value_cents), 0),
        func.coalesce(due_value, 0),
    ).group_by(bucketed.c.bucket, bucketed.c.stage_id)
    return [
        (index, stage_id, count, int(value), int(due)) for index, stage_id, count, value, due in session.execute(query)
    ]


def stage_win_rate(closed: tuple[int, int] | None) -> float | None:
    """Won ÷ closed among the leads that reached a stage; None without closed ones."""
    if not closed or not sum(closed):
        return None
    won, lost = closed
    return won / (won + lost)


def rate_for_people(share: float | None) -> float | None:
    return None if share is None else round(share, 4)


def saved_quota(session: Session) -> dict | None:
    from pipectl.core.settings import get_setting

    return get_setting(session, QUOTA_KEY)


def save_quota(session: Session, amount_cents: int, period: str) -> None:
    from pipectl.core.settings import put_setting

    put_setting(session, QUOTA_KEY, {"amount_cents": amount_cents, "period": period})


def resolve_quota(session: Session, amount_cents: int | None, period: str | None) -> tuple[int | None, str]:
    """The quota to measure against: the flags, else the saved one; and its period."""
    if period is not None and period not in PERIODS:
        raise UsageError(f"--period is month or quarter, not {period!r}.")
    if amount_cents is not None and amount_cents <= 0:
        raise UsageError("--quota must be more than zero.")
    saved = saved_quota(session) or {}
    amount = amount_cents if amount_cents is not None else saved.get("amount_cents")
    return amount, period or saved.get("period") or "month"


def compute_forecast(
    session: Session,
    now: datetime,
    *,
    as_of: datetime | None = None,
    quota_cents: int | None = None,
    period: str | None = None,
) -> dict:
    """Every figure of `pipectl forecast`, as the JSON it prints."""
    from pipectl.core.stages import open_stages

    as_of = as_of or now
    amount, period_name = resolve_quota(session, quota_cents, period)
    average_deal, win_rate, cycle_days = overall_rates(session)
    stages = open_stages(session)
    closed_by_stage = stage_outcomes(session)
    historical = {stage.id: stage_win_rate(closed_by_stage.get(stage.id)) for stage in stages}
    probability = {stage.id: stage.probability for stage in stages}
    months = month_buckets(as_of)
    start, end = period_bounds(as_of, period_name)
    groups = open_pipeline(session, now, cycle_days, months, end)
    notes: list[str] = []

    def weighted(stage_id: int, value: int) -> float:
        return value * probability.get(stage_id, 0) / 100

    def weighted_history(stage_id: int, value: int) -> float | None:
        share = historical.get(stage_id)
        return None if share is None else value * share

    by_month: dict[int, dict] = {}
    by_stage: dict[int, dict] = {}
    expected_in_period = 0.0
    for index, stage_id, count, value, due in groups:
        for table, key in ((by_month, index), (by_stage, stage_id)):
            entry = table.setdefault(
                key, {"leads": 0, "value": 0, "weighted": 0.0, "weighted_historical": 0.0, "has_history": False}
            )
            entry["leads"] += count
            entry["value"] += value
            entry["weighted"] += weighted(stage_id, value)
            by_history = weighted_history(stage_id, value)
            if by_history is not None:
                entry["weighted_historical"] += by_history
                entry["has_history"] = True
        expected_in_period += weighted(stage_id, due)

    def figures(entry: dict) -> dict:
        return {
            "leads": entry["leads"],
            "value": to_number(entry["value"]),
            "weighted": to_number(round(entry["weighted"])),
            "weighted_historical": to_number(round(entry["weighted_historical"])) if entry["has_history"] else None,
        }

    order = sorted(by_month, key=lambda index: (index == -2, index))
    month_rows = [{"month": bucket_name(index, months), **figures(by_month[index])} for index in order]
    stage_rows = [
        {
            "stage": stage.name,
            "probability": stage.probability,
            "historical_win_rate": rate_for_people(historical[stage.id]),
            **figures(
                by_stage.get(
                    stage.id,
                    {
                        "leads": 0,
                        "value": 0,
                        "weighted": 0.0,
                        "weighted_historical": 0.0,
                        "has_history": historical[stage.id] is not None,
                    },
                )
            ),
        }
        for stage in stages
    ]
    total = {"leads": 0, "value": 0, "weighted": 0.0, "weighted_historical": 0.0, "has_history": False}
    for entry in by_stage.values():
        for key in ("leads", "value", "weighted", "weighted_historical"):
            total[key] += entry[key]
        total["has_history"] |= entry["has_history"]
    if win_rate is None:
        notes.append(
            "not enough history: no lead has been won or lost yet, so there is no historical "
            "win rate and leads without a close date are unscheduled"
        )
    elif cycle_days is None:
        notes.append("not enough history: no lead has been won yet, so leads without a close date are unscheduled")

    quota = None
    if amount is not None:
        quota = quota_gap(
            session, amount, period_name, start, end, as_of, expected_in_period, average_deal, win_rate, notes
        )
    return {
        "as_of": iso(as_of),
        "open": figures(total),
        "stages": stage_rows,
        "months": month_rows,
        "quota": quota,
        "notes": notes,
    }


def quota_gap(
    session: Session,
    amount: int,
    period_name: str,
    start: datetime,
    end: datetime,
    as_of: datetime,
    expected: float,
    average_deal: int | None,
    win_rate: float | None,
    notes: list[str],
) -> dict:
    """Won so far in the period, expected from the pipeline, the gap and the new leads it takes."""
    # "So far" is up to the as-of moment; a date alone means the whole of that day.
    cutoff = as_of if as_of.time() != datetime.min.time() else datetime.combine(as_of.date(), datetime.max.time())
    won_query = select(func.coalesce(func.sum(LEADS.c.value_cents), 0), func.count()).where(
        LEADS.c.status == "won",
        raw(LEADS.c.closed_at) >= ts(start),
        raw(LEADS.c.closed_at) < ts(end),
        raw(LEADS.c.closed_at) <= to_timestamp(cutoff),
    )
    won_value, won_count = session.execute(won_query).one()
    won_value = int(won_value)
    expected_cents = round(expected)
    gap = max(amount - won_value - expected_cents, 0)
    needed = None
    if gap == 0:
        needed = 0
    elif average_deal and win_rate:
        needed = math.ceil(gap / (average_deal * win_rate))
    else:
        notes.append("not enough history to say how many new leads fill the gap (it needs won leads with a value)")
    return {
        "amount": to_number(amount),
        "period": period_name,
        "start": iso(start),
        "end": iso(end),
        "won": to_number(won_value),
        "won_leads": won_count,
        "expected": to_number(expected_cents),
        "gap": to_number(gap),
        "average_deal_size": to_number(average_deal),
        "win_rate": None if win_rate is None else round(win_rate, 4),
        "new_leads_needed": needed,
    }
