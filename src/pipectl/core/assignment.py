"""Handing leads to owners: `assign --to`, round-robin, first-come claims, release.

Every change of owner is one compare-and-set UPDATE of `leads` (it only happens if the owner is
still the one read), one `assigned`/`released` activity, and for a hand-over one `assignments` row.
So two sellers claiming one lead at once cannot both win: the second UPDATE matches no row and the
command fails cleanly. The round-robin turn is one `counters` row advanced with
`UPDATE … RETURNING`: concurrent assigners queue on that row and each gets its own turns (a
`SELECT … FOR UPDATE` of the owners picked the same owner twice under load). On PostgreSQL the
candidate leads are taken `FOR UPDATE SKIP LOCKED`, so concurrent assigners never hand out or wait
for the same lead; SQLite's write lock (BEGIN IMMEDIATE) already makes each command run alone.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, and_, bindparam, exists, func, insert, select, update
from sqlmodel import Session

from pipectl import clock
from pipectl.actor import current_actor
from pipectl.core.history import record
from pipectl.core.owners import Load, find_owner, load_of, loads
from pipectl.core.rescoring import mark
from pipectl.errors import NotFound, RuleViolation
from pipectl.folding import fold
from pipectl.storage.models import Activity, Assignment, Counter, Lead, LeadTag, Owner

LEADS, ACTIVITIES, ASSIGNMENTS, COUNTERS = (
    Lead.__table__,
    Activity.__table__,
    Assignment.__table__,
    Counter.__table__,
)
TURN = "round_robin"
AUTO_ASSIGN = "auto_assign"  # the setting: "round-robin" makes add and import hand new leads out


@dataclass
class Candidates:
    """Which unowned open leads `assign --round-robin` hands out."""

    stage_id: int | None = None
    tags: list[str] = field(default_factory=list)
    source: str | None = None
    min_score: int | None = None
    limit: int | None = None


def _owned_by(lead: Lead) -> str:
    return f"#{lead.id} {lead.name} is {lead.owner}'s lead" if lead.owner else f"#{lead.id} {lead.name} has no owner"


def _require_open(lead: Lead, what: str) -> None:
    if lead.status != "open":
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is {lead.status}; only open leads are {what}.")


def _set_owner(session: Session, lead: Lead, owner: Owner | None, *, expected: str | None) -> None:
    """Compare-and-set: the lead changes owner only if its owner is still `expected` (a folded key)."""
    same_owner = LEADS.c.owner_key.is_(None) if expected is None else LEADS.c.owner_key == expected
    changed = cast(
        CursorResult,
        session.execute(
            update(LEADS)
            .where(LEADS.c.id == lead.id, LEADS.c.status == "open", same_owner)
            .values(
                owner=None if owner is None else owner.name,
                owner_key=None if owner is None else owner.name_key,
                updated_at=clock.now(),
            )
        ),
    ).rowcount
    session.expire(lead)
    if changed != 1:
        session.refresh(lead)
        raise RuleViolation(f"Someone changed lead #{lead.id} first: {_owned_by(lead)} now. Nothing was changed.")


def _hand_over(session: Session, lead: Lead, owner: Owner, how: str, *, expected: str | None) -> dict:
    previous = lead.owner
    _set_owner(session, lead, owner, expected=expected)
    now = clock.now()
    session.execute(insert(ASSIGNMENTS).values(lead_id=lead.id, owner_key=owner.name_key, at=now))
    data = {"to": owner.name, "from": previous, "how": how}
    record(session, lead, "assigned", now, note=_assigned_note(owner.name, previous, how), data=data)
    return {"id": lead.id, "name": lead.name, "owner": owner.name, "previous": previous, "how": how}


def _assigned_note(to: str, previous: str | None, how: str) -> str:
    note = f"to {to}" if previous is None else f"from {previous} to {to}"
    return f"{note} ({how})"


def _check_room(load: Load, force: bool) -> None:
    if load.owner.paused and not force:
        raise RuleViolation(
            f"{load.owner.name} is paused; resume them with `pipectl owners resume {load.owner.name}`, or use --force."
        )
    full = load.full
    if full and not force:
        raise RuleViolation(f"{full}; raise it with `pipectl owners set`, or use --force.")


def assign_to(session: Session, lead: Lead, name: str, *, force: bool = False) -> dict:
    """Hand a lead to a named owner (a hand-over when someone held it); paused or full owners need force."""
    _require_open(lead, "assigned")
    owner = find_owner(session, name, hold=True)
    if lead.owner_key == owner.name_key:
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is already {owner.name}'s.")
    _check_room(load_of(session, owner, clock.now()), force)
    return _hand_over(session, lead, owner, "direct", expected=lead.owner_key)


def claim(session: Session, lead: Lead, *, force: bool = False) -> dict:
    """The acting seller takes an unowned lead: refused cleanly if anyone holds it, even a moment ago."""
    _require_open(lead, "claimed")
    owner = _acting_owner(session, force)
    if lead.owner_key is not None:
        whose = "already yours" if lead.owner_key == owner.name_key else f"{lead.owner}'s"
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is {whose}; only a lead with no owner can be claimed.")
    return _hand_over(session, lead, owner, "claim", expected=None)


def claim_next(session: Session, *, force: bool = False) -> dict:
    """The acting seller takes the best unowned open lead by score (ties: the oldest)."""
    owner = _acting_owner(session, force)
    query = (
        select(Lead)
        .where(LEADS.c.status == "open", LEADS.c.owner_key.is_(None))
        .order_by(LEADS.c.score.desc(), LEADS.c.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent claimers each lock a different lead instead of queueing for the same one.
        query = query.with_for_update(skip_locked=True)
    lead = session.execute(query).scalars().first()
    if lead is None:
        raise NotFound("There is no unowned open lead to claim.")
    return _hand_over(session, lead, owner, "claim", expected=None)


def _acting_owner(session: Session, force: bool) -> Owner:
    name = current_actor()
    owner = find_owner(session, name, hold=True)
    _check_room(load_of(session, owner, clock.now()), force)
    return owner


def release(session: Session, lead: Lead, *, force: bool = False) -> dict:
    """Give a lead back (no owner). Someone else's lead only with force: it is theirs to give."""
    _require_open(lead, "released")
    if lead.owner_key is None:
        raise RuleViolation(f"Lead #{lead.id} {lead.name} has no owner to release it from.")
    actor = current_actor()
    if lead.owner_key != fold(actor) and not force:
        raise RuleViolation(
            f"Lead #{lead.id} {lead.name} is {lead.owner}'s, not yours ({actor}); "
            f"use --force to release it anyway, or `pipectl assign {lead.id} --to NAME` to hand it over."
        )
    previous = lead.owner
    _set_owner(session, lead, None, expected=lead.owner_key)
    record(session, lead, "released", clock.now(), note=f"from {previous}", data={"from": previous})
    return {"id": lead.id, "name": lead.name, "owner": None, "previous": previous, "how": "release"}


def release_all(session: Session, name: str) -> list[dict]:
    """Give back every open lead of an owner (before taking them off the roster), in bulk."""
    owner_key = fold(name)
    rows = session.execute(
        select(LEADS.c.id, LEADS.c.name, LEADS.c.owner)
        .where(LEADS.c.status == "open", LEADS.c.owner_key == owner_key)
        .order_by(LEADS.c.id)
        .with_for_update()
    ).all()
    if not rows:
        raise RuleViolation(f"{name} holds no open lead.")
    ids = [row.id for row in rows]
    now = clock.now()
    session.execute(
        update(LEADS).where(LEADS.c.id.in_(ids), LEADS.c.owner_key == owner_key).values(owner=None, owner_key=None)
    )
    _bulk_activities(
        session, [(row.id, "released", f"from {row.owner}", {"from": row.owner}) for row in rows], now, touch=ids
    )
    return [{"id": row.id, "name": row.name, "owner": None, "previous": row.owner, "how": "release"} for row in rows]


def round_robin(session: Session, wanted: Candidates | None = None, *, lead_ids: Sequence[int] | None = None) -> dict:
    """Hand unowned open leads out in turn among active owners with room, best score first.

    `lead_ids` (add and import with the auto-assign setting) limits it to those leads.
    Returns {"assigned": [rows], "left": how many candidates found no owner with room}.
    """
    now = clock.now()
    wanted = wanted or Candidates()
    team = loads(session, now, only_active=True, hold=True)
    if not team:
        raise RuleViolation("There is no active owner to hand leads to; add one with `pipectl owners add NAME`.")
    room = {load.owner.name_key: _room(load) for load in team}
    candidates = _candidates(session, wanted, lead_ids)
    count = min(len(candidates), sum(room.values()))
    if count == 0:
        return {"assigned": [], "left": len(candidates)}
    # The turn: one row, advanced by the number handed out; its old value says whose turn is first.
    end = session.execute(
        update(COUNTERS)
        .where(COUNTERS.c.name == TURN)
        .values(value=COUNTERS.c.value + count)
        .returning(COUNTERS.c.value)
    ).scalar_one()
    owners = [load.owner for load in team]
    chosen: list[tuple[int, str, Owner]] = []
    for index, (lead_id, lead_name) in enumerate(candidates[:count]):
        turn = end - count + index
        for step in range(len(owners)):
            owner = owners[(turn + step) % len(owners)]
            if room[owner.name_key] > 0:
                room[owner.name_key] -= 1
                chosen.append((lead_id, lead_name, owner))
                break
    result = cast(
        CursorResult,
        session.execute(
            update(LEADS)
            .where(LEADS.c.id == bindparam("lead_id"), LEADS.c.owner_key.is_(None))
            .values(owner=bindparam("owner_name"), owner_key=bindparam("key"), updated_at=now),
            [{"lead_id": lead_id, "owner_name": owner.name, "key": owner.name_key} for lead_id, _, owner in chosen],
        ),
    )
    # The candidates are locked (PostgreSQL) or the file is (SQLite): nobody can have taken one meanwhile.
    # Checked anyway where the driver counts an executemany's rows.
    if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(chosen):
        raise RuleViolation("Some of the leads were taken while they were handed out; nothing was changed.")
    for lead_id, _, _ in chosen:  # a lead the session holds (add's new lead) must show its new owner
        held = session.identity_map.get((Lead, (lead_id,), None))
        if held is not None:
            session.expire(held)
    session.execute(
        insert(ASSIGNMENTS),
        [{"lead_id": lead_id, "owner_key": owner.name_key, "at": now} for lead_id, _, owner in chosen],
    )
    _bulk_activities(
        session,
        [
            (
                lead_id,
                "assigned",
                _assigned_note(owner.name, None, "round-robin"),
                {"to": owner.name, "how": "round-robin"},
            )
            for lead_id, _, owner in chosen
        ],
        now,
        touch=[lead_id for lead_id, _, _ in chosen],
    )
    assigned = [
        {"id": lead_id, "name": name, "owner": owner.name, "previous": None, "how": "round-robin"}
        for lead_id, name, owner in chosen
    ]
    return {"assigned": assigned, "left": len(candidates) - count}


def newest_lead_id(session: Session) -> int:
    return session.execute(select(func.coalesce(func.max(LEADS.c.id), 0))).scalar_one()


def auto_assign_after(session: Session, last_id: int) -> dict | None:
    """With the auto-assign setting on, hand out the leads added after `last_id` that have no owner.

    None when the setting is off or no owner is active (nobody to hand them to: they stay unowned)."""
    from pipectl.core.settings import get_setting

    if get_setting(session, AUTO_ASSIGN) != "round-robin" or not loads(session, clock.now(), only_active=True):
        return None
    fresh = session.execute(
        select(LEADS.c.id).where(LEADS.c.id > last_id, LEADS.c.owner_key.is_(None), LEADS.c.status == "open")
    ).scalars()
    return round_robin(session, lead_ids=list(fresh))


def _room(load: Load) -> int:
    owner, limits = load.owner, []
    if owner.max_open is not None:
        limits.append(owner.max_open - load.open_leads)
    if owner.max_new_per_week is not None:
        limits.append(owner.max_new_per_week - load.new_this_week)
    return max(min(limits), 0) if limits else 1 << 62


def _candidates(session: Session, wanted: Candidates, lead_ids: Sequence[int] | None) -> list[tuple[int, str]]:
    query = select(LEADS.c.id, LEADS.c.name).where(LEADS.c.status == "open", LEADS.c.owner_key.is_(None))
    if lead_ids is not None:
        query = query.where(LEADS.c.id.in_(list(lead_ids)))
    if wanted.stage_id is not None:
        query = query.where(LEADS.c.stage_id == wanted.stage_id)
    for tag in wanted.tags:
        query = query.where(
            exists().where(and_(LeadTag.__table__.c.lead_id == LEADS.c.id, LeadTag.__table__.c.tag == tag))
        )
    if wanted.source:
        query = query.where(LEADS.c.source_key == fold(wanted.source))
    if wanted.min_score is not None:
        query = query.where(LEADS.c.score >= wanted.min_score)
    query = query.order_by(LEADS.c.score.desc(), LEADS.c.id)
    if wanted.limit is not None:
        query = query.limit(wanted.limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=LEADS, skip_locked=True)
    return [(row.id, row.name) for row in session.execute(query)]


def _bulk_activities(
    session: Session, rows: list[tuple[int, str, str, dict]], at: datetime, *, touch: list[int]
) -> None:
    """One executemany INSERT of bookkeeping activities (quiet kinds: idle time keeps running)."""
    # The actor is given once: left to the column's default it is worked out again for every row (a
    # password-database lookup each, 100,000 of them for a round-robin of 100,000 leads).
    actor = current_actor()
    session.execute(
        insert(ACTIVITIES),
        [
            {
                "lead_id": lead_id,
                "kind": kind,
                "at": at,
                "note": note,
                "done": True,
                "data": data,
                "recorded_at": at,
                "actor": actor,
            }
            for lead_id, kind, note, data in rows
        ],
    )
    for start in range(0, len(touch), 5000):
        chunk = touch[start : start + 5000]
        session.execute(update(LEADS).where(LEADS.c.id.in_(chunk)).values(updated_at=at))
    # The owner may be a scoring data point: the leads are re-scored before the commit.
    mark(session, touch)
