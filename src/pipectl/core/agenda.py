"""Next actions and the daily agenda.

A planned next action is an activity of kind `task` with `done` false and a
`due` time; a lead has at most one open. Planning again rewrites that row in
place (its id, and so its calendar UID, stays the same, and a calendar that
re-imports the agenda moves the event instead of duplicating it). Completing it
sets `done` and the completion time, which counts as activity on the lead.

`agenda` lists open leads' open tasks as overdue (due before today), today and
upcoming (within `within` after today); then stalled leads (the hygiene rules)
as needing a decision, and open leads with no next action, each highest score
first: a lead without a next step is a lead being forgotten.

In machine output an agenda row is the lead contract plus `section` (one of
SECTIONS), `days_overdue` (whole days past due; 0 when not overdue; null
without an action), `task_id` (the planned activity's id, or null) and
`appointment` (true when the due has a time of day); `needs_decision` rows
add `reasons`.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import exists
from sqlmodel import Session, col, select

from pipectl import clock
from pipectl.core.history import check_not_future, touch_lead
from pipectl.core.outcomes import require_open
from pipectl.core.rescoring import mark
from pipectl.dates import iso
from pipectl.errors import RuleViolation, UsageError
from pipectl.storage.models import Activity, Lead

TASK = "task"
SECTIONS = ("overdue", "today", "upcoming", "needs_decision", "no_next_action")
SECTION_TITLES = {
    "overdue": "Overdue",
    "today": "Today",
    "upcoming": "Upcoming",
    "needs_decision": "Stalled: needs a decision",
    "no_next_action": "No next action",
}
# The keys an agenda row adds to the lead contract.
AGENDA_KEYS = ("section", "days_overdue", "task_id", "appointment")
CHUNK = 500
DEFAULT_WITHIN = timedelta(days=7)
DEFAULT_LIMIT = 20


def open_task(session: Session, lead_id: int) -> Activity | None:
    """The lead's open next action, if it has one."""
    return session.exec(
        select(Activity)
        .where(Activity.lead_id == lead_id, Activity.done == False)  # noqa: E712
        .order_by(col(Activity.due), col(Activity.id))
        .limit(1)
    ).first()


def is_appointment(due: datetime | None) -> bool:
    """A due with a time of day is an appointment; a date alone (midnight) is all-day."""
    return due is not None and (due.hour, due.minute, due.second) != (0, 0, 0)


def plan_action(
    session: Session, lead: Lead, action: str, due: datetime | None, *, at: datetime | None = None
) -> tuple[Activity, dict | None]:
    """Set an open lead's next action; returns the task and the action it replaced (or None)."""
    action = " ".join(str(action or "").split())
    if not action:
        raise UsageError('Say what the next action is: pipectl plan LEAD "Send proposal" --due friday.')
    if due is None:
        raise UsageError("A next action needs a date: --due friday, --due 2026-12-03 10:00, --due 3d.")
    require_open(lead, "plan a next action for")
    assert lead.id is not None, "the lead is stored"
    at = at or clock.now()
    task = open_task(session, lead.id)
    replaced = None
    if task is None:
        task = Activity(
            lead_id=lead.id,
            kind=TASK,
            at=at,
            note=action,
            due=due,
            done=False,
            recorded_at=clock.now(),
            data={"revision": 0},
        )
    else:
        replaced = {"note": task.note, "due": iso(task.due)}
        data = dict(task.data or {})
        data["revision"] = int(data.get("revision", 0)) + 1
        data["replaced"] = replaced
        task.note, task.due, task.at, task.recorded_at, task.data = action, due, at, clock.now(), data
    session.add(task)
    # Planning is bookkeeping, not contact with the lead: idle time keeps running.
    lead.updated_at = clock.now()
    session.add(lead)
    session.flush()
    mark(session, [lead.id])
    return task, replaced


def complete_action(session: Session, lead: Lead, *, at: datetime | None = None, note: str | None = None) -> Activity:
    """Mark the lead's open next action done at `at` (default now); it counts as activity."""
    assert lead.id is not None, "the lead is stored"
    task = open_task(session, lead.id)
    if task is None:
        raise RuleViolation(
            f"Lead #{lead.id} {lead.name} has no open next action; plan one with "
            f'`pipectl plan {lead.id} "…" --due DATE`, or record what happened with `pipectl log`.'
        )
    at = check_not_future(at) if at is not None else clock.now()
    if at < lead.created_at:
        raise UsageError(f"--at {at:%Y-%m-%d %H:%M} is before the lead was added ({lead.created_at:%Y-%m-%d}).")
    data = dict(task.data or {})
    data["planned_at"] = iso(task.at)
    note = " ".join((note or "").split())
    if note:
        data["action"], data["outcome"] = task.note, note
        task.note = f"{task.note}: {note}"
    task.done, task.at, task.recorded_at, task.data = True, at, clock.now(), data
    session.add(task)
    touch_lead(session, lead, TASK, at)
    return task


@dataclass
class AgendaRow:
    """One line of the agenda: a lead, its section, and its open task (None for no next action)."""

    lead_id: int
    section: str
    task_id: int | None = None
    due: datetime | None = None
    days_overdue: int | None = None
    reasons: list[str] | None = None


def day_bounds(now: datetime, within: timedelta) -> tuple[datetime, datetime, datetime]:
    """Start of today, start of tomorrow, and the end of the upcoming window (`within` after today)."""
    today = datetime.combine(now.date(), time())
    tomorrow = today + timedelta(days=1)
    return today, tomorrow, tomorrow + within


def planned_rows(session: Session, now: datetime, within: timedelta = DEFAULT_WITHIN) -> Iterator[AgendaRow]:
    """Open tasks of open leads due before the end of the window: overdue, then today, then upcoming.

    Within each day, higher scores come first; overdue days run from the most overdue.
    Rows stream from one SQL query ordered by due time, so memory holds one day at a time.
    """
    if within < timedelta(0):
        raise UsageError("--within cannot be negative.")
    today, tomorrow, horizon = day_bounds(now, within)
    query = (
        select(Activity.id, Activity.lead_id, Activity.due, Lead.score)
        .join(Lead, col(Lead.id) == col(Activity.lead_id))
        .where(
            col(Activity.done) == False,  # noqa: E712
            col(Activity.due).is_not(None),
            col(Activity.due) < horizon,
            Lead.status == "open",
        )
        .order_by(col(Activity.due), col(Lead.score).desc(), col(Activity.id))
        .execution_options(yield_per=CHUNK)
    )
    rows = session.execute(query)
    for day, group in itertools.groupby(rows, key=lambda row: row.due.date()):
        section = "overdue" if day < today.date() else "today" if day < tomorrow.date() else "upcoming"
        overdue = max((today.date() - day).days, 0)
        for row in sorted(group, key=lambda row: (-(row.score or 0), row.due, row.id)):
            yield AgendaRow(lead_id=row.lead_id, section=section, task_id=row.id, due=row.due, days_overdue=overdue)


def unplanned_rows(
    session: Session, limit: int | None = DEFAULT_LIMIT, *, exclude: set[int] | None = None
) -> list[AgendaRow]:
    """Open leads without an open next action, highest score first, at most `limit` (None: all)."""
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1.")
    has_task = exists().where(col(Activity.lead_id) == col(Lead.id), col(Activity.done) == False)  # noqa: E712
    query = (
        select(col(Lead.id)).where(col(Lead.status) == "open", ~has_task).order_by(col(Lead.score).desc(), col(Lead.id))
    )
    if exclude:
        query = query.where(col(Lead.id).not_in(sorted(exclude)))
    # Ids are primary keys, never None; the check only tells the type checker so.
    return [
        AgendaRow(lead_id=lead_id, section="no_next_action")
        for lead_id in session.exec(query.limit(limit))
        if lead_id is not None
    ]


# How many of the highest-scoring open leads the "needs a decision" section checks at most:
# the hygiene rules run page by page (fast), never over the whole pipeline (slow on a million leads).
STALLED_SCAN = 20_000


def stalled_rows(
    session: Session, now: datetime, limit: int | None = DEFAULT_LIMIT, *, within: timedelta = DEFAULT_WITHIN
) -> list[AgendaRow]:
    """Stalled open leads (the hygiene rules), highest score first: each needs a decision.

    Leads already listed with an action due in the window are left out. Open leads are read in
    pages by score (keyset paging on the status/score index) and each page is checked with the
    hygiene rules, until `limit` stalled leads are found or `STALLED_SCAN` leads were checked.
    """
    _today, _tomorrow, horizon = day_bounds(now, within)
    due_in_window = exists().where(
        col(Activity.lead_id) == col(Lead.id),
        col(Activity.done) == False,  # noqa: E712
        col(Activity.due) < horizon,
    )
    from pipectl.core.hygiene import StaleFinder

    finder = StaleFinder(session, now)
    found: list[AgendaRow] = []
    last: tuple[int, int] | None = None
    for _page in range(STALLED_SCAN // CHUNK):
        query = select(Lead.id, Lead.score).where(Lead.status == "open", ~due_in_window)
        if last is not None:
            # `score <= last` lets SQLite seek in the (status, score) index to where the page ended,
            # instead of walking every page before it again.
            query = query.where(
                Lead.score <= last[1],
                (col(Lead.score) < last[1]) | ((col(Lead.score) == last[1]) & (col(Lead.id) > last[0])),
            )
        page = session.execute(query.order_by(col(Lead.score).desc(), col(Lead.id)).limit(CHUNK)).all()
        if not page:
            break
        reasons = finder.reasons([lead_id for lead_id, _score in page])
        found += [
            AgendaRow(lead_id=lead_id, section="needs_decision", reasons=list(reasons[lead_id]))
            for lead_id, _score in page
            if lead_id in reasons
        ]
        if (limit is not None and len(found) >= limit) or len(page) < CHUNK:
            break
        last = tuple(page[-1])
    return found[:limit]


def agenda(
    session: Session,
    *,
    within: timedelta = DEFAULT_WITHIN,
    limit: int | None = DEFAULT_LIMIT,
    now: datetime | None = None,
    unplanned: bool = True,
) -> Iterator[AgendaRow]:
    """The whole agenda in order: overdue, today, upcoming, needs a decision, no next action.

    A lead appears once: a stalled lead already listed with a due action is not repeated, and a
    stalled lead without a next action is listed as needing a decision only.
    """
    # Checked before the first row: a streamed JSON array must not be left half-written.
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1.")
    if within < timedelta(0):
        raise UsageError("--within cannot be negative.")
    return _agenda_rows(session, within, limit, now or clock.now(), unplanned)


def _agenda_rows(
    session: Session, within: timedelta, limit: int | None, now: datetime, unplanned: bool
) -> Iterator[AgendaRow]:
    yield from planned_rows(session, now, within)
    if not unplanned:
        return
    stalled = stalled_rows(session, now, limit, within=within)
    yield from stalled
    yield from unplanned_rows(session, limit, exclude={row.lead_id for row in stalled})


def agenda_dicts(session: Session, rows: Iterator[AgendaRow]) -> Iterator[dict]:
    """Agenda rows as lead-contract dicts plus `section`, `days_overdue`, `task_id`, `appointment`."""
    from pipectl.core.views import LeadFilter, lead_rows

    for chunk in _chunks(rows, CHUNK):
        leads = {
            lead["id"]: lead
            for lead in lead_rows(session, LeadFilter(status="all", ids=sorted({row.lead_id for row in chunk})))
        }
        for row in chunk:
            item = dict(leads[row.lead_id])
            item.update(
                section=row.section,
                days_overdue=row.days_overdue,
                task_id=row.task_id,
                appointment=is_appointment(row.due) if row.task_id else None,
            )
            if row.reasons is not None:
                item["reasons"] = row.reasons
            yield item


def cap_sections(rows: Iterator[AgendaRow], per_section: int, hidden: dict[str, int]) -> Iterator[AgendaRow]:
    """At most `per_section` rows of each section; how many more each had is counted into `hidden`."""
    shown: dict[str, int] = {}
    for row in rows:
        if shown.get(row.section, 0) < per_section:
            shown[row.section] = shown.get(row.section, 0) + 1
            yield row
        else:
            hidden[row.section] = hidden.get(row.section, 0) + 1


def _chunks(rows, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
