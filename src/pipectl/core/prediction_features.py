"""What the win model sees of a lead: `(lead, feature, value)` rows, written once in SQL.

Each lead has one value per feature: the stage it reached, its source,
industry, size band and owner, each chosen custom field, and for each activity
kind the history holds, how many it had, in bands; plus one row per tag. A
missing value is the value `(none)`, which the history can make telling too.
For a closed lead only the activities up to its close count, so the model
learns from what was known while the deal was open. Training groups these rows
(`GROUP BY feature, value`); scoring joins them to the stored frequency table.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, case, cast, func, literal, or_, select, true, union_all
from sqlalchemy.sql.elements import ColumnElement

from pipectl.storage.models import Activity, Lead, LeadField, LeadTag, Stage

leads = Lead.__table__
stages = Stage.__table__
tags = LeadTag.__table__
lead_fields = LeadField.__table__
activities = Activity.__table__

NONE = "(none)"
# Employees: the usual bands of company size.
SIZE_BANDS = ((1000, "1000+"), (250, "250-999"), (50, "50-249"), (10, "10-49"), (0, "1-9"))
# Activities of a kind: none, one, a few, several, many.
COUNT_BANDS = ((8, "8+"), (4, "4-7"), (2, "2-3"), (1, "1"))
BUILT_IN = ("stage", "source", "industry", "size", "owner")


@dataclass(frozen=True)
class FeatureSet:
    """The features a model uses beyond the built-in ones: custom fields and activity kinds."""

    fields: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


def _text(column) -> ColumnElement:
    cleaned = func.lower(func.trim(column))
    return case((or_(column.is_(None), func.trim(column) == ""), NONE), else_=cleaned)


def _size_band(column) -> ColumnElement:
    return case((column.is_(None), NONE), *((column >= low, label) for low, label in SIZE_BANDS), else_=NONE)


def count_band(count) -> ColumnElement:
    return case(*((count >= low, label) for low, label in COUNT_BANDS), else_="0")


def _won() -> ColumnElement:
    return case((leads.c.status == "won", 1), else_=0)


def feature_rows(features: FeatureSet, where: ColumnElement):
    """`(lead_id, feature, value, won)` for every lead matching `where` (a condition on `leads`)."""
    parts = [
        select(
            leads.c.id.label("lead_id"),
            literal("stage").label("feature"),
            stages.c.name.label("value"),
            _won().label("won"),
        )
        .join(stages, stages.c.id == leads.c.stage_id)
        .where(where),
        _one("source", _text(leads.c.source), where),
        _one("industry", _text(leads.c.industry), where),
        _one("size", _size_band(leads.c.company_size), where),
        _one("owner", _text(leads.c.owner), where),
        select(tags.c.lead_id, literal("tag"), cast(tags.c.tag, String), _won())
        .join(leads, leads.c.id == tags.c.lead_id)
        .where(where),
    ]
    for key in features.fields:
        held = (
            select(func.max(lead_fields.c.value))
            .where(lead_fields.c.lead_id == leads.c.id, func.lower(lead_fields.c.key) == key.lower())
            .scalar_subquery()
        )
        parts.append(_one(f"field:{key}", _text(held), where))
    if features.kinds:
        counted = _activity_counts(features.kinds, where)
        parts += [_activity_band(kind, counted, where) for kind in features.kinds]
    return union_all(*parts)


def _one(feature: str, value: ColumnElement, where: ColumnElement):
    return select(leads.c.id, literal(feature), value, _won()).where(where)


def _activity_counts(kinds: tuple[str, ...], where: ColumnElement):
    """`(lead_id, kind, n)`: each lead's done activities of the kinds (up to its close), in one pass.

    MATERIALIZED: every kind's band reads it, so it is counted once, not once per kind.
    """
    return (
        select(activities.c.lead_id.label("lead_id"), activities.c.kind.label("kind"), func.count().label("n"))
        .join(leads, leads.c.id == activities.c.lead_id)
        .where(
            activities.c.kind.in_(list(kinds)),
            activities.c.done == true(),
            or_(leads.c.closed_at.is_(None), activities.c.at <= leads.c.closed_at),
            where,
        )
        .group_by(activities.c.lead_id, activities.c.kind)
        .cte("activity_counts")
        .prefix_with("MATERIALIZED")
    )


def _activity_band(kind: str, counted, where: ColumnElement):
    """The lead's count of done `kind` activities, banded; `0` when it has none."""
    return (
        select(leads.c.id, literal(f"activity:{kind}"), count_band(func.coalesce(counted.c.n, 0)), _won())
        .outerjoin(counted, and_(counted.c.lead_id == leads.c.id, counted.c.kind == kind))
        .where(where)
    )


def closed(before: datetime | None = None, since: datetime | None = None) -> ColumnElement:
    """Won and lost leads, optionally closed before / since an instant."""
    condition: ColumnElement = leads.c.status.in_(("won", "lost"))
    if before is not None:
        condition = and_(condition, leads.c.closed_at < before)
    if since is not None:
        condition = and_(condition, leads.c.closed_at >= since)
    return condition


def seen_kinds(session, candidates: Sequence[str]) -> tuple[str, ...]:
    """The activity kinds among `candidates` that closed leads had: the only ones the history can weigh."""
    query = (
        select(activities.c.kind)
        .distinct()
        .join(leads, leads.c.id == activities.c.lead_id)
        .where(closed(), activities.c.kind.in_(list(candidates)), activities.c.done == true())
    )
    return tuple(sorted(session.execute(query).scalars()))
