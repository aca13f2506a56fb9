"""`stages …`: 2 to 6 open stages, in order, and nothing lost when one is removed."""

import json

import pytest


def stages(ok) -> list[dict]:
    return json.loads(ok("stages", "list", "-f", "json").stdout)


def names(ok) -> list[str]:
    return [stage["name"] for stage in stages(ok)]


def test_add_rename_move_and_set(ok):
    ok("stages", "add", "Negotiation", "--probability", "85", "--idle-days", "21", "--action", "Agree terms")
    ok("stages", "add", "Intro", "--position", "1", "--probability", "5")
    assert names(ok) == ["Intro", "Discovery", "Qualification", "Contact", "Proposal", "Negotiation"]
    ok("stages", "rename", "contact", "Demo")
    ok("stages", "move", "Negotiation", "2")
    assert names(ok) == ["Intro", "Negotiation", "Discovery", "Qualification", "Demo", "Proposal"]
    ok(
        "stages",
        "set",
        "Demo",
        "--probability",
        "40",
        "--idle-days",
        "10",
        "--require-bant",
        "--min-score",
        "50",
        "--action",
        "Run the demo",
    )
    demo = next(stage for stage in stages(ok) if stage["name"] == "Demo")
    assert (demo["probability"], demo["idle_days"], demo["requires_bant"], demo["min_score"], demo["actions"]) == (
        40,
        10,
        True,
        50,
        ["Run the demo"],
    )
    ok("stages", "set", "Demo", "--no-min-score", "--no-require-bant")
    demo = next(stage for stage in stages(ok) if stage["name"] == "Demo")
    assert (demo["requires_bant"], demo["min_score"]) == (False, None)
    assert [stage["position"] for stage in stages(ok)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["add", "Contact"], 1, "already a stage"),
        (["add", "X", "--probability", "120"], 2, "between 0 and 100"),
        (["add", "X", "--idle-days", "0"], 2, "Idle days"),
        (["add", "X", "--position", "9"], 2, "position"),
        (["add", "Won"], 2, "is a lead status"),
        (["rename", "Contact", "proposal"], 1, "already a stage"),
        (["rename", "Nowhere", "X"], 1, "There is no stage"),
        (["move", "Contact", "0"], 2, "position"),
        (["set", "Contact"], 2, "Nothing to set"),
        (["set", "Contact", "--min-score", "101"], 2, "between 0 and 100"),
        (["set", "Contact", "--min-score", "5", "--no-min-score"], 2, "exclude each other"),
    ],
)
def test_bad_stage_changes_are_refused(ok, cli, snapshot, args, code, fragment):
    ok("list")
    before = snapshot()
    result = cli("stages", *args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Error:") and fragment in result.stderr
    assert snapshot() == before


def test_between_two_and_six_stages(ok, cli):
    ok("stages", "add", "Five")
    ok("stages", "add", "Six")
    too_many = cli("stages", "add", "Seven")
    assert too_many.exit_code == 1 and "at most 6" in too_many.stderr
    for name in ("Five", "Six", "Discovery", "Qualification"):
        ok("stages", "remove", name)
    too_few = cli("stages", "remove", "Contact")
    assert too_few.exit_code == 1 and "at least 2" in too_few.stderr


def test_removing_a_stage_with_leads_asks_where_they_go(ok, cli, new_lead, snapshot):
    new_lead("Ada", "--stage", "Contact")
    new_lead("Bob", "--stage", "Contact")
    ok("won", "2")
    before = snapshot()
    refused = cli("stages", "remove", "Contact")
    assert refused.exit_code == 1 and "holds 2 lead(s)" in refused.stderr and "--to" in refused.stderr
    assert snapshot() == before
    ok("stages", "remove", "Contact", "--to", "Qualification")
    assert names(ok) == ["Discovery", "Qualification", "Proposal"]
    leads = json.loads(ok("list", "--status", "all", "-f", "json").stdout)
    assert {lead["stage"] for lead in leads} == {"Qualification"}
    # The history keeps the removed stage's name.
    history = json.loads(ok("show", "1", "-f", "json").stdout)["activities"]
    assert (history[0]["from_stage"], history[0]["to_stage"]) == ("Contact", "Qualification")
    assert history[1]["to_stage"] == "Contact"
    # Adding it again brings the same stage back.
    ok("stages", "add", "Contact")
    assert names(ok)[-1] == "Contact"


def test_stages_list_counts_open_leads(ok, new_lead):
    new_lead("Ada")
    new_lead("Bob")
    ok("won", "2")
    counts = {stage["name"]: stage["open_leads"] for stage in stages(ok)}
    assert counts == {"Discovery": 1, "Qualification": 0, "Contact": 0, "Proposal": 0}
    assert "Discovery" in ok("stages", "list").stdout
