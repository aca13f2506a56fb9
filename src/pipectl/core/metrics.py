"""The pipeline's numbers: value per stage, win rate, cycle, velocity, conversion, bottleneck.

Every figure is an SQL aggregate over `leads` and the `activities` history;
Python only divides the handful of totals that come back. The period bounds
two things differently (and `--help` says so): funnel figures (conversion,
days in stage, sources) count leads *created* in it; outcome figures (won,
lost, win rate, deal size, cycle, lost reasons) count leads *closed* in it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, distinct, func, literal, or_, select
from sqlmodel import Session

from pipectl.core.periods import DAY, Window, raw, ts
from pipectl.dates import iso
from pipectl.folding import fold
from pipectl.money import to_number
from pipectl.storage.models import Activity, Lead, Stage

LEADS, ACTIVITIES, STAGES = Lead.__table__, Activity.__table__, Stage.__table__
# A lead reaches a stage when it is created in it or moved into it.
REACH_KINDS = ("created", "stage_change")
# Kinds that put a lead (back) into a stage: the start of a stay.
ENTRY_KINDS = ("created", "stage_change", "reopened", "restored")
# Kinds that end a stay in a stage (or start the next one).
STAGE_EVENT_KINDS = ENTRY_KINDS + ("won", "lost", "archived")
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
    return None if value is None else int(round(float(value)))


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
    ).where(LEADS.c.status.in_(("won", "lost")), scope.window.holds(LEADS.c.closed_at), scope.owned())
    won_count, lost_count, won_value, lost_value, average_deal, cycle_seconds = session.execute(query).one()
    return {
        "won": int(won_count),
        "lost": int(lost_count),
        "won_value_cents": int(won_value),
        "lost_value_cents": int(lost_value),
        "average_deal_cents": cents(average_deal),
        "cycle_seconds": None if cycle_seconds is None else float(cycle_seconds),
    }


def stage_history(session: Session, now: datetime, scope: Scope = Scope()) -> dict[int, dict]:
    """Per stage id, from the history: leads that reached it, advanced, were won or lost; time in it.

    One pass over the stage events of each lead in time order: `later_position`
    is the furthest stage the lead reached from this event on, so a lead that
    jumped from Discovery to Proposal reached Proposal and not Contact, and
    `next_at` (the lead's next stage event) ends each stay.
    """
    order = (ACTIVITIES.c.at, ACTIVITIES.c.id)
    reach_position = case((ACTIVITIES.c.kind.in_(REACH_KINDS), STAGES.c.position))
    events = (
        select(
            ACTIVITIES.c.lead_id,
            ACTIVITIES.c.kind,
            ACTIVITIES.c.to_stage_id,
            LEADS.c.status,
            STAGES.c.position,
            raw(ACTIVITIES.c.at).label("at"),
            func.lead(raw(ACTIVITIES.c.at)).over(partition_by=ACTIVITIES.c.lead_id, order_by=order).label("next_at"),
            func.max(reach_position)
            .over(partition_by=ACTIVITIES.c.lead_id, order_by=order, rows=(0, None))
            .label("later_position"),
        )
        .select_from(
            ACTIVITIES.join(LEADS, LEADS.c.id == ACTIVITIES.c.lead_id).outerjoin(
                STAGES, STAGES.c.id == ACTIVITIES.c.to_stage_id
            )
        )
        .where(scan_kind().in_(STAGE_EVENT_KINDS), scope.window.holds(LEADS.c.created_at), scope.owned())
        .subquery()
    )
    reach = events.c.kind.in_(REACH_KINDS)
    advanced = or_(events.c.later_position > events.c.position, events.c.status == "won")

    def leads_where(condition):
        return func.count(distinct(case((and_(reach, condition), events.c.lead_id))))

    query = (
        select(
            events.c.to_stage_id,
            leads_where(literal(True)),
            leads_where(advanced),
            leads_where(events.c.status == "won"),
            leads_where(events.c.status == "lost"),
            func.avg(func.coalesce(events.c.next_at, ts(now)) - events.c.at),
        )
        .where(events.c.kind.in_(ENTRY_KINDS), events.c.to_stage_id.is_not(None))
        .group_by(events.c.to_stage_id)
    )
    return {
        stage_id: {
            "reached": reached,
            "advanced": moved_on,
            "won": won,
            "lost": lost,
            "stay_seconds": None if stay is None else max(float(stay), 0.0),
        }
        for stage_id, reached, moved_on, won, lost, stay in session.execute(query)
    }


def scan_kind():
    """`activities.kind` as an expression no index covers (`kind || ''`).

    Stage events are about a third of all activities, too many for the kind
    index to pay: through it SQLite fetches rows in random order and then sorts
    them, where a scan of the (lead_id, at) index already yields them in the
    window's order. Twice as fast on 100,000 leads; harmless on PostgreSQL.
    """
    return ACTIVITIES.c.kind.concat("")


def stage_outcomes(session: Session) -> dict[int, tuple[int, int]]:
    """Stage id → (won, lost) among the leads that ever reached it: the historical win rate's parts."""
    reached = (
        select(ACTIVITIES.c.to_stage_id, ACTIVITIES.c.lead_id)
        .where(scan_kind().in_(REACH_KINDS), ACTIVITIES.c.to_stage_id.is_not(None))
        .distinct()
        .subquery()
    )
    query = (
        select(
            reached.c.to_stage_id,
            func.sum(case((LEADS.c.status == "won", 1), else_=0)),
            func.sum(case((LEADS.c.status == "lost", 1), else_=0)),
        )
        .join(LEADS, LEADS.c.id == reached.c.lead_id)
        .where(LEADS.c.status.in_(("won", "lost")))
        .group_by(reached.c.to_stage_id)
    )
    return {stage_id: (int(won), int(lost)) for stage_id, won, lost in session.execute(query)}


def lost_reasons(session: Session, scope: Scope = Scope()) -> list[dict]:
    """Lost reasons, most frequent first."""
    query = (
        select(LEADS.c.lost_reason, func.count().label("leads"))
        .where(LEADS.c.status == "lost", scope.window.holds(LEADS.c.closed_at), scope.owned())
        .group_by(LEADS.c.lost_reason)
    )
    rows = [{"reason": reason or "(no reason)", "leads": count} for reason, count in session.execute(query)]
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
    history = stage_history(session, now, scope)
    closed = outcomes(session, scope)
    notes: list[str] = []

    stage_rows = []
    for stage in stages:
        count, value = open_now.get(stage.id, (0, 0))
        seen = history.get(stage.id, {"reached": 0, "advanced": 0, "won": 0, "lost": 0, "stay_seconds": None})
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
                "average_days_in_stage": days(seen["stay_seconds"]),
            }
        )
    open_leads = sum(count for count, _ in open_now.values())
    open_value = sum(value for _, value in open_now.values())

    won, lost = closed["won"], closed["lost"]
    win_rate = rate(won, won + lost)
    average_deal = closed["average_deal_cents"]
    cycle_days = None if closed["cycle_seconds"] is None else closed["cycle_seconds"] / DAY
    if won + lost == 0:
        notes.append(NOT_ENOUGH_HISTORY + " (win rate, deal size, cycle and velocity need closed leads)")
    elif won == 0:
        notes.append("not enough history: no lead has been won yet (deal size, cycle and velocity need wins)")
    velocity_day = None
    if average_deal is not None and win_rate is not None and cycle_days:
        velocity_day = open_leads * average_deal * (won / (won + lost)) / cycle_days
    elif won and not cycle_days:
        notes.append("sales velocity needs a sales cycle longer than zero days")

    candidates = [row for row in stage_rows if row["conversion_next"] is not None]
    bottleneck = min(candidates, key=lambda row: row["conversion_next"]) if candidates else None
    if not candidates:
        notes.append("not enough history: no lead has reached a stage yet, so there is no conversion")

    return {
        "period": {
            "since": iso(scope.since),
            "until": iso(scope.until),
            "owner": scope.owner,
            "funnel_counts": "leads created in the period",
            "outcomes_count": "leads closed in the period",
        },
        "open": {"leads": open_leads, "value": to_number(open_value)},
        "stages": stage_rows,
        "won": {"leads": won, "value": to_number(closed["won_value_cents"])},
        "lost": {"leads": lost, "value": to_number(closed["lost_value_cents"])},
        "win_rate": win_rate,
        "average_deal_size": to_number(average_deal),
        "average_cycle_days": None if cycle_days is None else round(cycle_days, 1),
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


def overall_rates(session: Session) -> tuple[int | None, float | None, float | None]:
    """All-time average deal size (cents), win rate and cycle days: what forecasts lean on."""
    closed = outcomes(session)
    won, lost = closed["won"], closed["lost"]
    win_rate = won / (won + lost) if won + lost else None
    cycle_days = None if closed["cycle_seconds"] is None else closed["cycle_seconds"] / DAY
    return closed["average_deal_cents"], win_rate, cycle_days
