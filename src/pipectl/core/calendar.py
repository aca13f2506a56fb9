"""The agenda as an iCalendar file that Google Calendar, Outlook and Apple Calendar import.

Every planned action is a VEVENT (Google Calendar ignores VTODO on import):
an all-day event for a date-only due, a 30-minute event for an appointment.
The UID is `pipectl-task-<activity id>@<database hash>.pipectl`: the same on
every export from the same database, and re-planning keeps the activity id, so
re-importing moves an event instead of duplicating it; SEQUENCE counts the
re-plans so calendars take the newer version.
"""

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col

APPOINTMENT_LENGTH = timedelta(minutes=30)
PRODID = "-//pipectl//pipectl agenda//EN"


def calendar_domain(session: Session) -> str:
    """A short, stable name for this database (a hash of its file or URL), for UIDs."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        from pathlib import Path

        identity = "sqlite:" + str(Path(url.database).expanduser().resolve())
    else:
        identity = url.set(password=None).render_as_string(hide_password=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16] + ".pipectl"


def task_uid(task_id: int, domain: str) -> str:
    return f"pipectl-task-{task_id}@{domain}"


def agenda_ics(session: Session, rows: Iterable[dict], now: datetime) -> bytes:
    """The agenda rows' planned actions as an iCalendar document for this database."""
    planned = [row for row in rows if row.get("task_id") and row.get("next_action_due")]
    return agenda_calendar(
        planned,
        domain=calendar_domain(session),
        now=now,
        revisions=task_revisions(session, [row["task_id"] for row in planned]),
    )


def task_revisions(session: Session, task_ids: list[int]) -> dict[int, int]:
    """How many times each task was re-planned: the events' SEQUENCE."""
    from sqlmodel import select

    from pipectl.storage.models import Activity

    revisions: dict[int, int] = {}
    for start in range(0, len(task_ids), 500):
        for task_id, data in session.execute(
            select(Activity.id, Activity.data).where(col(Activity.id).in_(task_ids[start : start + 500]))
        ):
            revisions[task_id] = int((data or {}).get("revision", 0))
    return revisions


def agenda_calendar(
    rows: Iterable[dict], *, domain: str, now: datetime, revisions: dict[int, int] | None = None
) -> bytes:
    """An iCalendar document with one VEVENT per agenda row that has a planned action."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "pipectl agenda")
    stamp = _utc(now)
    for row in rows:
        if not row.get("task_id") or not row.get("next_action_due"):
            continue
        due = datetime.fromisoformat(row["next_action_due"])
        event = Event()
        event.add("uid", task_uid(row["task_id"], domain))
        event.add("dtstamp", stamp)
        event.add("sequence", (revisions or {}).get(row["task_id"], 0))
        event.add("summary", f"{row['next_action']} — {_who(row)}")
        event.add("description", _description(row))
        if row.get("appointment"):
            event.add("dtstart", _utc(due))
            event.add("dtend", _utc(due + APPOINTMENT_LENGTH))
        else:
            event.add("dtstart", due.date())
            event.add("dtend", due.date() + timedelta(days=1))
            event.add("transp", "TRANSPARENT")  # an all-day to-do does not make the seller busy
        event.add("categories", ["pipectl", row["stage"]])
        calendar.add_component(event)
    return calendar.to_ical()


def _utc(moment: datetime) -> datetime:
    # Naive datetimes are local time; UTC needs no VTIMEZONE block and every client reads it.
    return moment.astimezone(UTC)


def _who(row: dict) -> str:
    return f"{row['name']} ({row['company']})" if row.get("company") else row["name"]


def _description(row: dict) -> str:
    lines = [f"Lead #{row['id']} {_who(row)}", f"Stage: {row['stage']}"]
    if row.get("value") is not None:
        lines.append(f"Value: {row['value']:,.2f}")
    for key, label in (("email", "Email"), ("phone", "Phone")):
        if row.get(key):
            lines.append(f"{label}: {row[key]}")
    lines.append(f"pipectl show {row['id']}")
    return "\n".join(lines)
