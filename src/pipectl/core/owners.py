"""The team's owners: who leads are handed to, their capacity, and who has room now.

An owner is a seller on the roster (`owners add`). A capacity is optional: the most open leads
they hold at once, and/or the most leads handed to them in seven days (counted from
`assignments`). A paused owner keeps their leads and gets no new ones. Names compare folded
(`Sam` is `sam`), as `leads.owner_key` does.
"""

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from pipectl import clock
from pipectl.actor import check_name
from pipectl.errors import NotFound, RuleViolation, UsageError
from pipectl.folding import fold
from pipectl.storage.models import Assignment, Lead, Owner

LEADS, ASSIGNMENTS, OWNERS = Lead.__table__, Assignment.__table__, Owner.__table__
WEEK = timedelta(days=7)
MAX_CAPACITY = 1_000_000


@dataclass(frozen=True)
class Load:
    """An owner and what they hold: open leads now, leads handed to them in the last seven days."""

    owner: Owner
    open_leads: int
    new_this_week: int

    @property
    def full(self) -> str | None:
        """Why they can take no more leads (None: they have room)."""
        owner = self.owner
        if owner.max_open is not None and self.open_leads >= owner.max_open:
            return f"{owner.name} holds {self.open_leads} open lead(s), their most ({owner.max_open})"
        if owner.max_new_per_week is not None and self.new_this_week >= owner.max_new_per_week:
            return f"{owner.name} got {self.new_this_week} lead(s) in 7 days, their most ({owner.max_new_per_week})"
        return None

    def row(self) -> dict:
        owner = self.owner
        return {
            "name": owner.name,
            "status": "paused" if owner.paused else "active",
            "open_leads": self.open_leads,
            "new_this_week": self.new_this_week,
            "max_open": owner.max_open,
            "max_new_per_week": owner.max_new_per_week,
            "room": self.full is None and not owner.paused,
        }


def parse_capacity(text: str | None, option: str) -> int | None:
    """A capacity as typed: a whole number from 1, or `none` for no limit."""
    if text is None:
        return None
    cleaned = text.strip().lower()
    if cleaned in ("none", "no", "unlimited"):
        return None
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= MAX_CAPACITY:
        raise UsageError(f"{option} takes a whole number from 1 to {MAX_CAPACITY:,}, or none; not {text!r}.")
    return int(cleaned)


def find_owner(session: Session, name: str, *, hold: bool = False) -> Owner:
    """The owner of that name; `hold` (for handing them a lead) keeps them on the roster until the commit."""
    query = select(Owner).where(OWNERS.c.name_key == fold(name))
    if hold:
        query = _held(query)
    owner = session.execute(query).scalar_one_or_none()
    if owner is None:
        known = ", ".join(row.name for row in session.execute(select(Owner).order_by(OWNERS.c.name)).scalars())
        hint = f" The owners are: {known}." if known else ""
        try:
            # Only a name `owners add` would take is offered, quoted for the shell ("sam lee", "o'neil").
            add = f"; add them with `pipectl owners add {shlex.quote(check_name(name, 'An owner'))}`"
        except UsageError:
            add = ""
        raise NotFound(f"{name!r} is not an owner{add}.{hint}")
    return owner


def add_owner(session: Session, name: str, *, max_open: int | None, max_new_per_week: int | None) -> Owner:
    name = check_name(name, "An owner")
    existing = session.execute(select(OWNERS.c.name).where(OWNERS.c.name_key == fold(name))).scalar_one_or_none()
    if existing is not None:  # named as the roster has them (`SAM` is `Sam`)
        raise RuleViolation(
            f"{existing} is already an owner; change their capacity with `pipectl owners set {shlex.quote(existing)}`."
        )
    owner = Owner(
        name=name, name_key=fold(name), max_open=max_open, max_new_per_week=max_new_per_week, created_at=clock.now()
    )
    session.add(owner)
    session.flush()
    return owner


def set_capacity(session: Session, name: str, changes: dict[str, int | None]) -> Owner:
    """Set `max_open` and/or `max_new_per_week` (None: no limit) of an owner."""
    owner = find_owner(session, name)
    for key, value in changes.items():
        setattr(owner, key, value)
    session.add(owner)
    return owner


def set_paused(session: Session, name: str, paused: bool) -> Owner:
    owner = find_owner(session, name)
    if owner.paused == paused:
        raise RuleViolation(f"{owner.name} is already {'paused' if paused else 'active'}.")
    owner.paused = paused
    session.add(owner)
    return owner


def remove_owner(session: Session, name: str) -> Owner:
    """Take an owner off the roster; refused while they hold open leads (their customers would be orphaned)."""
    owner = find_owner(session, name)
    # Locked before counting (PostgreSQL; SQLite's write lock already makes each command run alone):
    # an assignment to them that is under way (it holds the row, see `_held`) commits first, and the
    # count, a new statement, sees its leads. Without the lock, `owners remove` could count none while
    # a round-robin was handing them leads, and the leads kept an owner who was no longer on the roster.
    session.execute(select(OWNERS.c.id).where(OWNERS.c.id == owner.id).with_for_update())
    held = open_count(session, owner.name_key)
    if held:
        raise RuleViolation(
            f"{owner.name} holds {held} open lead(s); hand them over first (`pipectl release --owner {owner.name}` "
            f"gives them all back), or pause {owner.name} with `pipectl owners pause {owner.name}`."
        )
    session.delete(owner)
    return owner


def open_count(session: Session, owner_key: str) -> int:
    return session.execute(
        select(func.count()).where(LEADS.c.owner_key == owner_key, LEADS.c.status == "open")
    ).scalar_one()


def loads(session: Session, now: datetime, *, only_active: bool = False, hold: bool = False) -> list[Load]:
    """Every owner (by name) with their open leads and the leads handed to them in seven days.

    `hold` (for handing them leads) keeps them on the roster until the commit: see `_held`."""
    query = select(Owner).order_by(OWNERS.c.name_key)
    if only_active:
        query = query.where(OWNERS.c.paused == False)  # noqa: E712
    if hold:
        query = _held(query)
    owners = list(session.execute(query).scalars())
    if not owners:
        return []
    keys = [owner.name_key for owner in owners]
    held = dict(
        session.execute(
            select(LEADS.c.owner_key, func.count())
            .where(LEADS.c.status == "open", LEADS.c.owner_key.in_(keys))
            .group_by(LEADS.c.owner_key)
        ).all()
    )
    recent = dict(
        session.execute(
            select(ASSIGNMENTS.c.owner_key, func.count())
            .where(ASSIGNMENTS.c.owner_key.in_(keys), ASSIGNMENTS.c.at >= now - WEEK)
            .group_by(ASSIGNMENTS.c.owner_key)
        ).all()
    )
    return [Load(owner, held.get(owner.name_key, 0), recent.get(owner.name_key, 0)) for owner in owners]


def _held(query):
    # FOR KEY SHARE: `owners remove` (which locks the row FOR UPDATE) waits until the hand-out commits,
    # or, having removed them first, the hand-out no longer finds them. Pause and capacity changes
    # (plain UPDATEs of other columns) are not held up. SQLite leaves the clause out.
    return query.with_for_update(read=True, key_share=True)


def load_of(session: Session, owner: Owner, now: datetime) -> Load:
    return next(load for load in loads(session, now) if load.owner.id == owner.id)
