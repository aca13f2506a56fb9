"""`move`, `won`, `lost`, `reopen`, `log`: history with real times, and refusals that change nothing."""

import json

import pytest


def detail(ok, lead="1") -> dict:
    return json.loads(ok("show", lead, "-f", "json").stdout)


def test_move_records_the_stage_change_at_the_given_time(ok, new_lead):
    new_lead("Ada", "--at", "2026-11-01")
    ok("move", "1", "Qualification", "--at", "2026-11-05", "--note", "good call")
    ok("move", "1", "contact", "--at", "yesterday")
    lead = detail(ok)
    assert lead["stage"] == "Contact" and lead["days_in_stage"] == 1
    changes = [
        (a["from_stage"], a["to_stage"], a["at"][:10]) for a in lead["activities"] if a["kind"] == "stage_change"
    ]
    assert changes == [("Qualification", "Contact", "2026-11-22"), ("Discovery", "Qualification", "2026-11-05")]
    assert lead["last_activity_at"].startswith("2026-11-22")


def test_move_into_a_stage_with_entry_rules_needs_force_and_records_it(ok, cli, new_lead, snapshot):
    new_lead("Ada")
    before = snapshot()
    refused = cli("move", "1", "Proposal")
    assert refused.exit_code == 1
    assert "BANT is not met" in refused.stderr and "budget is unknown" in refused.stderr
    assert snapshot() == before
    ok("move", "1", "Proposal", "--force")
    change = detail(ok)["activities"][0]
    assert change["kind"] == "stage_change" and change["data"]["forced"]


def test_move_respects_a_minimum_score(ok, cli, new_lead):
    new_lead("Ada")
    ok("stages", "set", "Contact", "--min-score", "40")
    refused = cli("move", "1", "Contact")
    assert refused.exit_code == 1 and "under the minimum of 40" in refused.stderr


@pytest.mark.parametrize(
    ("setup", "args", "code", "fragment"),
    [
        ([], ["move", "1", "Nowhere"], 1, "There is no stage 'Nowhere'"),
        ([], ["move", "1", "Discovery"], 1, "already in Discovery"),
        ([], ["move", "7", "Contact"], 1, "There is no lead #7"),
        ([], ["move", "1", "Contact", "--at", "2026-10-01"], 2, "before the lead entered"),
        ([], ["move", "1", "Contact", "--at", "next week"], 2, "is in the future"),  # a date now, in the future
        ([], ["move", "1", "Contact", "--at", "someday"], 2, "Cannot read the date"),
        ([["lost", "1", "--reason", "no budget"]], ["won", "1"], 1, "is lost; cannot win it"),
        ([["won", "1"]], ["won", "1"], 1, "already won"),
        ([["won", "1"]], ["move", "1", "Contact"], 1, "is won; cannot move it"),
        ([], ["lost", "1"], 1, "needs a reason"),
        ([], ["lost", "1", "--reason", "  "], 1, "needs a reason"),
        ([], ["reopen", "1"], 1, "already open"),
        ([], ["won", "1", "--value", "ten"], 2, "Cannot read the amount"),
        ([], ["won", "1", "--at", "2026-01-01"], 2, "before the lead was added"),
        ([], ["log", "1", "telepathy"], 2, "Unknown activity kind"),
        ([], ["log", "1", "call", "--at", "2d"], 2, "in the future"),
        ([], ["log", "1", "created"], 2, "Unknown activity kind"),
    ],
)
def test_refused_actions_write_nothing(ok, cli, new_lead, snapshot, setup, args, code, fragment):
    new_lead("Ada", "--at", "2026-11-20")
    for step in setup:
        ok(*step)
    before = snapshot()
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert "Error:" in result.stderr and fragment in result.stderr
    assert snapshot() == before


def test_won_lost_and_reopen(ok, new_lead):
    new_lead("Ada", "--value", "10k", "--at", "2026-11-01")
    new_lead("Bob", "--at", "2026-11-01")
    ok("won", "1", "--value", "12,500", "--at", "2026-11-20")
    ok("lost", "2", "--reason", "chose a competitor", "--at", "yesterday")
    ada, bob = detail(ok, "1"), detail(ok, "2")
    assert (ada["status"], ada["value"], ada["closed_at"][:10]) == ("won", 12500.0, "2026-11-20")
    assert ada["activities"][0]["data"] == {"value_cents": [1000000, 1250000]}
    assert (bob["status"], bob["lost_reason"]) == ("lost", "chose a competitor")
    ok("reopen", "2", "--note", "they came back")
    bob = detail(ok, "2")
    assert (bob["status"], bob["closed_at"], bob["lost_reason"], bob["stage"]) == ("open", None, None, "Discovery")
    assert bob["activities"][0]["kind"] == "reopened" and bob["activities"][0]["data"] == {"was": "lost"}
    assert [lead["name"] for lead in json.loads(ok("list", "-f", "json", "--status", "won").stdout)] == ["Ada"]


def test_log_records_activities_and_keeps_last_activity(ok, new_lead):
    new_lead("Ada", "--at", "2026-11-01")
    ok("log", "1", "Email Open", "--at", "2026-11-10")
    ok("log", "1", "call", "--note", "voicemail", "--at", "2026-11-05")
    lead = detail(ok)
    assert [a["kind"] for a in lead["activities"]][:2] == ["email_open", "call"]
    assert lead["last_activity_at"].startswith("2026-11-10")  # an older entry does not move it back
    assert "Logged call" in ok("log", "1", "call").stderr


def test_edits_do_not_count_as_activity(ok, new_lead):
    new_lead("Ada", "--at", "2026-11-01")
    ok("edit", "1", "--title", "CEO")
    assert detail(ok)["last_activity_at"].startswith("2026-11-01")
