"""Likely duplicate leads already in the pipeline, each pair with the reasons it looks like one.

Example: find_duplicate_pairs(session) → [{"id": 3, "duplicate_id": 9, "reasons": ["same email"], …}]

Three reasons, each a GROUP BY over an indexed key that pipectl keeps on every lead
(pipectl.folding): the same email (`email_key`, case aside), the same phone once only its digits
are kept (`phone_key`), the same name at the same company (`name_plain`, `company_plain`: case and
accents aside). Archived leads (merged ones included) are out of the pipeline and never listed.
Within a group the oldest lead is the one to keep: each other lead is paired with it.
"""

from sqlalchemy import and_, func, select, tuple_
from sqlmodel import Session, col

from pipectl.storage.models import Lead

REASONS = {
    "email": "same email",
    "phone": "same phone",
    "name": "same name at the same company",
}


def _groups(session: Session, columns: list) -> list[tuple[int, ...]]:
    """The lead ids sharing each value of `columns` (non-empty, among leads not archived), in id order."""
    live = and_(col(Lead.status) != "archived", *(column.is_not(None) for column in columns))
    live = and_(live, *(column != "" for column in columns))
    shared = select(*columns).where(live).group_by(*columns).having(func.count() > 1).subquery()
    key = tuple_(*columns) if len(columns) > 1 else columns[0]
    rows = session.execute(
        select(col(Lead.id), *columns).where(live, key.in_(select(*shared.c))).order_by(*columns, col(Lead.id))
    ).all()
    groups: dict[tuple, list[int]] = {}
    for lead_id, *value in rows:
        groups.setdefault(tuple(value), []).append(lead_id)
    return [tuple(ids) for ids in groups.values()]


def find_duplicate_pairs(session: Session) -> list[dict]:
    """Every likely duplicate pair (the older lead first), with its reasons, by the older lead's id."""
    reasons: dict[tuple[int, int], list[str]] = {}
    keys = {
        "email": [col(Lead.email_key)],
        "phone": [col(Lead.phone_key)],
        "name": [col(Lead.name_plain), col(Lead.company_plain)],
    }
    for reason, columns in keys.items():
        for group in _groups(session, columns):
            for other in group[1:]:
                reasons.setdefault((group[0], other), []).append(REASONS[reason])
    if not reasons:
        return []
    ids = sorted({lead_id for pair in reasons for lead_id in pair})
    leads = {lead.id: lead for lead in _leads(session, ids)}
    return [
        {
            "id": keep,
            "name": leads[keep].name,
            "company": leads[keep].company,
            "duplicate_id": other,
            "duplicate_name": leads[other].name,
            "duplicate_company": leads[other].company,
            "reasons": why,
        }
        for (keep, other), why in sorted(reasons.items())
    ]


def _leads(session: Session, ids: list[int]) -> list[Lead]:
    found: list[Lead] = []
    for start in range(0, len(ids), 10_000):  # under every backend's limit on bound parameters
        found += session.execute(select(Lead).where(col(Lead.id).in_(ids[start : start + 10_000]))).scalars().all()
    return found
