"""Scoring rules compiled to SQL expressions that SQLite and PostgreSQL both run.

The same expressions explain one lead (`score --explain`) and store the
scores of many at once (one UPDATE over a derived table: the leads a command
touched, or every open lead for `pipectl score`), so the stored score and the
explanation cannot disagree.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, case, exists, func, literal, null, or_, select, true, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from pipectl import clock
from pipectl.contract import BY_KEY, NUMBER_DATA_POINTS
from pipectl.core.scoring import (
    CUSTOM_PREFIX,
    HIGHEST,
    LOWEST,
    BehaviouralRule,
    DemographicRule,
    ScoreModel,
    ScoringRules,
    band,
    clamp,
    current_rules,
)
from pipectl.dates import to_timestamp
from pipectl.storage.models import Activity, Lead, LeadField

leads = Lead.__table__
activities = Activity.__table__
lead_fields = LeadField.__table__


def _number(rule: DemographicRule, value: Any) -> ColumnElement:
    # A number (the rule's validation made sure of it). Money is stored in whole cents; a rule
    # speaks in currency units.
    return literal(round(value * 100) if BY_KEY[rule.field].kind == "money" else value)


def _like_pattern(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def match_condition(rule: DemographicRule, lead_table) -> ColumnElement:
    """True when the lead matches the rule; NULL or false otherwise."""
    if not rule.field.startswith(CUSTOM_PREFIX):
        column = lead_table.c[BY_KEY[rule.field].stored]
        return value_condition(rule, column)
    # A custom data point is a row of lead_fields (absent when not set): one EXISTS per rule.
    key = rule.field[len(CUSTOM_PREFIX) :]
    same_key = and_(lead_fields.c.lead_id == lead_table.c.id, func.lower(lead_fields.c.key) == key.lower())
    if rule.matcher == "missing":
        return ~exists().where(same_key, lead_fields.c.value != "")
    return exists().where(same_key, value_condition(rule, lead_fields.c.value))


def value_condition(rule: DemographicRule, column) -> ColumnElement:
    """The rule's test on one value (a lead column, or a custom field's value)."""
    matcher = rule.matcher
    numeric = rule.field in NUMBER_DATA_POINTS
    if matcher == "present":
        return column.is_not(None) if numeric else and_(column.is_not(None), column != "")
    if matcher == "missing":
        return column.is_(None) if numeric else or_(column.is_(None), column == "")
    if matcher == "range":
        bounds = [column.is_not(None)]
        if rule.min is not None:
            bounds.append(column >= _number(rule, rule.min))
        if rule.max is not None:
            bounds.append(column <= _number(rule, rule.max))
        return and_(*bounds)
    if numeric:
        values = [rule.equals] if matcher == "equals" else rule.one_of or []
        return column.in_([_number(rule, value) for value in values])
    lowered = func.lower(column)
    if matcher == "equals":
        return lowered == func.lower(literal(rule.equals))
    if matcher == "one_of":
        return lowered.in_([func.lower(literal(value)) for value in rule.one_of or []])
    return or_(*(lowered.like(func.lower(literal(_like_pattern(glob))), escape="\\") for glob in rule.globs))


def demographic_points(rule: DemographicRule, lead_table) -> ColumnElement:
    return case((match_condition(rule, lead_table), rule.points), else_=0)


def occurrences(rule: BehaviouralRule, now: datetime, *, as_of: bool = False) -> ColumnElement:
    """How many of the lead's done activities count for the rule (an aggregate over `activities`).

    `as_of`: only activities up to `now` count (the score a lead had then, for `status`)."""
    condition = activities.c.kind == rule.kind
    since = rule.since(now)
    if since is not None:
        condition = and_(condition, activities.c.at >= bindparam(None, to_timestamp(since), type_=BigInteger))
    if as_of:
        condition = and_(condition, activities.c.at <= bindparam(None, to_timestamp(now), type_=BigInteger))
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def capped_points(rule: BehaviouralRule, count: ColumnElement) -> ColumnElement:
    """Points per occurrence, held to `cap` points in all (a cap on a negative rule bounds the loss)."""
    total = count * rule.points
    if rule.cap is None:
        return total
    if rule.points >= 0:
        return case((total > rule.cap, rule.cap), else_=total)
    return case((total < -rule.cap, -rule.cap), else_=total)


def _counted_activities(rules: list[BehaviouralRule], lead_id_column) -> list:
    return [
        activities.c.lead_id == lead_id_column,
        activities.c.done == true(),
        activities.c.kind.in_(sorted({rule.kind for rule in rules})),
    ]


def raw_score(rules: ScoringRules, lead_table, now: datetime, *, as_of: bool = False) -> ColumnElement:
    """The unclamped score of the row of `lead_table`: demographic cases plus one activity sub-select.

    `as_of`: the behavioural part as it stood at `now` (activities after it do not count yet)."""
    total: ColumnElement = literal(0)
    for rule in rules.demographic:
        total = total + demographic_points(rule, lead_table)
    if rules.behavioural:
        behaviour: ColumnElement = literal(0)
        for activity_rule in rules.behavioural:
            behaviour = behaviour + capped_points(activity_rule, occurrences(activity_rule, now, as_of=as_of))
        subquery = select(behaviour).where(*_counted_activities(rules.behavioural, lead_table.c.id))
        total = total + func.coalesce(subquery.scalar_subquery(), 0)
    return total


def clamped(expression: ColumnElement) -> ColumnElement:
    return case((expression < LOWEST, LOWEST), (expression > HIGHEST, HIGHEST), else_=expression)


def raw_scores(model: ScoreModel, now: datetime, lead_id: int | None = None, *, lead_ids: list[int] | None = None):
    """`(id, raw)` of every open lead (or of the leads `lead_ids`, whatever their status), as a CTE.

    MATERIALIZED (SQLite and PostgreSQL both take it) keeps the planner from copying the whole
    score expression into every place that reads `raw` (the clamp reads it three times).
    """
    scored = leads.alias("scored")
    query = select(scored.c.id.label("id"), raw_score(model.scoring, scored, now).label("raw"))
    if lead_ids is not None:
        query = query.where(scored.c.id.in_(lead_ids))
    else:
        query = query.where(scored.c.status == "open")
    if lead_id is not None:
        query = query.where(scored.c.id == lead_id)
    return query.cte("computed").prefix_with("MATERIALIZED")


def rescore_all(session: Session, model: ScoreModel, now: datetime) -> int:
    """One UPDATE: every open lead's score, and its nurture mark (set once when under, cleared above)."""
    _store(session, model, now, raw_scores(model, now))
    # Not the UPDATE's rowcount: pysqlite reports -1 for a statement that starts with WITH.
    return (
        session.connection()
        .execute(select(func.count()).select_from(leads).where(leads.c.status == "open"))
        .scalar_one()
    )


def rescore_ids(session: Session, model: ScoreModel, now: datetime, lead_ids: list[int]) -> None:
    """One UPDATE: the scores of the leads `lead_ids` (any status; only open leads get a nurture mark)."""
    _store(session, model, now, raw_scores(model, now, lead_ids=lead_ids))


def _store(session: Session, model: ScoreModel, now: datetime, computed) -> None:
    score = clamped(computed.c.raw)
    now_ts = bindparam("now_ts", to_timestamp(now), type_=BigInteger)
    # A closed or archived lead keeps the nurture mark it had: nurture is about open leads.
    nurture = case(
        (leads.c.status != "open", leads.c.nurture_since),
        (score < model.thresholds.nurture_below, func.coalesce(leads.c.nurture_since, now_ts)),
        else_=null(),
    )
    statement = update(leads).where(leads.c.id == computed.c.id).values(score=score, nurture_since=nurture)
    session.connection().execute(statement)


def explain(session: Session, lead_id: int, *, now: datetime | None = None) -> dict:
    """`{id, score, raw, band, breakdown: [{rule, points, detail}]}`; the points add up to `raw`."""
    model = current_rules(session)
    parts = lead_breakdown(session, lead_id, model.scoring, now or clock.now())
    raw = sum(part["points"] for part in parts)
    score = clamp(raw)
    return {
        "id": lead_id,
        "score": score,
        "raw": raw,
        "band": band(score, model.thresholds),
        "breakdown": [part for part in parts if part["points"] != 0],
    }


def lead_breakdown(session: Session, lead_id: int, rules: ScoringRules, now: datetime) -> list[dict]:
    """Every rule's points for one lead, in rule order: `[{rule, points, detail}]` (two small queries)."""
    parts = []
    if rules.demographic:
        row = (
            session.connection()
            .execute(
                select(*(demographic_points(rule, leads) for rule in rules.demographic)).where(leads.c.id == lead_id)
            )
            .first()
        )
        values = list(row) if row is not None else [0] * len(rules.demographic)
        for rule, points in zip(rules.demographic, values, strict=True):
            parts.append({"rule": rule.name, "points": int(points), "detail": rule.describe()})
    if rules.behavioural:
        columns = []
        for activity_rule in rules.behavioural:
            occurred = occurrences(activity_rule, now)
            columns += [occurred, capped_points(activity_rule, occurred)]
        counted = (
            session.connection().execute(select(*columns).where(*_counted_activities(rules.behavioural, lead_id))).one()
        )
        for index, activity_rule in enumerate(rules.behavioural):
            count, points = int(counted[2 * index] or 0), int(counted[2 * index + 1] or 0)
            detail = f"{count} × {activity_rule.points:+d}"
            if activity_rule.cap is not None and abs(count * activity_rule.points) > activity_rule.cap:
                detail += f", capped at {activity_rule.cap}"
            if activity_rule.within:
                detail += f" (last {activity_rule.within})"
            parts.append({"rule": activity_rule.name, "points": points, "detail": detail})
    return parts
