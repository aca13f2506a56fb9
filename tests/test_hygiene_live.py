"""Issue 13: the weekly sweep spares live deals. Each finding as a test, end to end through the CLI.

A next action due today or later keeps a lead out of the idle, too-long-in-stage and no-response
rules; an overdue one is a reason of its own. A connected call or a meeting is the lead answering.
pipectl's own moves are not the seller's activity. Closing a lead closes its next action.
"""

import json

import pytest


def at(monkeypatch, moment: str) -> None:
    monkeypatch.setenv("PIPECTL_NOW", moment)


def dry_run(ok) -> dict[int, list[str]]:
    return {row["id"]: row["reasons"] for row in json.loads(ok("clean", "--dry-run", "-f", "json").stdout)}


def status(ok, lead: int) -> str:
    return json.loads(ok("show", lead, "-f", "json").stdout)["status"]


# -- a next action due today or later keeps a lead alive -----------------------------------------


def test_a_rescheduled_call_spares_a_lead_from_no_response(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-12-01T09:00")
    six = new_lead("Six")
    for day, kind in (("02", "call"), ("03", "email"), ("04", "message")):
        at(monkeypatch, f"2026-12-{day}T10:00")
        ok("log", six, kind)
    ok("plan", six, "Call back", "--due", "2026-12-20")
    at(monkeypatch, "2026-12-20T10:00")
    ok("log", six, "call", "--note", "rescheduled")
    ok("done", six, "--next", "Intro call", "--due", "2026-12-22 09:30")
    at(monkeypatch, "2026-12-21T10:00")
    assert six not in dry_run(ok)
    assert six not in {row["id"] for row in json.loads(ok("list", "--stale", "-f", "json").stdout)}
    ok("clean", "--yes")
    assert status(ok, six) == "open"
    assert "Intro call" in ok("next", "--format", "ics").stdout
    # Once the call is past and nothing is planned, the four unanswered attempts count again.
    at(monkeypatch, "2026-12-23T10:00")
    assert dry_run(ok)[six] == ["no reply to 4 outreach attempts since 2026-12-02 (limit 3)"]


def test_planning_ahead_spares_an_idle_lead(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-12-02T09:00")
    nine, other = new_lead("Nine"), new_lead("Other")
    at(monkeypatch, "2026-12-21T09:00")
    ok("plan", nine, "Call Édith", "--due", "2026-12-23")
    assert dry_run(ok) == {other: ["no activity for 19 days (limit 14 in Discovery)"]}
    # Due today still counts as ahead of the seller.
    at(monkeypatch, "2026-12-23T18:00")
    assert nine not in dry_run(ok)


def test_a_planned_action_spares_too_long_in_stage_but_not_disqualified(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-10-01T09:00")
    lead = new_lead("Slow")
    ok("qualify", lead, "--budget", "no")
    ok("plan", lead, "Check in", "--due", "2027-01-10")
    at(monkeypatch, "2026-12-01T09:00")
    # Disqualified is a fact about the lead, not about its pace: a plan does not hide it.
    reasons = dry_run(ok)[lead]
    assert "no budget (BANT budget is no)" in reasons
    assert not any(reason.startswith(("no activity", "in Discovery for")) for reason in reasons)
    for rule in ("idle", "too-long-in-stage", "no-response"):
        assert json.loads(ok("clean", "--dry-run", "--rule", rule, "-f", "json").stdout) == []


def test_an_overdue_action_is_a_reason_of_its_own(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-11-30T09:00")
    lead = new_lead("Olga")
    ok("plan", lead, "Call Olga", "--due", "2026-12-01")
    for day in ("05", "10"):
        at(monkeypatch, f"2026-12-{day}T09:00")
        ok("log", lead, "note", "--note", "still thinking")
    at(monkeypatch, "2026-12-15T09:00")  # overdue by 14 days: at the limit, not over it
    assert lead not in dry_run(ok)
    at(monkeypatch, "2026-12-16T09:00")
    assert dry_run(ok) == {lead: ["next action overdue by 15 days (limit 14 in Discovery)"]}
    only = json.loads(ok("clean", "--dry-run", "--rule", "overdue-action", "-f", "json").stdout)
    assert [row["id"] for row in only] == [lead]


def test_an_overdue_action_does_not_spare_an_idle_lead(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-11-30T09:00")
    lead = new_lead("Idle")
    ok("plan", lead, "Call", "--due", "2026-12-19")
    at(monkeypatch, "2026-12-20T09:00")
    assert dry_run(ok) == {lead: ["no activity for 20 days (limit 14 in Discovery)"]}


# -- how a call went --------------------------------------------------------------------------------


def test_log_a_call_outcome(ok, new_lead):
    lead = new_lead("Ada")
    logged = ok("log", lead, "call", "--outcome", "No_Answer")
    assert "Logged call (no-answer)" in logged.stderr
    shown = json.loads(ok("show", lead, "-f", "json").stdout)
    call = next(activity for activity in shown["activities"] if activity["kind"] == "call")
    assert call["data"] == {"outcome": "no-answer"}
    assert "no-answer" in ok("show", lead).stdout
    exported = json.loads(ok("export", "--what", "activities", "--format", "json").stdout)
    assert any(row["kind"] == "call" and "no-answer" in json.dumps(row) for row in exported)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["call", "--outcome", "maybe"], "Unknown call outcome 'maybe'; use one of: connected, no-answer, voicemail"),
        (["meeting", "--outcome", "connected"], "a meeting or demo is always two-way"),
        (["email", "--outcome", "connected"], "--outcome is for calls only"),
    ],
)
def test_a_bad_outcome_is_a_usage_error(cli, new_lead, snapshot, args, fragment):
    lead = new_lead("Ada")
    before = snapshot()
    result = cli("log", lead, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot() == before


@pytest.mark.parametrize(
    "answer, flagged",
    [
        (["call", "--outcome", "connected"], False),
        (["meeting"], False),
        (["call", "--outcome", "voicemail"], True),
        (["call"], True),
    ],
)
def test_a_connected_call_or_a_meeting_is_an_answer(ok, new_lead, monkeypatch, answer, flagged):
    at(monkeypatch, "2026-12-01T09:00")
    lead = new_lead("Ben")
    for day in ("01", "02", "03"):
        at(monkeypatch, f"2026-12-{day}T10:00")
        ok("log", lead, "email")
    at(monkeypatch, "2026-12-04T10:00")
    ok("log", lead, *answer)
    at(monkeypatch, "2026-12-05T10:00")
    ok("log", lead, "email")
    ok("log", lead, "email")
    at(monkeypatch, "2026-12-06T10:00")
    assert (lead in dry_run(ok)) is flagged


# -- pipectl's own changes are not the seller's activity ------------------------------------------


def test_an_automatic_move_leaves_the_idle_clock_running(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-12-01T09:00")
    ok("stages", "set", "Qualification", "--min-score", "10")
    lead = new_lead("Mover", "--title", "Head of Sales")
    at(monkeypatch, "2026-12-10T09:00")
    moves = json.loads(ok("score", "--apply", "-f", "json").stdout)
    assert [move["id"] for move in moves] == [lead]
    shown = json.loads(ok("show", lead, "-f", "json").stdout)
    assert shown["stage"] == "Qualification" and shown["last_activity_at"].startswith("2026-12-01")
    ok("score")  # re-scoring every lead is not activity either
    at(monkeypatch, "2026-12-16T09:00")
    assert dry_run(ok) == {lead: ["no activity for 15 days (limit 14 in Qualification)"]}


def test_removing_a_stage_leaves_the_idle_clock_running(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-12-01T09:00")
    lead = new_lead("Moved", "--stage", "Contact")
    at(monkeypatch, "2026-12-10T09:00")
    ok("stages", "remove", "Contact", "--to", "Qualification")
    assert json.loads(ok("show", lead, "-f", "json").stdout)["last_activity_at"].startswith("2026-12-01")


# -- closing a lead closes its next action ---------------------------------------------------------


@pytest.mark.parametrize("close", [["won"], ["lost", "--reason", "no budget"]])
def test_winning_or_losing_closes_the_next_action(ok, cli, new_lead, close):
    lead = new_lead("Ada")
    ok("plan", lead, "Send proposal", "--due", "2026-11-30 10:00")
    ok(close[0], lead, *close[1:])
    shown = json.loads(ok("show", lead, "-f", "json").stdout)
    assert shown["next_action"] is None and shown["next_action_due"] is None
    task = next(activity for activity in shown["activities"] if activity["kind"] == "task")
    assert task["done"] is True and task["data"]["closed"]["by"] == close[0]
    closing = next(activity for activity in shown["activities"] if activity["kind"] == close[0])
    assert closing["data"]["closed_action"]["note"] == "Send proposal"
    assert "not done: closed when the lead was" in ok("show", lead).stdout
    assert "Send proposal" not in ok("next", "--format", "ics").stdout
    ok("reopen", lead)
    assert "Send proposal" not in ok("next").stdout


def test_archiving_closes_the_next_action_and_restore_says_which(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-11-01T09:00")
    lead = new_lead("Gina")
    ok("plan", lead, "Send deck", "--due", "2026-11-05 14:00")
    at(monkeypatch, "2026-11-23T09:00")
    ok("clean", "--yes")
    shown = json.loads(ok("show", lead, "-f", "json").stdout)
    assert shown["status"] == "archived" and shown["next_action"] is None
    archived = next(activity for activity in shown["activities"] if activity["kind"] == "archived")
    assert archived["data"]["closed_action"]["note"] == "Send deck"
    assert "Send deck" not in ok("next", "--format", "ics").stdout
    restored = ok("restore", lead)
    assert 'Its next action "Send deck" (due 2026-11-05 14:00) was closed when it was archived' in restored.stderr
    assert json.loads(ok("show", lead, "-f", "json").stdout)["next_action"] is None


# -- purge --dry-run names the leads -----------------------------------------------------------------


def test_purge_dry_run_lists_the_leads(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-01-01T09:00")
    gone, kept = new_lead("Gone Gus", "--company", "Dustco"), new_lead("Kept Kim")
    at(monkeypatch, "2026-02-01T09:00")
    ok("log", kept, "email")
    ok("clean", "--yes", "--rule", "idle")
    at(monkeypatch, "2027-03-01T09:00")
    table = ok("clean", "--purge", "--older-than", "1y", "--dry-run").stdout
    assert "Gone Gus" in table and "Dustco" in table and "Kept Kim" not in table
    listed = json.loads(ok("clean", "--purge", "--older-than", "1y", "--dry-run", "-f", "json").stdout)
    assert [(row["id"], row["name"]) for row in listed["list"]] == [(gone, "Gone Gus")]
    assert listed["leads"] == 1
    csv_lines = ok("clean", "--purge", "--older-than", "1y", "--dry-run", "-f", "csv").stdout.splitlines()
    assert csv_lines[0] == "id,name,company,stage,archived_at,reason" and csv_lines[1].startswith(f"{gone},Gone Gus")


# -- review: the open value change is the board's -----------------------------------------------------


def open_value(ok) -> float:
    return sum(row["value"] or 0 for row in json.loads(ok("list", "--status", "open", "-f", "json").stdout))


def test_review_value_change_matches_the_board(ok, new_lead, monkeypatch):
    at(monkeypatch, "2026-10-01T09:00")
    old = new_lead("Old", "--value", "1000")
    keep, edit, win, idle = (
        new_lead(name, "--value", value)
        for name, value in (("Keep", "2000"), ("Edit", "3000"), ("Win", "4000"), ("Idle", "5000"))
    )
    at(monkeypatch, "2026-11-01T09:00")
    for lead in (keep, edit, win, idle):
        ok("log", lead, "note")
    ok("clean", "--yes")  # archives Old, before the period
    at(monkeypatch, "2026-11-16T09:00")
    before = open_value(ok)
    at(monkeypatch, "2026-11-17T09:00")
    ok("restore", old)
    ok("edit", edit, "--value", "3500")
    ok("log", edit, "note")
    ok("log", keep, "note")
    ok("won", win, "--value", "4500")
    at(monkeypatch, "2026-11-18T09:00")
    assert [row["name"] for row in json.loads(ok("clean", "--yes", "-f", "json").stdout)] == ["Idle"]
    at(monkeypatch, "2026-11-19T09:00")
    new_lead("New", "--value", "600")
    at(monkeypatch, "2026-11-23T09:00")
    update = json.loads(ok("review", "--since", "2026-11-16 09:00", "-f", "json").stdout)["pipeline"]
    assert update["archived"] == {"leads": 1, "value": 5000.0}
    assert update["restored"] == {"leads": 1, "value": 1000.0}
    assert update["value_change"] == {
        "added": 600.0,
        "closed": 4500.0,
        "archived": 5000.0,
        "restored": 1000.0,
        "edited": 1000.0,
        "change": -6900.0,
    }
    assert open_value(ok) - before == update["value_change"]["change"]
    assert "Archived: 1 (5,000), restored: 1 (1,000)" in ok("review", "--since", "2026-11-16 09:00").stdout
