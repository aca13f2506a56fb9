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

from pipectl.core.funnel import EVERY_LEAD, stage_outcomes
from pipectl.core.metrics import LEADS, Scope, overall_rates
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
from pipectl.storage.models import LeadField, stored_id

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
        projected = raw(LEADS.c.created_at) + round(cycle_days * DAY)
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
    session: Session, now: datetime, cycle_days: float | None, months: list, period_end: datetime, owned=EVERY_LEAD
) -> list[tuple]:
    """(bucket, stage id, leads, value cents, value cents due by `period_end`, leads without a value,
    value cents weighted by the learned win probability, leads that have one) for open leads."""
    expected = expected_close(now, cycle_days)
    query_from = LEADS.outerjoin(FIELDS, and_(FIELDS.c.lead_id == LEADS.c.id, FIELDS.c.key == EXPECTED_CLOSE_FIELD))
    dated = (
        select(LEADS.c.stage_id, LEADS.c.value_cents, LEADS.c.win_probability, expected.label("expected"))
        .select_from(query_from)
        .where(LEADS.c.status == "open", owned)
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
        func.count() - func.count(bucketed.c.value_cents),
        # The learned win probability (`pipectl predict`) weighs each lead by itself.
        func.coalesce(func.sum(bucketed.c.value_cents * bucketed.c.win_probability), 0.0),
        func.count(bucketed.c.win_probability),
    ).group_by(bucketed.c.bucket, bucketed.c.stage_id)
    return [
        (index, stage_id, count, int(value), int(due), int(without), float(by_model), int(predicted))
        for index, stage_id, count, value, due, without, by_model, predicted in session.execute(query)
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
    owner: str | None = None,
    by: str | None = None,
    stage_history: bool = True,
) -> dict:
    """Every figure of `pipectl forecast`, as the JSON it prints.

    `owner`: only that owner's leads, open and closed (their win rates, deal size and cycle too).
    `by` (`source` or `owner`): the open pipeline grouped, in `groups`.
    `stage_history=False` skips each stage's own win rate (a pass over every lead's path, the costliest
    part), for a caller that shows neither those rates nor the "by history" figures (`status`): every
    stage then stands on the overall win rate, and the other figures are unchanged.
    """
    from pipectl.core.stages import open_stages

    as_of = as_of or now
    if owner is not None and quota_cents is None:
        # The saved quota is the whole pipeline's; one owner's gap needs that owner's quota.
        amount, period_name = None, resolve_quota(session, None, period)[1]
    else:
        amount, period_name = resolve_quota(session, quota_cents, period)
    scope = Scope(owner=owner)
    average_deal, win_rate, cycle_days = overall_rates(session, scope)
    stages = open_stages(session)
    closed_by_stage = stage_outcomes(session, scope.owned()) if stage_history else {}
    own_rate = {stored_id(stage): stage_win_rate(closed_by_stage.get(stored_id(stage))) for stage in stages}
    # Where a stage has no closed history, the overall win rate stands in (and a note says so), so that
    # the "by history" total always covers every open lead, or none when there is no history at all.
    historical = {stage_id: win_rate if share is None else share for stage_id, share in own_rate.items()}
    probability = {stored_id(stage): stage.probability for stage in stages}
    months = month_buckets(as_of)
    start, end = period_bounds(as_of, period_name)
    groups = open_pipeline(session, now, cycle_days, months, end, scope.owned())
    notes: list[str] = []

    def weighted(stage_id: int, value: int) -> float:
        return value * probability.get(stage_id, 0) / 100

    def weighted_history(stage_id: int, value: int) -> float | None:
        share = historical.get(stage_id, win_rate)
        return None if share is None else value * share

    def empty() -> dict:
        return {
            "leads": 0,
            "value": 0,
            "without_value": 0,
            "weighted": 0.0,
            "weighted_historical": 0.0,
            "has_history": win_rate is not None,
            "weighted_model": 0.0,
            "predicted": 0,
        }

    by_month: dict[int, dict] = {}
    by_stage: dict[int, dict] = {}
    total = empty()
    expected_in_period = 0.0
    for index, stage_id, count, value, due, without, by_model, predicted in groups:
        for entry in (by_month.setdefault(index, empty()), by_stage.setdefault(stage_id, empty()), total):
            entry["weighted_model"] += by_model
            entry["predicted"] += predicted
            entry["leads"] += count
            entry["value"] += value
            entry["without_value"] += without
            entry["weighted"] += weighted(stage_id, value)
            by_history = weighted_history(stage_id, value)
            if by_history is not None:
                entry["weighted_historical"] += by_history
        expected_in_period += weighted(stage_id, due)

    def figures(entry: dict) -> dict:
        return {
            "leads": entry["leads"],
            "value": to_number(entry["value"]),
            "without_value": entry["without_value"],
            "weighted": to_number(round(entry["weighted"])),
            "weighted_historical": to_number(round(entry["weighted_historical"])) if entry["has_history"] else None,
            # None until a win model is trained (`pipectl predict`): each lead's value × its probability.
            "weighted_model": to_number(round(entry["weighted_model"])) if total["predicted"] else None,
        }

    order = sorted(by_month, key=lambda index: (index == -2, index))
    month_rows = [{"month": bucket_name(index, months), **figures(by_month[index])} for index in order]
    stage_rows = [
        {
            "stage": stage.name,
            "probability": stage.probability,
            "historical_win_rate": rate_for_people(own_rate[stored_id(stage)]),
            "win_rate_used": rate_for_people(historical[stored_id(stage)]),
            "win_rate_from": "stage"
            if own_rate[stored_id(stage)] is not None
            else "overall"
            if win_rate is not None
            else None,
            **figures(by_stage.get(stored_id(stage), empty())),
        }
        for stage in stages
    ]
    if win_rate is None:
        notes.append(
            "not enough history: no lead has been won or lost yet, so there is no historical "
            "win rate and leads without a close date are unscheduled"
        )
    else:
        fallback = [row["stage"] for row in stage_rows if row["win_rate_from"] == "overall"]
        if fallback:
            notes.append(
                f"no closed lead with a known path reached {', '.join(fallback)}: "
                f'their "by history" figures use the overall win rate ({win_rate * 100:.0f}%)'
            )
        if cycle_days is None:
            notes.append("not enough history: no lead has been won yet, so leads without a close date are unscheduled")
    if total["without_value"]:
        notes.append(
            f"{total['without_value']} of the {total['leads']} open lead(s) have no value: they add "
            "nothing to the value or the weighted figures"
        )
    if owner is not None:
        notes.append(f"only the leads of {owner}: open, won and lost (win rates, deal size and cycle too)")

    quota = None
    if amount is not None:
        quota = quota_gap(
            session,
            amount,
            period_name,
            start,
            end,
            as_of,
            expected_in_period,
            average_deal,
            win_rate,
            notes,
            scope.owned(),
        )
    document = {
        "as_of": iso(as_of),
        "owner": owner,
        "open": figures(total),
        "stages": stage_rows,
        "months": month_rows,
        "quota": quota,
        "notes": notes,
    }
    if by is not None:
        from pipectl.core.forecast_groups import forecast_groups

        document["by"] = by
        document["groups"] = forecast_groups(session, by, probability, historical, win_rate, scope.owned())
    return document


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
    owned=EVERY_LEAD,
) -> dict:
    """Won so far in the period, expected from the pipeline, the gap and the new leads it takes."""
    # "So far" is up to the as-of moment; a date alone means the whole of that day.
    cutoff = as_of if as_of.time() != datetime.min.time() else datetime.combine(as_of.date(), datetime.max.time())
    won_query = select(func.coalesce(func.sum(LEADS.c.value_cents), 0), func.count()).where(
        LEADS.c.status == "won",
        raw(LEADS.c.closed_at) >= ts(start),
        raw(LEADS.c.closed_at) < ts(end),
        raw(LEADS.c.closed_at) <= to_timestamp(cutoff),
        owned,
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
