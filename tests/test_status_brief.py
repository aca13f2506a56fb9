"""`pipectl status` and `pipectl brief` on a pipeline whose figures are worked out by hand.

Now is Monday 2026-11-23 09:00. Default stages: Discovery 10%, Qualification 25%, Contact 50%
(idle after 21 days), Proposal 75%. Quota saved: 50,000 per month (November).

open  Ada   Discovery  10,000  task "Call back" due 2026-11-22 (1 day overdue), closes 2026-11-30
open  Bob   Proposal   20,000  task "Send contract" due today, closes 2026-11-28
open  Cy    Contact    30,000  added 40 days ago, untouched: stalled (idle); closes 2027-01-15
open  Gus   Discovery  none    added 5 days ago; a demo 2 hours ago: score 0 -> 60 (nurture -> MQL)
won   Dee   8,000 on 2026-11-21 (this week)      won  Fay  6,000 on 2026-11-13 (this month)
lost  Eve   4,000 on 2026-11-20 (this week)

Pipeline: 4 open, 60,000; weighted 10,000 x 10% + 20,000 x 75% + 30,000 x 50% = 31,000.
Quota: won in November 8,000 + 6,000 = 14,000; expected by 30 November: Ada 1,000 + Bob 15,000 =
16,000; gap 50,000 - 14,000 - 16,000 = 20,000; average deal 7,000 x win rate 2/3 = 4,666.67 a new
lead, so ceil(20,000 / 4,666.67) = 5 new leads.
"""

import json

import pytest

from insight_support import pipeline_fixtures

RULES = """
[thresholds]
nurture_below = 30
mql = 50
sql = 75

[scoring]
demographic = []

[[scoring.behavioural]]
name = "Demos"
kind = "demo"
points = 60
"""


def build(b) -> dict:
    b.ok("init")
    rules = b.folder / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    b.ok("rules", "load", rules)
    ids = {}
    ids["ada"] = b.lead(
        "Ada", "--value", "10k", "--company", "Acme", "--industry", "retail", "--field", "expected_close=2026-11-30"
    )
    b.ok("plan", ids["ada"], "Call back", "--due", "2026-11-22")
    ids["bob"] = b.lead(
        "Bob", "--value", "20k", "--stage", "Proposal", "--force", "--field", "expected_close=2026-11-28"
    )
    b.ok("plan", ids["bob"], "Send contract", "--due", "today")
    ids["cy"] = b.lead(
        "Cy", "--value", "30k", "--stage", "Contact", "--at", "-40d", "--field", "expected_close=2027-01-15"
    )
    ids["gus"] = b.lead("Gus", "--at", "-5d", "--source", "partner")
    b.ok("log", ids["gus"], "demo", "--at", "2026-11-23T07:00:00")
    ids["dee"] = b.lead("Dee", "--value", "5k", "--stage", "Qualification", "--at", "-30d", "--industry", "Retail")
    b.ok("log", ids["dee"], "meeting", "--at", "-25d")
    b.ok("won", ids["dee"], "--value", "8k", "--at", "2026-11-21")
    ids["fay"] = b.lead("Fay", "--value", "6k", "--at", "-60d", "--source", "Partner")
    b.ok("log", ids["fay"], "call", "--at", "-50d")
    b.ok("won", ids["fay"], "--at", "2026-11-13")
    ids["eve"] = b.lead("Eve", "--value", "4k", "--at", "-20d", "--industry", "retail")
    b.ok("lost", ids["eve"], "--reason", "price", "--at", "2026-11-20")
    b.ok("forecast", "--quota", "50k", "--save")
    return ids


built, pipeline = pipeline_fixtures(build)


def status_json(ok) -> dict:
    return json.loads(ok("status", "-f", "json").stdout)


def test_status_figures_by_hand(pipeline, ok):
    ids = pipeline
    data = status_json(ok)
    actions = data["actions"]
    assert (actions["overdue"], actions["today"]) == (1, 1)
    assert [(row["id"], row["action"], row["days_overdue"], row["section"]) for row in actions["list"]] == [
        (ids["ada"], "Call back", 1, "overdue"),
        (ids["bob"], "Send contract", 0, "today"),
    ]
    decision = data["needs_decision"]
    assert decision["leads"] == 1
    assert [row["id"] for row in decision["list"]] == [ids["cy"]]
    assert decision["list"][0]["reasons"] == ["no activity for 40 days (limit 21 in Contact)"]
    stages = {row["stage"]: (row["leads"], row["value"], row["weighted"]) for row in data["pipeline"]["stages"]}
    assert stages == {
        "Discovery": (2, 10000.0, 1000.0),
        "Qualification": (0, 0.0, 0.0),
        "Contact": (1, 30000.0, 15000.0),
        "Proposal": (1, 20000.0, 15000.0),
    }
    assert data["pipeline"]["open"] == {"leads": 4, "value": 60000.0, "weighted": 31000.0}
    quota = data["quota"]
    assert (quota["amount"], quota["won"], quota["expected"], quota["gap"]) == (50000.0, 14000.0, 16000.0, 20000.0)
    assert quota["new_leads_needed"] == 5
    week = data["week"]
    assert week["won"] == {"leads": 1, "value": 8000.0}
    assert week["lost"] == {"leads": 1, "value": 4000.0}
    assert [win["id"] for win in week["wins"]] == [ids["dee"]]
    crossings = data["score_crossings"]
    assert crossings["leads"] == 1
    assert [
        (row["id"], row["was"], row["score"], row["was_band"], row["band"], row["direction"])
        for row in crossings["list"]
    ] == [(ids["gus"], 0, 60, "nurture", "mql", "up")]


def test_status_quota_matches_forecast(pipeline, ok):
    # One function makes both: the morning screen never disagrees with `forecast`.
    forecast = json.loads(ok("forecast", "-f", "json").stdout)
    assert status_json(ok)["quota"] == forecast["quota"]


def test_status_fits_one_screen_at_80_columns(pipeline, ok, terminal, new_lead):
    # Long names and many rows in every section: the screen still fits 80 x 40.
    for index in range(8):
        lead = new_lead(
            f"Someone With A Really Quite Long Name Number {index}", "--company", "Company " * 6, "--value", "1k"
        )
        ok("plan", lead, "A next action described in far too many words for one column", "--due", "-2d")
    terminal(80)
    shown = ok("status").stdout
    lines = shown.rstrip("\n").split("\n")
    assert len(lines) <= 40, shown
    assert max(len(line) for line in lines) <= 80, shown
    assert "Next actions: 9 overdue, 1 today" in shown
    assert "… and 5 more: `pipectl next`" in shown
    assert "Quota (month) 50,000: won 14,000, expected 16,000, gap 20,000" in shown


def test_status_on_an_empty_pipeline(ok):
    ok("init")
    data = status_json(ok)
    assert data["actions"] == {"overdue": 0, "today": 0, "list": []}
    assert data["quota"] is None and data["score_crossings"]["leads"] == 0
    assert "Next actions: 0 overdue, 0 today — nothing due" in ok("status").stdout


def test_brief_by_hand(pipeline, ok):
    ids = pipeline
    data = json.loads(ok("brief", "Ada", "-f", "json").stdout)
    assert data["lead"]["id"] == ids["ada"] and data["lead"]["stage"] == "Discovery"
    assert data["stage_probability"] == 10
    assert data["bant"]["open"] == ["budget", "authority", "need", "timeline"]
    assert data["next_action"]["action"] == "Call back" and data["next_action"]["days_overdue"] == 1
    # Same industry (case aside): Dee was won; Eve (lost) is no example.
    similar = data["similar_won"]
    assert similar["matching"]["industry"] == "retail"
    assert [row["id"] for row in similar["list"]] == [ids["dee"]] and similar["leads"] == 1
    assert similar["list"][0]["matched"] == ["industry"]
    assert similar["moved_by"] == [{"kind": "meeting", "leads": 1, "share": 1.0}]
    gus = json.loads(ok("brief", "Gus", "-f", "json").stdout)
    assert gus["score"]["score"] == 60 and gus["score"]["band"] == "mql"
    assert gus["score"]["reasons"] == [{"rule": "Demos", "points": 60, "detail": "1 × +60"}]
    assert [activity["kind"] for activity in gus["activities"]] == ["demo", "created"]
    assert [row["id"] for row in gus["similar_won"]["list"]] == [ids["fay"]]


def test_brief_fits_80_columns(pipeline, ok, terminal):
    terminal(80)
    shown = ok("brief", "Ada").stdout
    assert max(len(line) for line in shown.split("\n")) <= 80, shown
    assert "Similar won leads: 1 (industry retail)" in shown


def test_brief_of_an_unknown_lead_is_refused(pipeline, cli):
    result = cli("brief", "Nobody")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and result.stdout == ""


@pytest.mark.parametrize("command", [["status", "-f", "csv"], ["brief", "Ada", "-f", "md"]])
def test_formats_they_do_not_write_are_usage_errors(pipeline, cli, command):
    result = cli(*command)
    assert result.exit_code == 2 and "Error: --format" in result.stderr
