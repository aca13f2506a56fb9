"""No two sellers on one customer: a new lead matching someone else's is refused (or joined to theirs).

A lead matches when `add`'s duplicate check says so (same email, or same name at the same
company). If the match is owned by another seller than the one the new lead is for (its
--owner, else whoever is acting), adding it would put two sellers on one customer: it is
refused naming the owner, even with --force, and `--join` logs it on their lead instead. A lead
at a company another seller works is allowed, with a warning naming them.
"""

from sqlalchemy import func, select
from sqlmodel import Session

from pipectl import clock
from pipectl.actor import current_actor
from pipectl.core.history import record
from pipectl.errors import DuplicateLead
from pipectl.folding import fold
from pipectl.storage.models import Lead

LEADS = Lead.__table__


def seller_of(owner: str | None) -> str:
    """The folded key of who the new lead is for: its owner, else the person acting."""
    return fold(owner) if owner else fold(current_actor())


def someone_elses(duplicates: list[Lead], seller_key: str) -> list[Lead]:
    return [lead for lead in duplicates if lead.owner_key is not None and lead.owner_key != seller_key]


def refuse_second_seller(taken: list[Lead]) -> None:
    lead = taken[0]
    raise DuplicateLead(
        f"This customer is {lead.owner}'s: lead #{lead.id} {lead.name}"
        f"{f' at {lead.company}' if lead.company else ''}. Two sellers never work one customer; "
        f"use --join to log it on {lead.owner}'s lead instead, or ask {lead.owner} to hand it over "
        f"(`pipectl assign {lead.id} --to NAME`)."
    )


def join(session: Session, lead: Lead, given: dict) -> None:
    """Log a lead someone brought in again on the lead already there (a `joined` activity with what they gave)."""
    shown = {key: value for key, value in given.items() if value is not None}
    record(
        session,
        lead,
        "joined",
        clock.now(),
        note=f"brought in again by {current_actor()}",
        data={"fields": shown},
    )


def company_workers(
    session: Session, company: str | None, seller_key: str, exclude_id: int | None
) -> list[tuple[str, int]]:
    """Other sellers working open leads at this company: (owner, open leads there), most first."""
    if not company:
        return []
    rows = session.execute(
        select(func.min(LEADS.c.owner), func.count())
        .where(
            LEADS.c.company_key == fold(company),
            LEADS.c.status == "open",
            LEADS.c.owner_key.is_not(None),
            LEADS.c.owner_key != seller_key,
            LEADS.c.id != exclude_id,
        )
        .group_by(LEADS.c.owner_key)
        .order_by(func.count().desc(), LEADS.c.owner_key)
    ).all()
    return [(owner, count) for owner, count in rows]
