"""Leads as the JSON contract has them, listed with filters and sorts in one SQL query.

`lead_rows` streams: one query gives every matching lead with its stage, tags,
custom fields and next action as plain rows (`core.lead_stream`), read in
chunks, so memory stays flat however many leads there are.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, select as core_select
from sqlmodel import Session, select

from pipectl import clock
from pipectl.contract import BANT_CRITERIA, KEYS, STATUSES
from pipectl.dates import iso
from pipectl.errors import UsageError
from pipectl.folding import fold
from pipectl.storage.models import Activity, Lead, LeadField, LeadTag, Stage

# The JSON contract's keys for a lead, in order (pipectl.contract); keys are added, never renamed.
CONTRACT_KEYS = KEYS
# Worked out for every row: days in the stage, whether an open lead is under the nurture threshold, and
# its learned win probability (`pipectl predict`; null until a model is trained, and for closed leads).
EXTRA_KEYS = ("days_in_stage", "nurture", "probability")
LEADS = Lead.__table__
SORTS: dict[str, Callable[[], list[Any]]] = {
    "id": lambda: [LEADS.c.id],
    "value": lambda: [LEADS.c.value_cents.desc().nulls_last(), LEADS.c.id],
    "score": lambda: [LEADS.c.score.desc(), LEADS.c.id],
    "probability": lambda: [LEADS.c.win_probability.desc().nulls_last(), LEADS.c.id],
    "age": lambda: [LEADS.c.created_at, LEADS.c.id],
    "created": lambda: [LEADS.c.created_at.desc(), LEADS.c.id.desc()],
    "last-activity": lambda: [LEADS.c.last_activity_at, LEADS.c.id],
    "name": lambda: [LEADS.c.name_key, LEADS.c.id],
    "stage": lambda: [Stage.__table__.c.position, LEADS.c.value_cents.desc().nulls_last(), LEADS.c.id],
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
    search: str | None = None  # words that must match (pipectl.core.search), as `pipectl search` reads them
    sort: str = "id"
    limit: int | None = None


def lead_query(
    session: Session, wanted: LeadFilter, *, restore: bool = False, columns: Callable[[Any], list] | None = None
):
    """The SELECT of the leads matching `wanted` as plain rows: the contract's fields in order (with
    `restore`, then what a restore needs), their stage, tags, custom fields and next action joined in.
    `columns(planned)`: other columns to select from the same leads (export's CSV cells, `core.lead_csv`)."""
    from pipectl.core.lead_stream import lead_columns, lead_from, planned_alias

    planned = planned_alias()
    selected = columns(planned) if columns else lead_columns(_dialect(session), planned, restore=restore)
    query = core_select(*selected).select_from(lead_from(planned))
    if wanted.status and wanted.status != "all":
        if wanted.status not in STATUSES:
            raise UsageError(f"--status is one of {', '.join(STATUSES)} or all, not {wanted.status!r}.")
        query = query.where(LEADS.c.status == wanted.status)
    if wanted.stage:
        from pipectl.core.stages import find_stage

        query = query.where(LEADS.c.stage_id == find_stage(session, wanted.stage).id)
    for tag in wanted.tags:
        tags = LeadTag.__table__
        query = query.where(exists().where(tags.c.lead_id == LEADS.c.id, tags.c.tag == tag.strip().lower()))
    if wanted.owner:
        query = query.where(LEADS.c.owner_key == fold(wanted.owner))
    if wanted.source:
        query = query.where(LEADS.c.source_key == fold(wanted.source))
    if wanted.min_score is not None:
        query = query.where(LEADS.c.score >= wanted.min_score)
    bant_yes = and_(*(LEADS.c[name] == "yes" for name in BANT_CRITERIA))
    if wanted.qualified is True:
        query = query.where(bant_yes)
    elif wanted.qualified is False:
        query = query.where(~bant_yes)
    if wanted.disqualified:
        query = query.where((LEADS.c.budget == "no") | (LEADS.c.authority == "no"))
    if wanted.stale:
        from pipectl.core.hygiene import StaleFinder

        query = query.where(StaleFinder(session, clock.now()).condition())
    if wanted.ids is not None:
        query = query.where(LEADS.c.id.in_(wanted.ids))
    if wanted.search is not None:
        from pipectl.core.search_query import matching_ids

        query = query.where(LEADS.c.id.in_(matching_ids(session, wanted.search)))
    if wanted.sort not in SORTS:
        raise UsageError(f"--sort is one of {', '.join(SORTS)}, not {wanted.sort!r}.")
    query = query.order_by(*SORTS[wanted.sort]())
    if wanted.limit is not None:
        if wanted.limit < 1:
            raise UsageError("--limit must be at least 1.")
        query = query.limit(wanted.limit)
    return query


def lead_rows(session: Session, wanted: LeadFilter, *, restore: bool = False) -> Iterator[dict]:
    """The matching leads as contract dicts (plus `days_in_stage` and `nurture`), streamed.

    With `restore` (export), a row is the contract's keys, then `archived_at` and `bant`."""
    maker, result = _stream(session, wanted, restore)
    if not wanted.stale:
        yield from map(maker.make, result)
        return
    from pipectl.core.hygiene import StaleFinder

    finder = StaleFinder(session, clock.now())
    for chunk in result.partitions():
        # The reasons are worked out for this chunk's ids only, so listing stays one pass.
        reasons = finder.reasons([row.id for row in chunk])
        for raw in chunk:
            row = maker.make(raw)
            row["stale"], row["stale_reasons"] = raw.id in reasons, reasons.get(raw.id, [])
            yield row


def lead_values(
    session: Session, wanted: LeadFilter, field_keys: list[str], *, restore: bool = False
) -> Iterator[list]:
    """The matching leads as lists of their CSV values, under `contract.csv_columns(field_keys, extra)`
    where `extra` is EXTRA_KEYS (or, with `restore`, export's `archived_at` and BANT columns): what
    `contract.flat_lead` of each `lead_rows` dict holds, without building the dicts (long CSV streams)."""
    if wanted.stale:
        raise ValueError("lead_values does not give stale reasons; use lead_rows")
    maker, result = _stream(session, wanted, restore, field_keys)
    return map(maker.flat, result)


def _stream(session: Session, wanted: LeadFilter, restore: bool, field_keys: list[str] | tuple[()] = ()):
    """The row maker and the streamed result of the leads' query."""
    from pipectl.core.lead_stream import RowMaker
    from pipectl.core.scoring import nurture_threshold

    maker = RowMaker(
        _dialect(session),
        clock.now(),
        nurture_threshold(session),
        extras=not restore,
        restore=restore,
        field_keys=field_keys,
    )
    return maker, session.execute(lead_query(session, wanted, restore=restore).execution_options(yield_per=CHUNK))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


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
    # The hygiene rules judge open leads only: a closed one is never stale, and skipping its eight
    # queries saves a third of `show`'s own time.
    is_open = detail["status"] == "open"
    detail["stale_reasons"] = stale_reasons(session, clock.now(), [lead.id]).get(lead.id, []) if is_open else []
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
        "actor": activity.actor,
    }


def field_keys(session: Session) -> list[str]:
    """Every custom field key in use, for a CSV header (one SELECT DISTINCT, before streaming)."""
    return sorted(session.execute(select(LeadField.key).distinct()).scalars())
