"""`metrics --by`: per source, owner, stage, tag, industry or custom field, what became of the leads.

A breakdown is about a cohort: the leads created in the period (all of them
without one), grouped, with how many are won, lost, still open or archived
now, the lead → won conversion (won ÷ created) beside the win rate (won ÷
closed), the won value (total, and average over the won leads that have a
value), and the sales cycle of the won ones (mean, median, 90th percentile).
Each figure is an SQL aggregate, one row per group, on SQLite and PostgreSQL
alike; the median and the percentile come from `row_number()` over each
group's cycles, never from a Python loop over leads.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, literal_column, or_, select
from sqlmodel import Session, col

from pipectl.contract import FIELD_KEY, FIELD_PREFIX
from pipectl.core.funnel import EVERY_LEAD, REACH_KINDS
from pipectl.core.periods import DAY, raw
from pipectl.errors import UsageError
from pipectl.money import to_number
from pipectl.storage.models import Activity, Lead, LeadField, LeadTag, Stage

LEADS, ACTIVITIES, TAGS, FIELDS = Lead.__table__, Activity.__table__, LeadTag.__table__, LeadField.__table__
DIMENSIONS = ("source", "owner", "stage", "tag", "industry")
# Rates from fewer closed leads than this carry a caveat: one lucky deal is not a trend.
FEW_CLOSED = 5
UNKNOWN_STAGE = "(unknown)"


def check_by(text: str) -> str:
    """`--by` as given: a dimension or `field:NAME`; anything else is bad usage (exit 2)."""
    wanted = text.strip()
    if wanted.lower() in DIMENSIONS:
        return wanted.lower()
    if wanted.lower().startswith(FIELD_PREFIX):
        key = wanted[len(FIELD_PREFIX) :].strip()
        if FIELD_KEY.match(key):
            return FIELD_PREFIX + key
        raise UsageError(f"{key!r} is not a custom field name (letters, digits, space, _ . -).")
    raise UsageError(f"{text!r} is not a breakdown: use {', '.join(DIMENSIONS)} or field:NAME.")


def cycle_seconds():
    """SQL: a closed lead's sales cycle, created to closed, in seconds."""
    return raw(LEADS.c.closed_at) - raw(LEADS.c.created_at)


def has_known_path():
    """SQL: the lead's history says which stage it was in (see core.funnel)."""
    return exists(
        select(ACTIVITIES.c.id).where(
            ACTIVITIES.c.lead_id == LEADS.c.id,
            ACTIVITIES.c.kind.in_(REACH_KINDS),
            ACTIVITIES.c.to_stage_id.is_not(None),
        )
    )


def grouping(by: str):
    """(FROM clause, group key, label) for a dimension; the label is what a person reads."""
    if by in ("source", "owner"):
        # Grouped on the folded key, so "Web" and "web" are one source, as everywhere else.
        return LEADS, LEADS.c[f"{by}_key"], func.min(LEADS.c[by])
    if by == "industry":
        return LEADS, LEADS.c.industry, func.min(LEADS.c.industry)
    if by == "tag":
        joined = LEADS.outerjoin(TAGS, TAGS.c.lead_id == LEADS.c.id)
        return joined, TAGS.c.tag, func.min(TAGS.c.tag)
    if by == "stage":
        # A closed lead without a known path was never really in the stage it is filed under.
        unknown = and_(LEADS.c.status != "open", ~has_known_path())
        key = case((unknown, None), else_=LEADS.c.stage_id)
        return LEADS, key, func.min(key)
    key_name = by[len(FIELD_PREFIX) :]
    joined = LEADS.outerjoin(FIELDS, and_(FIELDS.c.lead_id == LEADS.c.id, FIELDS.c.key == key_name))
    return joined, FIELDS.c.value, func.min(FIELDS.c.value)


# What `counts_query` sums per group; sums (never averages), so groups add up to their total.
SUMS = ("created", "won", "lost", "open", "archived", "won_value", "valued_won", "cycle_sum", "cycle_count")


def counts_query(from_clause, key, label, where):
    """Per group: created, won, lost, open, archived; won value and how many won had one; cycles' sum."""
    status = LEADS.c.status
    won = status == "won"
    cycle = case((won, cycle_seconds()))

    def number(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return (
        select(
            key.label("group_key"),
            label.label("label"),
            func.count().label("created"),
            number(won).label("won"),
            number(status == "lost").label("lost"),
            number(status == "open").label("open"),
            number(status == "archived").label("archived"),
            func.coalesce(func.sum(case((won, LEADS.c.value_cents))), 0).label("won_value"),
            func.count(case((won, LEADS.c.value_cents))).label("valued_won"),
            func.coalesce(func.sum(cycle), 0).label("cycle_sum"),
            func.count(cycle).label("cycle_count"),
        )
        .select_from(from_clause)
        .where(where)
        .group_by(key)
    )


def cycle_quantiles(session: Session, from_clause, key, where) -> dict:
    """Group key → (median, 90th percentile) of the won leads' cycles, in seconds (`key` None: one group).

    The median is the middle cycle (the mean of the two middle ones for an even count); the
    90th percentile is the nearest-rank one: the cycle at rank ⌈0.9 n⌉.
    """
    cycle = cycle_seconds()
    group_key = literal_column("0") if key is None else key
    ranked = (
        select(
            group_key.label("group_key"),
            cycle.label("cycle"),
            func.row_number().over(partition_by=key, order_by=cycle).label("rank"),
            func.count().over(partition_by=key).label("n"),
        )
        .select_from(from_clause)
        .where(where, LEADS.c.status == "won", LEADS.c.closed_at.is_not(None))
        .subquery()
    )
    rank, n = ranked.c.rank, ranked.c.n
    middle = or_(rank == (n + 1) // 2, rank == (n + 2) // 2)
    query = select(
        ranked.c.group_key,
        func.avg(case((middle, ranked.c.cycle))),
        func.max(case((rank == (9 * n + 9) // 10, ranked.c.cycle))),
    ).group_by(ranked.c.group_key)
    return {group_key: (median, p90) for group_key, median, p90 in session.execute(query)}


def days(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / DAY, 1)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(counts: dict, quantiles: tuple | None) -> dict:
    """One group's figures (from its SUMS) as the JSON prints them."""
    created, won, lost = counts["created"], counts["won"], counts["lost"]
    median, p90 = quantiles or (None, None)
    closed = won + lost
    average_won = round(counts["won_value"] / counts["valued_won"]) if counts["valued_won"] else None
    mean = counts["cycle_sum"] / counts["cycle_count"] if counts["cycle_count"] else None
    return {
        "created": created,
        "won": won,
        "lost": lost,
        "open": counts["open"],
        "archived": counts["archived"],
        "conversion": rate(won, created),
        "win_rate": rate(won, closed),
        "won_value": to_number(counts["won_value"]),
        "average_won_value": to_number(average_won),
        "won_without_value": won - counts["valued_won"],
        "cycle_mean_days": days(mean),
        "cycle_median_days": days(median),
        "cycle_p90_days": days(p90),
        "few_closed": 0 < closed < FEW_CLOSED,
    }


def _sums(row) -> dict:
    return {name: int(getattr(row, name)) for name in SUMS}


def cohort(session: Session, where=EVERY_LEAD, *, cycles: bool = True) -> dict:
    """The figures of every lead `where` picks, as one group (the headline's conversion, which leaves out
    the cycle's median: `cycles=False`)."""
    whole: ColumnElement[Any] = literal_column("0")
    counts = _sums(session.execute(counts_query(LEADS, whole, whole, where).group_by(None)).one())
    quantiles = cycle_quantiles(session, LEADS, None, where) if cycles else {}
    return figures(counts, next(iter(quantiles.values()), None))


def breakdown(session: Session, by: str, where=EVERY_LEAD) -> tuple[list[dict], dict]:
    """One row per group of `by` among the leads `where` picks, most leads first, and the total of all of
    them; no group is dropped. A lead is in one group of each dimension but tags, so the total is the
    groups' sum there (one pass over the leads fewer); for tags it is counted on its own."""
    from_clause, key, label = grouping(by)
    quantiles = cycle_quantiles(session, from_clause, key, where)
    names = {}
    if by == "stage":
        names = dict(session.execute(select(col(Stage.id), col(Stage.name))).all())
    rows = []
    whole = dict.fromkeys(SUMS, 0)
    for found in session.execute(counts_query(from_clause, key, label, where)):
        counts = _sums(found)
        for key_name in SUMS:
            whole[key_name] += counts[key_name]
        group: str | None = found.label
        if by == "stage":
            group = UNKNOWN_STAGE if found.group_key is None else names.get(found.group_key)
        rows.append({"group": group, **figures(counts, quantiles.get(found.group_key))})
    if by == "tag":
        total = cohort(session, where)
    else:
        total = figures(whole, next(iter(cycle_quantiles(session, LEADS, None, where).values()), None))
    if by == "stage":
        return stage_order(session, rows), total
    # Sorted here, one row per group, so a NULL group sorts the same on every database.
    return sorted(rows, key=lambda row: (-row["created"], row["group"] is None, str(row["group"] or ""))), total


def stage_order(session: Session, rows: list[dict]) -> list[dict]:
    """A stage breakdown in pipeline order: open stages first, then removed ones, then unknown."""
    order = {
        name: position
        for name, position in session.execute(
            select(col(Stage.name), col(Stage.position)).where(col(Stage.removed) == false())
        )
    }
    return sorted(rows, key=lambda row: (row["group"] == UNKNOWN_STAGE, order.get(row["group"], 99)))
