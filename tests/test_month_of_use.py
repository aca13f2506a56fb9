"""Issue 13's month of use: four weeks of a seller's days with PIPECTL_NOW stepping day by day,
and the weekly `clean --yes` four times.

Each Sunday the sweep must never archive a lead with a next action due that day or later, nor a
lead whose last outreach came before a connected call or a meeting (it answered); and what it
archives must be exactly the leads that really went dead, for the reasons that say why.
"""

import json
from datetime import date, timedelta

START = date(2026, 11, 30)  # a Monday
DAYS = 28
SWEEPS = {date(2026, 12, 6), date(2026, 12, 13), date(2026, 12, 20), date(2026, 12, 27)}

# What the seller does, day by day: (lead, command, arguments…). Leads are named; ids come from `add`.
PLAN = {
    date(2026, 11, 30): [
        ("Anna", "plan", "Discovery call", "--due", "2026-12-04 10:00"),
        ("Walt", "plan", "Send proposal", "--due", "2026-12-10"),
        ("Olga", "plan", "Call Olga", "--due", "2026-12-01"),
    ],
    date(2026, 12, 1): [("Sam", "log", "email"), ("Ben", "log", "call", "--outcome", "no-answer")],
    date(2026, 12, 2): [("Sam", "log", "email"), ("Ben", "log", "email")],
    date(2026, 12, 3): [
        ("Sam", "log", "call", "--outcome", "voicemail"),
        ("Ben", "log", "email"),
        ("Mo", "log", "call", "--outcome", "busy"),
    ],
    date(2026, 12, 4): [
        ("Anna", "done", "--next", "Send deck", "--due", "2026-12-11"),
        ("Olga", "log", "note", "--note", "asked her assistant"),
    ],
    date(2026, 12, 5): [("Ben", "log", "call", "--outcome", "connected", "--note", "interested")],
    date(2026, 12, 7): [("Mo", "move", "Qualification"), ("Ben", "log", "email")],
    date(2026, 12, 8): [("Ben", "log", "email"), ("Walt", "log", "meeting")],
    date(2026, 12, 9): [("Ben", "log", "message")],
    date(2026, 12, 10): [("Ben", "plan", "Follow up", "--due", "2026-12-16")],
    date(2026, 12, 11): [
        ("Anna", "done", "--next", "Proposal review", "--due", "2026-12-18 09:30"),
        ("Olga", "log", "note"),
    ],
    date(2026, 12, 14): [("Walt", "won", "--value", "12000")],
    date(2026, 12, 16): [
        ("Ben", "log", "call", "--outcome", "connected", "--note", "agreed terms"),
        ("Ben", "done", "--next", "Contract", "--due", "2026-12-23"),
    ],
    date(2026, 12, 18): [("Anna", "done", "--next", "Sign", "--due", "2026-12-24"), ("Olga", "log", "note")],
    date(2026, 12, 21): [
        ("Gina", "restore"),
        ("Gina", "plan", "Call Gina", "--due", "2026-12-29"),
        ("Olga", "restore"),
    ],
}
# Who each Sunday's sweep archives, and the start of one of its reasons.
EXPECTED = {
    date(2026, 12, 6): {"Sam": "no reply to 3 outreach attempts"},
    date(2026, 12, 13): {},
    date(2026, 12, 20): {"Gina": "no activity for 20 days", "Olga": "next action overdue by 19 days"},
    date(2026, 12, 27): {"Mo": "no activity for 20 days (limit 14 in Qualification)"},
}
NAMES = ("Anna", "Ben", "Sam", "Gina", "Walt", "Olga", "Mo")


def test_a_month_of_use(ok, monkeypatch):
    def now(day: date, hour: int = 9) -> None:
        monkeypatch.setenv("PIPECTL_NOW", f"{day.isoformat()}T{hour:02d}:00")

    now(START, 8)
    ids = {name: int(ok("add", name, "--value", "1000").stdout) for name in NAMES}
    names = {lead_id: name for name, lead_id in ids.items()}
    # The test's own account of the rules it checks: when each lead last reached out, and last answered.
    last_outreach: dict[str, date] = {}
    last_answer: dict[str, date] = {}
    archived: dict[date, dict[str, list[str]]] = {}
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        now(day)
        for name, command, *args in PLAN.get(day, []):
            ok(command, ids[name], *args)
            if command == "log" and args[0] in ("call", "email", "message"):
                last_outreach[name] = day
            if command == "log" and (args[0] == "meeting" or args[1:3] == ["--outcome", "connected"]):
                last_answer[name] = day
        if day not in SWEEPS:
            continue
        now(day, 18)
        open_leads = json.loads(ok("list", "--status", "open", "-f", "json").stdout)
        planned_ahead = {
            names[row["id"]]
            for row in open_leads
            if row["next_action_due"] and row["next_action_due"][:10] >= day.isoformat()
        }
        answered = {name for name, answer in last_answer.items() if answer >= last_outreach.get(name, answer)}
        preview = json.loads(ok("clean", "--dry-run", "-f", "json").stdout)
        swept = json.loads(ok("clean", "--yes", "-f", "json").stdout)
        assert swept == preview  # the sweep archives what its dry run listed, nothing else
        archived[day] = {names[row["id"]]: row["reasons"] for row in swept}
        assert not planned_ahead & archived[day].keys(), f"{day}: archived a lead with a next action ahead"
        assert not answered & archived[day].keys(), f"{day}: archived a lead that answered"
        assert archived[day].keys() == EXPECTED[day].keys(), f"{day}: archived {archived[day]}"
        for name, reason in EXPECTED[day].items():
            assert any(why.startswith(reason) for why in archived[day][name]), (day, name, archived[day][name])
        # An archived lead's next action is closed: the agenda and the calendar no longer show it.
        agenda = {row["id"] for row in json.loads(ok("next", "-f", "json").stdout)}
        assert not {ids[name] for name in archived[day]} & agenda
    # The month's end: who is where.
    now(START + timedelta(days=DAYS))
    statuses = {row["name"]: row["status"] for row in json.loads(ok("list", "--status", "all", "-f", "json").stdout)}
    assert statuses == {
        "Anna": "open",
        "Ben": "open",
        "Sam": "archived",
        "Gina": "open",
        "Walt": "won",
        "Olga": "open",
        "Mo": "archived",
    }
    # Winning closed Walt's overdue proposal: it left the agenda and the calendar.
    assert "Send proposal" not in ok("next", "--format", "ics").stdout
    assert "Ben" in {row["name"] for row in json.loads(ok("list", "--status", "open", "-f", "json").stdout)}
