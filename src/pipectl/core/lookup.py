"""Naming a lead as people do: by id, email or name, or by a unique prefix or word of its name.

Example: `show 12`, `show ada@analytical.example`, `show "Ada Lovelace"`, `show ada`, `show lovel`,
`show edith` (for Édith Piaf).

Only an exact or a unique match acts: several matches are listed and refused, and no match
suggests the closest leads ("Did you mean #12 Linus Torvalds?") without acting on any. Every
step is one indexed query (ids, `email_key`, `name_key`, a prefix of `name_plain`) but the match
on a later word of the name, which scans the `name_plain` index (not the table) and stops at the
first few: about 0.3 s at a million leads, paid only when no exact match settled it.
"""

from sqlalchemy import or_
from sqlmodel import Session, col, select

from pipectl.errors import NotFound, UsageError
from pipectl.folding import fold, plain
from pipectl.storage.models import Lead, stored_id

SHOWN = 5  # leads listed when a name matches several
NEAR = 500  # candidates fetched per query for a suggestion: a bounded read at any size
SUGGESTED = 3
CLOSE_ENOUGH = 0.6  # difflib's ratio below which a lead is not worth suggesting


def find_lead(session: Session, reference: str | int) -> Lead:
    """The one lead `reference` names; NotFound (with suggestions) or a list of the several it names."""
    text = str(reference).strip()
    digits = text.lstrip("#")
    if digits.isascii() and digits.isdigit():
        # An id beyond SQLite's 64-bit integers names no lead (and must not reach the driver).
        lead = session.get(Lead, int(digits)) if len(digits) <= 18 else None
        if lead is None:
            raise NotFound(f"There is no lead #{digits}; `pipectl list` shows the leads and their ids.")
        return lead
    if not text:
        raise UsageError("Name a lead by its id, email or name.")
    folded = fold(text)
    exact = _first(session, or_(col(Lead.email_key) == folded, col(Lead.name_key) == folded))
    if len(exact) == 1:
        return exact[0]
    if exact:
        raise NotFound(_several(text, exact))
    typed = plain(text)
    partial = _partial(session, typed) if typed else []
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise NotFound(_several(text, partial))
    raise NotFound(_missing(session, text, typed))


def _first(session: Session, condition, limit: int = SHOWN + 1) -> list[Lead]:
    # Ids first: a condition on name_plain alone is answered from its index, never the whole table.
    ids = list(session.exec(select(col(Lead.id)).where(condition).limit(limit)))
    return list(session.exec(select(Lead).where(col(Lead.id).in_(ids)).order_by(col(Lead.id)))) if ids else []


def _starts(session: Session, typed: str):
    """`name_plain` begins with `typed`: an index range on SQLite, whose text compares byte by byte."""
    condition = col(Lead.name_plain).startswith(typed, autoescape=True)
    if session.get_bind().dialect.name == "sqlite":
        # The range lets SQLite use ix_leads_name_plain (its LIKE cannot); U+10FFFF sorts last in UTF-8.
        condition = col(Lead.name_plain).between(typed, typed + "\U0010ffff") & condition
    return condition


def _partial(session: Session, typed: str) -> list[Lead]:
    """Leads whose name begins with `typed`, or has a later word that does (first SHOWN + 1 of them)."""
    found = {stored_id(lead): lead for lead in _first(session, _starts(session, typed))}
    if len(found) <= SHOWN:
        found.update(
            (stored_id(lead), lead)
            for lead in _first(session, col(Lead.name_plain).contains(" " + typed, autoescape=True))
        )
    return sorted(found.values(), key=lambda lead: stored_id(lead))[: SHOWN + 1]


def describe_leads(leads: list[Lead]) -> str:
    """`#1 Ada Lovelace (Analytical Engines) <ada@…>; #4 …`: enough to tell leads apart."""
    return "; ".join(
        f"#{lead.id} {lead.name}"
        + (f" ({lead.company})" if lead.company else "")
        + (f" <{lead.email}>" if lead.email else "")
        + (f" [{lead.status}]" if lead.status != "open" else "")
        for lead in leads
    )


def _several(text: str, leads: list[Lead]) -> str:
    more = " and more" if len(leads) > SHOWN else ""
    return (
        f"{text!r} names several leads: {describe_leads(leads[:SHOWN])}{more}; "
        "name one by its id or email, or say more of its name."
    )


def _missing(session: Session, text: str, typed: str | None) -> str:
    near = _near(session, text, typed) if typed else []
    if not near:
        return f"There is no lead {text!r}; `pipectl list` shows the leads and their ids."
    named = " or ".join(f"#{lead.id} {lead.name}" for lead in near)
    return f"There is no lead {text!r}. Did you mean {named}?"


def _near(session: Session, text: str, typed: str) -> list[Lead]:
    """The leads closest to what was typed, among those sharing its first letters (a bounded read)."""
    import difflib  # only a name that matched nothing pays for it

    start = typed[:2]
    rows: dict[int, Lead] = {}
    for condition in (_starts(session, start), col(Lead.name_plain).contains(" " + start, autoescape=True)):
        rows.update((stored_id(lead), lead) for lead in _first(session, condition, NEAR))
    folded = fold(text)

    def closeness(lead: Lead) -> float:
        words = (lead.name_plain or "").split()
        forms = [lead.name_plain or "", *words, *(" ".join(words[i : i + 2]) for i in range(len(words) - 1))]
        best = max(difflib.SequenceMatcher(None, typed, form).ratio() for form in forms)
        if lead.email_key:
            best = max(best, difflib.SequenceMatcher(None, folded, lead.email_key).ratio())
        return best

    scored = sorted(((closeness(lead), lead.id, lead) for lead in rows.values()), key=lambda item: (-item[0], item[1]))
    return [lead for score, _id, lead in scored[:SUGGESTED] if score >= CLOSE_ENOUGH]
