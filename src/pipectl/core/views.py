"""Leads as the JSON contract has them, listed with filters and sorts in one SQL query.

`lead_rows` streams: leads are read in chunks, and each chunk's tags and
custom fields come in two more queries, so memory stays flat however many
leads there are.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import and_, exists
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from pipectl import clock
from pipectl.contract import BANT_CRITERIA, FIELDS, KEYS, STATUSES
from pipectl.dates import iso
from pipectl.errors import UsageError
from pipectl.folding import fold
from pipectl.money import to_number
from pipectl.storage.models import Activity, Lead, LeadField, LeadTag, Stage

# The JSON contract's keys for a lead, in order (pipectl.contract); keys are added, never renamed.
CONTRACT_KEYS = KEYS
# Worked out for every row: days in the stage, whether an open lead is under the nurture threshold, and
# its learned win probability (`pipectl predict`; null until a model is trained, and for closed leads).
EXTRA_KEYS = ("days_in_stage", "nurture", "probability")
# The ORDER BY terms of each `--sort`.
SORTS: dict[str, Callable[[], list[Any]]] = {
    "id": lambda: [Lead.id],
    "value": lambda: [col(Lead.value_cents).desc().nulls_last(), Lead.id],
    "score": lambda: [col(Lead.score).desc(), Lead.id],
    "probability": lambda: [col(Lead.win_probability).desc().nulls_last(), Lead.id],
    "age": lambda: [Lead.created_at, Lead.id],
    "created": lambda: [col(Lead.created_at).desc(), col(Lead.id).desc()],
    "last-activity": lambda: [Lead.last_activity_at, Lead.id],
    "name": lambda: [Lead.name_key, Lead.id],
    "stage": lambda: [Stage.position, col(Lead.value_cents).desc().nulls_last(), Lead.id],
}
CHUNK = 500


@dataclass
class LeadFilter:
    """What `list` and `export` select: every field is optional, and all that are set must hold."""

    stage: str | None = None
    status: str | None = "open"  # "all" for every status
    tags: list[str] = field(default_factory=list)
    owner: str | None = None
    source: str | None = None
    min_score: int | None = None
    qualified: bool | None = None  # True: all four BANT yes; False: not all four
    disqualified: bool = False  # budget or authority answered no
    stale: bool = False  # stalled or dead by the hygiene rules; rows then carry `stale_reasons`
    ids: list[int] | None = None
    sort: str = "id"
    limit: int | None = None


def lead_query(session: Session, wanted: LeadFilter):
    """The SELECT for leads matching `wanted`, with their stage name and next action."""
    planned = aliased(Activity)
    query = (
        select(Lead, Stage.name, planned.note, planned.due)
        .join(Stage, col(Stage.id) == col(Lead.stage_id))
        .outerjoin(planned, and_(col(planned.lead_id) == col(Lead.id), col(planned.done) == False))  # noqa: E712
    )
    if wanted.status and wanted.status != "all":
        if wanted.status not in STATUSES:
            raise UsageError(f"--status is one of {', '.join(STATUSES)} or all, not {wanted.status!r}.")
        query = query.where(Lead.status == wanted.status)
    if wanted.stage:
        from pipectl.core.stages import find_stage

        query = query.where(Lead.stage_id == find_stage(session, wanted.stage).id)
    for tag in wanted.tags:
        query = query.where(
            exists().where(col(LeadTag.lead_id) == col(Lead.id), col(LeadTag.tag) == tag.strip().lower())
        )
    if wanted.owner:
        query = query.where(Lead.owner_key == fold(wanted.owner))
    if wanted.source:
        query = query.where(Lead.source_key == fold(wanted.source))
    if wanted.min_score is not None:
        query = query.where(Lead.score >= wanted.min_score)
    bant_yes = and_(*(getattr(Lead, name) == "yes" for name in BANT_CRITERIA))
    if wanted.qualified is True:
        query = query.where(bant_yes)
    elif wanted.qualified is False:
        query = query.where(~bant_yes)
    if wanted.disqualified:
        query = query.where((Lead.budget == "no") | (Lead.authority == "no"))
    if wanted.stale:
        from pipectl.core.hygiene import StaleFinder

        query = query.where(StaleFinder(session, clock.now()).condition())
    if wanted.ids is not None:
        query = query.where(col(Lead.id).in_(wanted.ids))
    if wanted.sort not in SORTS:
        raise UsageError(f"--sort is one of {', '.join(SORTS)}, not {wanted.sort!r}.")
    query = query.order_by(*SORTS[wanted.sort]())
    if wanted.limit is not None:
        if wanted.limit < 1:
            raise UsageError("--limit must be at least 1.")
        query = query.limit(wanted.limit)
    return query


def lead_rows(session: Session, wanted: LeadFilter, *, extend=None) -> Iterator[dict]:
    """The matching leads as contract dicts, streamed chunk by chunk; `extend(lead)` adds keys (export)."""
    from pipectl.core.scoring import nurture_threshold

    now = clock.now()
    nurture_below = nurture_threshold(session)  # read once per query, not per lead
    result = session.execute(lead_query(session, wanted).execution_options(yield_per=CHUNK))
    finder = None
    if wanted.stale:
        from pipectl.core.hygiene import StaleFinder

        finder = StaleFinder(session, now)
    for chunk in result.partitions():
        ids = [row[0].id for row in chunk]
        tags, fields = _tags_and_fields(session, ids)
        # The reasons are worked out for this chunk's ids only, so listing stays one pass.
        reasons = finder.reasons(ids) if finder is not None else None
        for lead, stage_name, action, due in chunk:
            row = lead_dict(
                lead,
                stage_name,
                tags.get(lead.id, []),
                fields.get(lead.id, {}),
                action,
                due,
                now,
                nurture_below=nurture_below,
            )
            if reasons is not None:
                row["stale"], row["stale_reasons"] = lead.id in reasons, reasons.get(lead.id, [])
            if extend is not None:
                row.update(extend(lead))
            yield row


def _reader(spec) -> Callable | None:
    """How a lead row reads one contract field off the Lead; None for what comes from other tables."""
    if spec.stored is None or spec.kind == "stage":
        return None
    column = attrgetter(spec.stored)
    if spec.kind == "instant":
        return lambda lead: iso(column(lead))
    if spec.kind == "money":
        return lambda lead: to_number(column(lead))
    return column


# (key, reader) in contract order, worked out once rather than per row.
_READERS = tuple((spec.key, _reader(spec)) for spec in FIELDS)


def lead_dict(
    lead: Lead,
    stage_name: str,
    tags: list[str],
    fields: dict[str, str],
    next_action: str | None,
    next_action_due: datetime | None,
    now: datetime,
    nurture_below: int | None = None,
) -> dict:
    """One lead in the JSON contract's shape (plus `days_in_stage`, and `nurture`: an open lead under the
    nurture threshold)."""
    joined = {
        "stage": stage_name,
        "tags": tags,
        "fields": fields,
        "next_action": next_action,
        "next_action_due": iso(next_action_due),
    }
    row = {key: joined[key] if read is None else read(lead) for key, read in _READERS}
    row["days_in_stage"] = days_between(lead.stage_entered_at, lead.closed_at or now)
    row["nurture"] = nurture_below is not None and lead.status == "open" and lead.score < nurture_below
    row["probability"] = None if lead.win_probability is None else round(lead.win_probability, 4)
    return row


def one_lead(session: Session, lead: Lead) -> dict:
    """The contract dict of a single lead."""
    assert lead.id is not None, "the lead is stored"
    rows = list(lead_rows(session, LeadFilter(status="all", ids=[lead.id])))
    return rows[0]


def lead_detail(session: Session, lead: Lead, *, activity_limit: int | None = None) -> dict:
    """What `show` prints: the lead, its BANT block and its activities, newest first."""
    from pipectl.core.history import timeline
    from pipectl.core.hygiene import stale_reasons

    assert lead.id is not None, "the lead is stored"
    detail = one_lead(session, lead)
    detail["stale_reasons"] = stale_reasons(session, clock.now(), [lead.id]).get(lead.id, [])
    detail["stale"] = bool(detail["stale_reasons"])
    detail["bant"] = bant_block(lead)
    stage_names = dict(session.execute(select(Stage.id, Stage.name)).all())
    detail["activities"] = [
        activity_dict(activity, stage_names) for activity in timeline(session, lead.id, limit=activity_limit)
    ]
    return detail


def bant_block(lead: Lead) -> dict:
    """The lead's BANT answers, `{criterion: {status, note}}`, and whether all four are yes."""
    block: dict[str, Any] = {
        name: {"status": getattr(lead, name), "note": getattr(lead, f"{name}_note")} for name in BANT_CRITERIA
    }
    block["qualified"] = all(block[name]["status"] == "yes" for name in BANT_CRITERIA)
    return block


def _name(names: dict[int, str], stage_id: int | None) -> str | None:
    return None if stage_id is None else names.get(stage_id)


def activity_dict(activity: Activity, stage_names: dict[int, str] | None = None) -> dict:
    """An activity in the JSON contract's shape, with the names of the stages it moved between."""
    names = stage_names or {}
    return {
        "id": activity.id,
        "lead_id": activity.lead_id,
        "kind": activity.kind,
        "at": iso(activity.at),
        "note": activity.note,
        "due": iso(activity.due),
        "done": activity.done,
        "from_stage": _name(names, activity.from_stage_id),
        "to_stage": _name(names, activity.to_stage_id),
        "data": activity.data,
    }


def days_between(start: datetime | None, end: datetime) -> int | None:
    if start is None:
        return None
    return max((end - start).days, 0)


def field_keys(session: Session) -> list[str]:
    """Every custom field key in use, for a CSV header (one SELECT DISTINCT, before streaming)."""
    return sorted(session.execute(select(LeadField.key).distinct()).scalars())


def _tags_and_fields(session: Session, ids: list[int]) -> tuple[dict, dict]:
    tags: dict[int, list[str]] = {}
    fields: dict[int, dict[str, str]] = {}
    if not ids:
        return tags, fields
    for lead_id, tag in session.execute(
        select(LeadTag.lead_id, LeadTag.tag).where(col(LeadTag.lead_id).in_(ids)).order_by(LeadTag.tag)
    ):
        tags.setdefault(lead_id, []).append(tag)
    for lead_id, key, value in session.execute(
        select(LeadField.lead_id, LeadField.key, LeadField.value)
        .where(col(LeadField.lead_id).in_(ids))
        .order_by(LeadField.key)
    ):
        fields.setdefault(lead_id, {})[key] = value
    return tags, fields
