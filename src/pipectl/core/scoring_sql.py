"""Scoring rules compiled to SQL expressions that SQLite and PostgreSQL both run.

The same expressions explain one lead (`score --explain`) and store the
scores of many at once (one UPDATE over a derived table: the leads a command
touched, or every open lead for `pipectl score`), so the stored score and the
explanation cannot disagree.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, case, func, literal, null, select, true, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from pipectl import clock
from pipectl.core.condition_sql import capped, condition_sql, day_of, number_of, units
from pipectl.core.conditions import Condition, number_text
from pipectl.core.scoring import (
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


def demographic_points(rule: DemographicRule, lead_table) -> ColumnElement:
    """The rule's points for the row: its points when the condition holds, or in proportion to a number."""
    if rule.per is None:
        return case((condition_sql(rule, lead_table), rule.points), else_=0)
    assert rule.field is not None, "per reads a field"
    total = units(number_of(rule.field, lead_table), rule.per) * rule.points
    proportional = capped(total, rule.points, rule.cap)
    if rule.matcher is None:
        return proportional
    return case((condition_sql(rule, lead_table), proportional), else_=0)


def field_points(rule: BehaviouralRule, lead_table, now: datetime) -> ColumnElement:
    """A behavioural rule over a field: points once for a recent date, or per one of a count (capped)."""
    assert rule.field is not None, "a field rule"
    since = rule.since(now)
    if since is not None:
        return case((day_of(rule.field, lead_table) >= literal(since.date().isoformat()), rule.points), else_=0)
    return capped(units(number_of(rule.field, lead_table), 1) * rule.points, rule.points, rule.cap)


def field_number(rule: DemographicRule | BehaviouralRule, lead_table) -> ColumnElement:
    """What the explanation shows beside a field rule's points: the number or the day it read."""
    assert rule.field is not None, "a field rule"
    if isinstance(rule, BehaviouralRule) and rule.within is not None:
        return day_of(rule.field, lead_table)
    return number_of(rule.field, lead_table)


def occurrences(rule: BehaviouralRule, now: datetime, *, as_of: bool = False) -> ColumnElement:
    """How many of the lead's done activities count for the rule (an aggregate over `activities`).

    `as_of`: only activities up to `now` count (the score a lead had then, for `status`)."""
    condition = activities.c.kind == rule.activity_kind
    since = rule.since(now)
    if since is not None:
        condition = and_(condition, activities.c.at >= bindparam(None, to_timestamp(since), type_=BigInteger))
    if as_of:
        condition = and_(condition, activities.c.at <= bindparam(None, to_timestamp(now), type_=BigInteger))
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def capped_points(rule: BehaviouralRule, count: ColumnElement) -> ColumnElement:
    """Points per occurrence, held to `cap` points in all (a cap on a negative rule bounds the loss)."""
    return capped(count * rule.points, rule.points, rule.cap)


def _counted_activities(rules: list[BehaviouralRule], lead_id_column) -> list:
    return [
        activities.c.lead_id == lead_id_column,
        activities.c.done == true(),
        activities.c.kind.in_(sorted({rule.activity_kind for rule in rules})),
    ]


def raw_score(rules: ScoringRules, lead_table, now: datetime, *, as_of: bool = False) -> ColumnElement:
    """The unclamped score of the row of `lead_table`: demographic cases plus one activity sub-select.

    `as_of`: the behavioural part as it stood at `now` (activities after it do not count yet)."""
    total: ColumnElement = literal(0)
    for rule in rules.demographic:
        total = total + demographic_points(rule, lead_table)
    for field_rule in rules.field_rules:
        total = total + field_points(field_rule, lead_table, now)
    if rules.activity_rules:
        behaviour: ColumnElement = literal(0)
        for activity_rule in rules.activity_rules:
            behaviour = behaviour + capped_points(activity_rule, occurrences(activity_rule, now, as_of=as_of))
        subquery = select(behaviour).where(*_counted_activities(rules.activity_rules, lead_table.c.id))
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
    by_field: list[DemographicRule | BehaviouralRule] = [*rules.demographic, *rules.field_rules]
    if by_field:
        columns = []
        for rule in by_field:
            gives = (
                demographic_points(rule, leads) if isinstance(rule, DemographicRule) else field_points(rule, leads, now)
            )
            reads = field_number(rule, leads) if rule.field is not None and _reads_field(rule) else literal(None)
            columns += [gives, reads]
        row = session.connection().execute(select(*columns).where(leads.c.id == lead_id)).first()
        values = list(row) if row is not None else [0, None] * len(by_field)
        details = {}
        for index, rule in enumerate(by_field):
            given, read = int(values[2 * index] or 0), values[2 * index + 1]
            details[rule.name] = {"rule": rule.name, "points": given, "detail": _field_detail(rule, given, read)}
    if rules.demographic:
        parts += [details[rule.name] for rule in rules.demographic]
    if rules.behavioural:
        counted = None
        if rules.activity_rules:
            columns = []
            for activity_rule in rules.activity_rules:
                occurred = occurrences(activity_rule, now)
                columns += [occurred, capped_points(activity_rule, occurred)]
            counted = (
                session.connection()
                .execute(select(*columns).where(*_counted_activities(rules.activity_rules, lead_id)))
                .one()
            )
        index = 0
        for activity_rule in rules.behavioural:
            if activity_rule.field is not None:
                parts.append(details[activity_rule.name])
                continue
            assert counted is not None, "activity rules were counted"
            count, earned = int(counted[2 * index] or 0), int(counted[2 * index + 1] or 0)
            index += 1
            detail = f"{count} × {activity_rule.points:+d}"
            if activity_rule.cap is not None and abs(count * activity_rule.points) > activity_rule.cap:
                detail += f", capped at {activity_rule.cap}"
            if activity_rule.within:
                detail += f" (last {activity_rule.within})"
            parts.append({"rule": activity_rule.name, "points": earned, "detail": detail})
    return parts


def _reads_field(rule: DemographicRule | BehaviouralRule) -> bool:
    return isinstance(rule, BehaviouralRule) or rule.per is not None


def _field_detail(rule: DemographicRule | BehaviouralRule, points: int, read: Any) -> str:
    """The explanation of a field rule: its condition, or the number (or day) it read and what that gave."""
    if isinstance(rule, DemographicRule) and rule.per is None:
        return rule.describe()
    if isinstance(rule, BehaviouralRule) and rule.within is not None:
        held = read if read is not None else "no date"
        return f"{rule.field} {held} (within {rule.within})"
    per = rule.per if isinstance(rule, DemographicRule) and rule.per is not None else 1
    if read is None:
        return f"{rule.field} holds no number"
    detail = f"{rule.field} {number_text(read)}"
    detail += f" ÷ {number_text(per)}" if per != 1 else ""
    detail += f" × {rule.points:+d}"
    if rule.cap is not None and abs(points) == rule.cap and points != 0:
        detail += f", capped at {rule.cap}"
    if isinstance(rule, DemographicRule) and rule.per is not None and rule.matcher is not None:
        detail += f", when {Condition.describe(rule)}"
    return detail
