"""Next actions: `plan` and `done`, at the fixed time Monday 2026-11-23 09:00."""

import json

import pytest


def tasks_of(ok, lead_id):
    detail = json.loads(ok("show", lead_id, "-f", "json").stdout)
    return [activity for activity in detail["activities"] if activity["kind"] == "task"]


# --- plan ----------------------------------------------------------------------------------------


def test_plan_sets_the_next_action_in_the_lead_contract(ok, new_lead):
    lead_id = new_lead("Ada")
    result = ok("plan", lead_id, "Send proposal", "--due", "friday")
    assert "Planned for lead #1 Ada: Send proposal, due Fri 2026-11-27" in result.stderr
    lead = json.loads(ok("list", "-f", "json").stdout)[0]
    assert lead["next_action"] == "Send proposal"
    assert lead["next_action_due"].startswith("2026-11-27T00:00:00")
    [task] = tasks_of(ok, lead_id)
    assert task["done"] is False


def test_plan_again_replaces_the_open_action_and_says_so(ok, new_lead):
    lead_id = new_lead("Ada")
    ok("plan", lead_id, "Send proposal", "--due", "friday")
    first = tasks_of(ok, lead_id)[0]
    result = ok("plan", lead_id, "Send proposal v2", "--due", "2026-12-03 10:00")
    assert "Replaced the previous next action" in result.stderr
    assert "Send proposal (due Fri 2026-11-27)" in result.stderr
    [task] = tasks_of(ok, lead_id)
    assert task["id"] == first["id"]  # the same row: a calendar re-import moves the event
    assert task["note"] == "Send proposal v2"
    assert task["due"].startswith("2026-12-03T10:00")
    assert task["data"]["revision"] == 1


def test_plan_does_not_count_as_contact(ok, new_lead):
    lead_id = new_lead("Ada", "--at", "-5d")
    ok("plan", lead_id, "Call", "--due", "tomorrow")
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["last_activity_at"].startswith("2026-11-18")


def test_plan_a_past_due_warns(ok, new_lead):
    lead_id = new_lead("Ada")
    assert "overdue" in ok("plan", lead_id, "Call", "--due", "-2d").stderr


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("1", "Call", "--due", "someday"), 2, "Cannot read the date"),
        (("1", "Call"), 2, "needs a date"),
        (("1", "  ", "--due", "friday"), 2, "Say what the next action is"),
        (("99", "Call", "--due", "friday"), 1, "There is no lead #99"),
    ],
)
def test_plan_refusals_write_nothing(cli, new_lead, snapshot, args, code, message):
    new_lead("Ada")
    before = snapshot()
    result = cli("plan", *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert snapshot() == before


@pytest.mark.parametrize("close", [("won",), ("lost", "--reason", "budget cut")])
def test_plan_refuses_closed_leads(cli, ok, new_lead, snapshot, close):
    lead_id = new_lead("Ada")
    ok(close[0], lead_id, *close[1:])
    before = snapshot()
    result = cli("plan", lead_id, "Call", "--due", "friday")
    assert result.exit_code == 1
    assert "cannot plan" in result.stderr and "reopen" in result.stderr
    assert snapshot() == before


# --- done ----------------------------------------------------------------------------------------


def test_done_completes_the_action_and_counts_as_activity(ok, new_lead):
    lead_id = new_lead("Ada", "--at", "-5d")
    ok("plan", lead_id, "Send proposal", "--due", "yesterday")
    result = ok("done", lead_id, "--note", "sent v2")
    assert "Done on lead #1 Ada: Send proposal: sent v2" in result.stderr
    [task] = tasks_of(ok, lead_id)
    assert task["done"] is True
    assert task["at"].startswith("2026-11-23T09:00")
    assert task["due"].startswith("2026-11-22T00:00")  # the due date is kept
    assert task["data"]["outcome"] == "sent v2"
    lead = json.loads(ok("show", lead_id, "-f", "json").stdout)
    assert lead["last_activity_at"].startswith("2026-11-23T09:00")
    assert lead["next_action"] is None


def test_done_at_records_when_it_was_done(ok, new_lead):
    lead_id = new_lead("Ada", "--at", "-5d")
    ok("plan", lead_id, "Call", "--due", "-2d")
    ok("done", lead_id, "--at", "-2d")
    assert tasks_of(ok, lead_id)[0]["at"].startswith("2026-11-21T00:00")
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["last_activity_at"].startswith("2026-11-21")


def test_done_next_plans_the_following_action_in_the_same_command(ok, new_lead):
    lead_id = new_lead("Ada")
    ok("plan", lead_id, "Call", "--due", "today")
    result = ok("done", lead_id, "--next", "Send proposal", "--due", "3d")
    assert "Planned for lead #1 Ada: Send proposal, due Thu 2026-11-26" in result.stderr
    tasks = tasks_of(ok, lead_id)
    assert [(task["note"], task["done"]) for task in tasks] == [("Send proposal", False), ("Call", True)] or sorted(
        (task["note"], task["done"]) for task in tasks
    ) == [("Call", True), ("Send proposal", False)]
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["next_action"] == "Send proposal"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("--due", "friday"), 2, "--due goes with --next"),
        (("--next", "Follow up"), 2, "--next needs a date"),
        (("--next", "Follow up", "--due", "someday"), 2, "Cannot read the date"),
        (("--at", "tomorrow"), 2, "in the future"),
    ],
)
def test_done_bad_usage_writes_nothing(cli, ok, new_lead, snapshot, args, code, message):
    lead_id = new_lead("Ada")
    ok("plan", lead_id, "Call", "--due", "today")
    before = snapshot()
    result = cli("done", lead_id, *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert snapshot() == before


def test_done_without_an_open_action_is_refused(cli, new_lead, snapshot):
    lead_id = new_lead("Ada")
    before = snapshot()
    result = cli("done", lead_id)
    assert result.exit_code == 1
    assert "no open next action" in result.stderr and "pipectl plan" in result.stderr
    assert snapshot() == before


def test_done_next_on_a_closed_lead_changes_nothing(cli, ok, new_lead, snapshot):
    lead_id = new_lead("Ada")
    ok("plan", lead_id, "Call", "--due", "today")
    ok("won", lead_id)
    before = snapshot()
    result = cli("done", lead_id, "--next", "Upsell", "--due", "1m")
    assert result.exit_code == 1
    assert snapshot() == before  # the whole command failed, nothing was planned
    # Winning closed the open action (issue 13): there is nothing left to complete.
    assert "no open next action" in cli("done", lead_id).stderr


def test_plan_refuses_an_archived_lead(cli, new_lead, db_location, snapshot):
    from backends import execute

    lead_id = new_lead("Ada")
    # Archiving belongs to `clean`; here only the status matters.
    execute(db_location, "UPDATE leads SET status = 'archived' WHERE id = :id", parameters={"id": lead_id})
    before = snapshot()
    result = cli("plan", lead_id, "Call", "--due", "friday")
    assert result.exit_code == 1
    assert "archived" in result.stderr and "pipectl restore" in result.stderr
    assert snapshot() == before


def test_done_on_an_unknown_lead_is_refused(cli, new_lead, snapshot):
    new_lead("Ada")
    before = snapshot()
    result = cli("done", "99")
    assert result.exit_code == 1
    assert "There is no lead #99" in result.stderr
    assert snapshot() == before
