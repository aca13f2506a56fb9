"""`next --format ics`: a calendar that validates, with stable UIDs; and the agenda core on its own."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar


def events_of(ok, *args) -> list:
    raw = ok("next", "-f", "ics", *args).stdout_bytes
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")  # CRLF, as RFC 5545 asks
    calendar = Calendar.from_ical(raw)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return list(calendar.walk("VEVENT"))


def by_summary(events) -> dict:
    return {str(event["SUMMARY"]): event for event in events}


@pytest.fixture
def planned(database):
    """Three planned actions (all-day, appointment, overdue) and one lead without any, built via the core."""
    from pipectl import clock
    from pipectl.core.agenda import plan_action
    from pipectl.core.leads import add_lead, validate_fields
    from pipectl.dates import parse_date

    ids = {}
    with database.session() as session:
        for key, fields, action, due in (
            (
                "ada",
                {
                    "name": "Ada",
                    "company": "[bold]Acme, Inc; Ltd",
                    "value_cents": 1_200_000,
                    "email": "ada@example.com",
                },
                "Send proposal",
                "friday",
            ),
            ("bob", {"name": "Bob"}, "Demo", "2026-11-24 10:00"),
            ("cy", {"name": "Cy"}, "Check in", "-2d"),
            ("unplanned", {"name": "Unplanned"}, None, None),
        ):
            lead, _ = add_lead(session, validate_fields(**fields))
            ids[key] = lead.id
            if action:
                plan_action(session, lead, action, parse_date(due, clock.now()))
    return ids


def test_ics_has_one_event_per_planned_action(ok, planned):
    events = by_summary(events_of(ok))
    assert set(events) == {"Send proposal — Ada ([bold]Acme, Inc; Ltd)", "Demo — Bob", "Check in — Cy"}
    for event in events.values():
        assert str(event["UID"]).startswith("pipectl-task-")
        assert event["DTSTAMP"].dt == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    proposal = events["Send proposal — Ada ([bold]Acme, Inc; Ltd)"]
    assert proposal["DTSTART"].dt == date(2026, 11, 27)  # date-only: an all-day event
    assert proposal["DTEND"].dt == date(2026, 11, 28)
    assert "ada@example.com" in str(proposal["DESCRIPTION"])
    demo = events["Demo — Bob"]
    assert demo["DTSTART"].dt == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # an appointment
    assert demo["DTEND"].dt - demo["DTSTART"].dt == timedelta(minutes=30)


def test_ics_uids_are_stable_across_runs_and_replans(ok, planned):
    first = {str(event["UID"]): event for event in events_of(ok)}
    again = {str(event["UID"]): event for event in events_of(ok)}
    assert set(first) == set(again) and len(first) == 3
    ok("plan", planned["bob"], "Demo, moved", "--due", "2026-11-25 15:00")
    moved = {str(event["UID"]): event for event in events_of(ok)}
    assert set(moved) == set(first)  # a re-import moves the event instead of duplicating it
    changed = [event for event in moved.values() if str(event["SUMMARY"]).startswith("Demo, moved")]
    assert len(changed) == 1
    assert changed[0]["SEQUENCE"] == 1
    assert changed[0]["DTSTART"].dt == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def test_ics_uids_differ_between_databases(ok, planned, tmp_path):
    here = {str(event["UID"]) for event in events_of(ok)}
    other = tmp_path / "other.db"
    ok("add", "Zed", "--db", str(other))
    ok("plan", "1", "Send proposal", "--due", "friday", "--db", str(other))
    there = {str(event["UID"]) for event in events_of(ok, "--db", str(other))}
    assert len(there) == 1 and not there & here


def test_ics_follows_within_and_leaves_out_done_actions(ok, planned):
    assert {str(event["SUMMARY"]) for event in events_of(ok, "--within", "1d")} == {"Demo — Bob", "Check in — Cy"}
    ok("done", planned["cy"])
    assert {str(event["SUMMARY"]) for event in events_of(ok, "--within", "1d")} == {"Demo — Bob"}


def test_ics_of_an_empty_agenda_is_still_a_calendar(ok):
    assert events_of(ok) == []


# --- the core ------------------------------------------------------------------------------------


def test_day_bounds_and_appointments():
    from pipectl.core.agenda import day_bounds, is_appointment

    today, tomorrow, horizon = day_bounds(datetime(2026, 11, 23, 9, 30), timedelta(days=1))
    assert (today, tomorrow, horizon) == (datetime(2026, 11, 23), datetime(2026, 11, 24), datetime(2026, 11, 25))
    assert is_appointment(datetime(2026, 11, 24, 10, 0)) and not is_appointment(datetime(2026, 11, 24))


def test_needs_a_decision_with_the_real_hygiene_rules(ok, new_lead):
    old, fresh, old_planned = new_lead("Old", "--at", "-40d"), new_lead("Fresh"), new_lead("Busy", "--at", "-40d")
    ok("plan", old_planned, "Call", "--due", "tomorrow")
    rows = json.loads(ok("next", "-f", "json").stdout)
    assert [(row["id"], row["section"]) for row in rows] == [
        (old_planned, "upcoming"),
        (old, "needs_decision"),
        (fresh, "no_next_action"),
    ]
    assert rows[1]["reasons"] and "40 days" in rows[1]["reasons"][0]
