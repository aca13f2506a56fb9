"""`pipectl metrics`: every figure worked out by hand on a small pipeline built here.

Now is 2026-11-23 09:00 (conftest). Default stages: Discovery 10%, Qualification 25%,
Contact 50%, Proposal 75% (requires BANT, so moves there use --force).

    lead  value source    owner  history                                                   status
    Ada   10k   web       sam    D 09-01, Q 09-11, C 09-21, P 10-01, won 10-11 (40 days)   won
    Bob   20k   web              D 09-05, P 09-15 (skipped Q and C), lost 09-25 "price"    lost
    Cy    30k   referral  sam    D 10-01, Q 10-06, won 10-21, reopened 11-01, won 11-11    won (41 days)
    Dee    5k   referral         D 11-02                                                   open
    Eve    8k                    C 11-10 (created in Contact)                              open
    Fay    1k                    D 10-10, lost 10-20 "no budget"                           lost
    Gus    2k                    D 10-12, lost 10-22 "price"                               lost
    Ivy    -                     D 11-15                                                   open
"""

import csv
import io
import json

import pytest

from insight_support import pipeline_fixtures
from pipectl.core.metrics import Scope, compute_metrics


def build(pipectl) -> dict:
    ok, lead = pipectl.ok, pipectl.lead
    ids = {}
    ids["ada"] = lead("Ada", "--value", "10k", "--source", "web", "--owner", "sam", "--at", "2026-09-01")
    ok("move", ids["ada"], "Qualification", "--at", "2026-09-11")
    ok("move", ids["ada"], "Contact", "--at", "2026-09-21")
    ok("move", ids["ada"], "Proposal", "--force", "--at", "2026-10-01")
    ok("won", ids["ada"], "--at", "2026-10-11")
    ids["bob"] = lead("Bob", "--value", "20k", "--source", "web", "--at", "2026-09-05")
    ok("move", ids["bob"], "Proposal", "--force", "--at", "2026-09-15")
    ok("lost", ids["bob"], "--reason", "price", "--at", "2026-09-25")
    ids["cy"] = lead("Cy", "--value", "30k", "--source", "referral", "--owner", "Sam", "--at", "2026-10-01")
    ok("move", ids["cy"], "Qualification", "--at", "2026-10-06")
    ok("won", ids["cy"], "--at", "2026-10-21")
    ok("reopen", ids["cy"], "--at", "2026-11-01")
    ok("won", ids["cy"], "--at", "2026-11-11")
    ids["dee"] = lead("Dee", "--value", "5k", "--source", "referral", "--at", "2026-11-02")
    ids["eve"] = lead("Eve", "--value", "8k", "--stage", "Contact", "--at", "2026-11-10")
    ids["fay"] = lead("Fay", "--value", "1k", "--at", "2026-10-10")
    ok("lost", ids["fay"], "--reason", "no budget", "--at", "2026-10-20")
    ids["gus"] = lead("Gus", "--value", "2k", "--at", "2026-10-12")
    ok("lost", ids["gus"], "--reason", "price", "--at", "2026-10-22")
    ids["ivy"] = lead("Ivy", "--at", "2026-11-15")
    return ids


built, pipeline = pipeline_fixtures(build)


def metrics_json(ok, *args) -> dict:
    return json.loads(ok("metrics", "--format", "json", *args).stdout)


def by_stage(data: dict) -> dict:
    return {row["stage"]: row for row in data["stages"]}


def test_overall_figures(pipeline, ok):
    data = metrics_json(ok)
    assert data["open"] == {"leads": 3, "value": 13000.0}
    # Cy was won, reopened and won again: one win, counted by its current status.
    assert data["won"] == {"leads": 2, "value": 40000.0, "without_value": 0}
    assert data["lost"] == {"leads": 3, "value": 23000.0}
    assert data["win_rate"] == 0.4
    assert data["average_deal_size"] == 20000.0
    # Ada 40 days, Cy 41 days (created 10-01, won for good 11-11).
    assert data["average_cycle_days"] == 40.5
    # 3 open leads x 20,000 x 0.4 / 40.5 days.
    assert data["velocity"] == {"per_day": 592.59, "per_month": 17777.78}
    assert data["notes"] == []


def test_stage_conversion_counts_skipped_stages(pipeline, ok):
    stages = by_stage(metrics_json(ok))
    discovery, qualification, contact, proposal = (
        stages[name] for name in ("Discovery", "Qualification", "Contact", "Proposal")
    )
    # A lead reached every stage up to the furthest it reached: Eve, created in Contact, passed
    # Discovery and Qualification; Bob, moved from Discovery to Proposal, passed Qualification and
    # Contact. So the funnel never rises from one stage to the next (issue 15).
    assert (discovery["reached"], discovery["advanced"], discovery["won"], discovery["lost"]) == (8, 4, 2, 3)
    assert discovery["conversion_next"] == 0.5
    assert discovery["conversion_won"] == 0.25
    # Ada, Bob, Cy (won from Qualification) and Eve; all moved past it (Cy by winning).
    assert (qualification["reached"], qualification["advanced"], qualification["won"], qualification["lost"]) == (
        4,
        4,
        2,
        1,
    )
    assert qualification["conversion_won"] == 0.5
    # Ada, Bob and Eve (still there).
    assert (contact["reached"], contact["advanced"], contact["won"]) == (3, 2, 1)
    assert (proposal["reached"], proposal["advanced"], proposal["won"], proposal["lost"]) == (2, 1, 1, 1)
    assert proposal["conversion_next"] == 0.5
    assert [row["reached"] for row in (discovery, qualification, contact, proposal)] == [8, 4, 3, 2]
    assert metrics_json(ok)["paths"] == {"known": 8, "unknown": 0, "unknown_reason": None}


def test_days_in_stage_and_open_per_stage(pipeline, ok):
    stages = by_stage(metrics_json(ok))
    # Ada 10, Bob 10, Cy 5, Dee 21.375 (still there), Fay 10, Gus 10, Ivy 8.375 (still there).
    assert stages["Discovery"]["average_days_in_stage"] == round(74.75 / 7, 1)
    # Ada 10, Cy 15, Cy again after reopening 10.
    assert stages["Qualification"]["average_days_in_stage"] == round(35 / 3, 1)
    # Ada 10, Eve 13.375 (still there).
    assert stages["Contact"]["average_days_in_stage"] == round(23.375 / 2, 1)
    assert stages["Proposal"]["average_days_in_stage"] == 10.0
    assert (stages["Discovery"]["open_leads"], stages["Discovery"]["open_value"]) == (2, 5000.0)
    assert (stages["Contact"]["open_leads"], stages["Contact"]["open_value"]) == (1, 8000.0)
    assert stages["Contact"]["weighted_value"] == 4000.0
    assert stages["Proposal"]["open_leads"] == 0


def test_bottleneck_lost_reasons_and_sources(pipeline, ok):
    data = metrics_json(ok)
    # Discovery and Proposal both convert half; the first one is named.
    assert data["bottleneck"] == {"stage": "Discovery", "conversion_next": 0.5}
    assert data["lost_reasons"] == [{"reason": "price", "leads": 2}, {"reason": "no budget", "leads": 1}]
    assert data["sources"] == [
        {"source": "(none)", "leads": 4, "won": 0, "lost": 2, "win_rate": 0.0},
        {"source": "referral", "leads": 2, "won": 1, "lost": 0, "win_rate": 1.0},
        {"source": "web", "leads": 2, "won": 1, "lost": 1, "win_rate": 0.5},
    ]


def test_period_bounds_outcomes_by_close_and_funnel_by_creation(pipeline, ok):
    data = metrics_json(ok, "--since", "2026-10-01", "--until", "2026-11-01")
    # Closed in October: Ada won; Fay and Gus lost (Bob lost in September, Cy's win is 11-11).
    assert data["won"] == {"leads": 1, "value": 10000.0, "without_value": 0}
    assert data["lost"] == {"leads": 2, "value": 3000.0}
    assert data["win_rate"] == round(1 / 3, 4)
    assert data["average_cycle_days"] == 40.0
    # Created in October: Cy, Fay, Gus; only Cy moved on from Discovery.
    discovery = by_stage(data)["Discovery"]
    assert (discovery["reached"], discovery["advanced"]) == (3, 1)
    assert [row["source"] for row in data["sources"]] == ["(none)", "referral"]
    assert data["period"]["since"].startswith("2026-10-01")


def test_owner_filter_ignores_case(pipeline, ok):
    data = metrics_json(ok, "--owner", "SAM")
    assert data["won"]["leads"] == 2 and data["lost"]["leads"] == 0
    assert data["win_rate"] == 1.0
    assert data["open"]["leads"] == 0
    # No open leads of sam's: velocity is zero, not undefined.
    assert data["velocity"]["per_day"] == 0.0


def test_empty_period_says_not_enough_history(pipeline, ok):
    data = metrics_json(ok, "--since", "2025-01-01", "--until", "2025-02-01")
    assert data["win_rate"] is None and data["average_deal_size"] is None
    assert data["average_cycle_days"] is None and data["velocity"] == {"per_day": None, "per_month": None}
    assert data["bottleneck"] is None
    assert all(row["reached"] == 0 and row["conversion_next"] is None for row in data["stages"])
    assert any("not enough history" in note for note in data["notes"])
    assert data["open"]["leads"] == 3  # open leads are always as of now


def test_new_pipeline_table_says_not_enough_history(new_lead, ok):
    new_lead("Solo", "--value", "3k")
    result = ok("metrics")
    assert "not enough history" in result.stdout
    assert "Funnel" in result.stdout
    data = metrics_json(ok)
    assert data["win_rate"] is None and data["notes"]


def test_only_losses_give_a_zero_win_rate_and_no_velocity(new_lead, ok):
    lead = new_lead("Gone", "--value", "3k", "--at", "2026-11-01")
    ok("lost", lead, "--reason", "ghosted", "--at", "2026-11-05")
    data = metrics_json(ok)
    assert data["win_rate"] == 0.0
    assert data["average_deal_size"] is None and data["velocity"]["per_day"] is None
    assert any("no lead has been won" in note for note in data["notes"])


def test_table_shows_funnel_bottleneck_and_escapes_text(pipeline, new_lead, ok):
    lead = new_lead("Zed", "--source", "[bold]ads", "--at", "2026-11-01")
    ok("lost", lead, "--reason", "[red]nope", "--at", "2026-11-02")
    out = ok("metrics").stdout
    assert "Discovery (bottleneck)" in out
    assert "█" in out
    assert "[bold]ads" in out and "[red]nope" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_funnel_bars_are_proportional(pipeline, ok):
    lines = [line for line in ok("metrics").stdout.splitlines() if "█" in line]
    bars = {line.split()[0]: line.count("█") for line in lines}
    assert bars["Discovery"] > bars["Qualification"] > bars["Contact"] > bars["Proposal"]
    assert abs(bars["Qualification"] / bars["Discovery"] - 4 / 8) < 0.05


def test_csv_and_jsonl(pipeline, ok):
    # The whole document, one value per line (not only the stage table).
    rows = list(csv.DictReader(io.StringIO(ok("metrics", "--format", "csv").stdout)))
    values = {(row["section"], row["item"], row["key"]): row["value"] for row in rows}
    assert values[("stages", "Discovery", "position")] == "1"
    assert values[("won", "", "leads")] == "2" and ("", "", "win_rate") in values
    assert {row["section"] for row in rows} >= {"open", "stages", "won", "lost", "velocity"}
    line = ok("metrics", "--format", "jsonl").stdout
    assert json.loads(line)["won"]["leads"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "someday"], "Cannot read the date"),
        (["--since", "2026-11-01", "--until", "2026-10-01"], "must be before --until"),
    ],
)
def test_bad_periods_are_usage_errors(pipeline, cli, snapshot, args, message):
    before = snapshot()
    result = cli("metrics", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert snapshot() == before


def test_look_back_means_days_ago(pipeline, ok):
    data = metrics_json(ok, "--since", "30d")
    # 30 days before 2026-11-23 is 2026-10-24: only Cy's final win (11-11) closed since.
    assert data["period"]["since"].startswith("2026-10-24")
    assert data["won"]["leads"] == 1 and data["lost"]["leads"] == 0


def test_core_without_cli(pipeline, session):
    from datetime import datetime

    data = compute_metrics(session, datetime(2026, 11, 23, 9), Scope(owner="sam"))
    assert data["won"]["leads"] == 2
