"""The pipeline's numbers: value per stage, win rate, cycle, velocity, conversion, bottleneck.

Every figure is an SQL aggregate over `leads` and the `activities` history;
Python only divides the handful of totals that come back. The period bounds
two things differently (and `--help` says so): funnel figures (conversion,
days in stage, sources) and the lead → won conversion count leads *created*
in it; outcome figures (won, lost, win rate, deal size, cycle, lost reasons)
count leads *closed* in it. The stage figures come from `core.funnel` (known
paths only); the breakdowns and the cycle's median from `core.breakdowns`.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session

from pipectl.core.breakdowns import FEW_CLOSED, cohort, cycle_quantiles
from pipectl.core.funnel import (
    LEADS,
    funnel_counts,
    path_counts,
    stays,
    unknown_path_note,
)
from pipectl.core.periods import DAY, Window, raw
from pipectl.dates import iso
from pipectl.folding import fold
from pipectl.money import to_number
from pipectl.storage.models import stored_id

NO_REASON = "not given"
NOT_ENOUGH_HISTORY = "not enough history: no lead has been won or lost yet"


@dataclass(frozen=True)
class Scope:
    """Which leads the figures are about: a period and an owner."""

    since: datetime | None = None
    until: datetime | None = None
    owner: str | None = None

    @property
    def window(self) -> Window:
        return Window(self.since, self.until)

    def owned(self):
        if not self.owner:
            return literal(True)
        return LEADS.c.owner_key == fold(self.owner)


def rate(part: int | None, whole: int | None) -> float | None:
    """part ÷ whole rounded for people, or None when there is nothing to divide by."""
    if not whole:
        return None
    return round((part or 0) / whole, 4)


def cents(value) -> int | None:
    return None if value is None else round(float(value))


def money(value) -> float | None:
    return to_number(cents(value))


def days(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / DAY, 1)


def open_by_stage(session: Session, scope: Scope = Scope()) -> dict[int, tuple[int, int]]:
    """Open leads and open value (cents) per stage id, right now."""
    query = (
        select(LEADS.c.stage_id, func.count(), func.coalesce(func.sum(LEADS.c.value_cents), 0))
        .where(LEADS.c.status == "open", scope.owned())
        .group_by(LEADS.c.stage_id)
    )
    return {stage_id: (count, int(total)) for stage_id, count, total in session.execute(query)}


def outcomes(session: Session, scope: Scope = Scope()) -> dict:
    """Won and lost leads closed in the period: counts, values, average deal size and cycle."""
    won = LEADS.c.status == "won"
    lost = LEADS.c.status == "lost"
    query = select(
        func.coalesce(func.sum(case((won, 1), else_=0)), 0),
        func.coalesce(func.sum(case((lost, 1), else_=0)), 0),
        func.coalesce(func.sum(case((won, LEADS.c.value_cents), else_=0)), 0),
        func.coalesce(func.sum(case((lost, LEADS.c.value_cents), else_=0)), 0),
        func.avg(case((won, LEADS.c.value_cents))),
        func.avg(case((won, raw(LEADS.c.closed_at) - raw(LEADS.c.created_at)))),
        func.coalesce(func.sum(case((and_(won, LEADS.c.value_cents.is_(None)), 1), else_=0)), 0),
    ).where(LEADS.c.status.in_(("won", "lost")), scope.window.holds(LEADS.c.closed_at), scope.owned())
    won_count, lost_count, won_value, lost_value, average_deal, cycle_seconds, without_value = session.execute(
        query
    ).one()
    return {
        "won": int(won_count),
        "lost": int(lost_count),
        "won_value_cents": int(won_value),
        "lost_value_cents": int(lost_value),
        "average_deal_cents": cents(average_deal),
        "cycle_seconds": None if cycle_seconds is None else float(cycle_seconds),
        "won_without_value": int(without_value),
    }


def lost_reasons(session: Session, scope: Scope = Scope()) -> list[dict]:
    """Lost reasons, most frequent first."""
    query = (
        select(LEADS.c.lost_reason, func.count().label("leads"))
        .where(LEADS.c.status == "lost", scope.window.holds(LEADS.c.closed_at), scope.owned())
        .group_by(LEADS.c.lost_reason)
    )
    rows = [{"reason": reason or NO_REASON, "leads": count} for reason, count in session.execute(query)]
    return sorted(rows, key=lambda item: (-item["leads"], item["reason"]))


def sources(session: Session, scope: Scope = Scope()) -> list[dict]:
    """Leads created in the period by source, with each source's win rate (won ÷ closed)."""
    query = (
        select(
            LEADS.c.source,
            func.count(),
            func.sum(case((LEADS.c.status == "won", 1), else_=0)),
            func.sum(case((LEADS.c.status == "lost", 1), else_=0)),
        )
        .where(scope.window.holds(LEADS.c.created_at), scope.owned())
        .group_by(LEADS.c.source)
    )
    rows = [
        {
            "source": name or "(none)",
            "leads": count,
            "won": int(won),
            "lost": int(lost),
            "win_rate": rate(int(won), int(won) + int(lost)),
        }
        for name, count, won, lost in session.execute(query)
    ]
    # Sorted here (one row per source) so NULL sources sort the same on every database.
    return sorted(rows, key=lambda item: (-item["leads"], item["source"]))


def compute_metrics(session: Session, now: datetime, scope: Scope = Scope()) -> dict:
    """Every figure of `pipectl metrics`, as the JSON it prints."""
    from pipectl.core.stages import open_stages

    stages = open_stages(session)
    open_now = open_by_stage(session, scope)
    created_in = and_(scope.window.holds(LEADS.c.created_at), scope.owned())
    funnel = funnel_counts(session, created_in)
    stay = stays(session, now, created_in)
    paths = path_counts(session, created_in, funnel.get(stored_id(stages[0]), {}).get("reached", 0) if stages else 0)
    closed = outcomes(session, scope)
    closed_in = and_(LEADS.c.status.in_(("won", "lost")), scope.window.holds(LEADS.c.closed_at), scope.owned())
    median, p90 = cycle_quantiles(session, LEADS, None, closed_in).get(0, (None, None))
    notes: list[str] = []

    stage_rows = []
    for stage in stages:
        count, value = open_now.get(stored_id(stage), (0, 0))
        seen = funnel.get(stored_id(stage), {"reached": 0, "advanced": 0, "won": 0, "lost": 0})
        stage_rows.append(
            {
                "stage": stage.name,
                "position": stage.position,
                "probability": stage.probability,
                "open_leads": count,
                "open_value": to_number(value),
                "weighted_value": to_number(round(value * stage.probability / 100)),
                "reached": seen["reached"],
                "advanced": seen["advanced"],
                "won": seen["won"],
                "lost": seen["lost"],
                "conversion_next": rate(seen["advanced"], seen["reached"]),
                "conversion_won": rate(seen["won"], seen["reached"]),
                "win_rate": rate(seen["won"], seen["won"] + seen["lost"]),
                "average_days_in_stage": days(stay.get(stored_id(stage))),
            }
        )
    open_leads = sum(count for count, _ in open_now.values())
    open_value = sum(value for _, value in open_now.values())
    if paths["unknown"]:
        notes.append(unknown_path_note(paths["unknown"]))

    won, lost = closed["won"], closed["lost"]
    win_rate = rate(won, won + lost)
    average_deal = closed["average_deal_cents"]
    cycle_days = None if closed["cycle_seconds"] is None else closed["cycle_seconds"] / DAY
    if won + lost == 0:
        notes.append(NOT_ENOUGH_HISTORY + " (win rate, deal size, cycle and velocity need closed leads)")
    elif won == 0:
        notes.append("not enough history: no lead has been won yet (deal size, cycle and velocity need wins)")
    elif won + lost < FEW_CLOSED:
        notes.append(
            f"the win rate, deal size, cycle and velocity rest on {won + lost} closed lead(s), "
            f"fewer than {FEW_CLOSED}: too few to rely on"
        )
    if closed["won_without_value"]:
        with_value = won - closed["won_without_value"]
        notes.append(
            f"the average deal is worked out from the {with_value} won lead(s) with a value; "
            f"{closed['won_without_value']} had none"
        )
    velocity_day = None
    if average_deal is not None and win_rate is not None and cycle_days:
        velocity_day = open_leads * average_deal * (won / (won + lost)) / cycle_days
    elif won and not cycle_days:
        notes.append("sales velocity needs a sales cycle longer than zero days")

    # A stage is judged only once some lead that reached it has closed: a stage whose leads are all
    # still open (or were never tracked through it) converts at 0 % only because nothing has ended yet.
    candidates = [row for row in stage_rows if row["conversion_next"] is not None and row["won"] + row["lost"]]
    bottleneck = min(candidates, key=lambda row: row["conversion_next"]) if candidates else None
    if not any(row["reached"] for row in stage_rows):
        notes.append("not enough history: no lead has reached a stage yet, so there is no conversion")
    elif not candidates:
        notes.append("no bottleneck yet: no lead whose path is known has been won or lost")

    cohort_figures = cohort(session, created_in, cycles=False)
    return {
        "period": {
            "since": iso(scope.since),
            "until": iso(scope.until),
            "owner": scope.owner,
            "funnel_counts": "leads created in the period",
            "outcomes_count": "leads closed in the period",
            "conversion_counts": "leads created in the period, by what became of them",
        },
        "open": {"leads": open_leads, "value": to_number(open_value)},
        "stages": stage_rows,
        "paths": paths,
        "won": {
            "leads": won,
            "value": to_number(closed["won_value_cents"]),
            "without_value": closed["won_without_value"],
        },
        "lost": {"leads": lost, "value": to_number(closed["lost_value_cents"])},
        "win_rate": win_rate,
        "conversion": {key: cohort_figures[key] for key in ("created", "won", "lost", "open", "archived")}
        | {"rate": cohort_figures["conversion"]},
        "few_closed": 0 < won + lost < FEW_CLOSED,
        "average_deal_size": to_number(average_deal),
        "average_cycle_days": None if cycle_days is None else round(cycle_days, 1),
        "cycle": {
            "won_leads": won,
            "mean_days": None if cycle_days is None else round(cycle_days, 1),
            "median_days": days(median),
            "p90_days": days(p90),
        },
        "velocity": {
            "per_day": None if velocity_day is None else money(velocity_day),
            "per_month": None if velocity_day is None else money(velocity_day * 30),
        },
        "bottleneck": None
        if bottleneck is None
        else {"stage": bottleneck["stage"], "conversion_next": bottleneck["conversion_next"]},
        "lost_reasons": lost_reasons(session, scope),
        "sources": sources(session, scope),
        "notes": notes,
    }


def compute_breakdown(session: Session, by: str, scope: Scope = Scope()) -> dict:
    """`pipectl metrics --by`: the groups of the leads created in the period, and the whole as a total."""
    from pipectl.core.breakdowns import breakdown, check_by

    by = check_by(by)
    created_in = and_(scope.window.holds(LEADS.c.created_at), scope.owned())
    groups, total = breakdown(session, by, created_in)
    notes = []
    few = [row for row in groups if row["few_closed"]]
    if few:
        notes.append(
            f"rates marked * rest on fewer than {FEW_CLOSED} closed leads: too few to rely on ({len(few)} group(s))"
        )
    without = total["won_without_value"]
    if without:
        notes.append(f"average won values leave out the {without} won lead(s) without a value")
    if by == "tag":
        notes.append("a lead with several tags counts under each; leads without tags are under (none)")
    return {
        "by": by,
        "period": {
            "since": iso(scope.since),
            "until": iso(scope.until),
            "owner": scope.owner,
            "counts": "leads created in the period, by what became of them",
        },
        "groups": groups,
        "total": total,
        "notes": notes,
    }


def overall_rates(session: Session, scope: Scope = Scope()) -> tuple[int | None, float | None, float | None]:
    """All-time average deal size (cents), win rate and cycle days: what forecasts lean on."""
    closed = outcomes(session, scope)
    won, lost = closed["won"], closed["lost"]
    win_rate = won / (won + lost) if won + lost else None
    cycle_days = None if closed["cycle_seconds"] is None else closed["cycle_seconds"] / DAY
    return closed["average_deal_cents"], win_rate, cycle_days
