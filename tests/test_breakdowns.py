"""`metrics --by` on every dimension, the caveats, and the forecast's breakdown options, good and bad.

Now is 2026-11-23 09:00 (conftest).

    lead  source  industry  tags       region  value  history                                  status
    Ada   Web     retail    vip, warm  north   10k    D 09-01, Contact 09-11, won 10-01 (30 d)  won
    Bob   web     retail    vip        south    2k    D 09-05, lost 09-20 "price"               lost
    Cy            health                        5k    created in Contact 11-01                  open
    Dee           health                        -     imported won 06-01 -> 06-11, no stage     won (10 d)
"""

import csv
import io
import json

import pytest

from insight_support import pipeline_fixtures


def build(pipectl) -> dict:
    ok, lead = pipectl.ok, pipectl.lead
    ada = lead(
        "Ada",
        "--source",
        "Web",
        "--industry",
        "retail",
        "--tag",
        "vip",
        "--tag",
        "warm",
        "--field",
        "region=north",
        "--value",
        "10k",
        "--at",
        "2026-09-01",
    )
    ok("move", ada, "Contact", "--at", "2026-09-11")
    ok("won", ada, "--at", "2026-10-01")
    bob = lead(
        "Bob",
        "--source",
        "web",
        "--industry",
        "retail",
        "--tag",
        "vip",
        "--field",
        "region=south",
        "--value",
        "2k",
        "--at",
        "2026-09-05",
    )
    ok("lost", bob, "--reason", "price", "--at", "2026-09-20")
    lead("Cy", "--industry", "health", "--value", "5k", "--stage", "Contact", "--at", "2026-11-01")
    return {}


built, pipeline = pipeline_fixtures(build)


@pytest.fixture
def with_dee(pipeline, ok, tmp_path):
    path = tmp_path / "dee.csv"
    path.write_text("name,status,created,close date,industry\nDee,won,2026-06-01,2026-06-11,health\n", encoding="utf-8")
    ok("import", path)


def by(ok, dimension: str) -> dict:
    return json.loads(ok("metrics", "--by", dimension, "-f", "json").stdout)


def counts(data: dict) -> list[tuple]:
    return [(row["group"], row["created"], row["won"], row["lost"], row["open"]) for row in data["groups"]]


def test_by_source_folds_case(with_dee, ok):
    data = by(ok, "source")
    assert counts(data) == [("Web", 2, 1, 1, 0), (None, 2, 1, 0, 1)]
    web = data["groups"][0]
    assert (web["conversion"], web["win_rate"], web["won_value"], web["cycle_mean_days"]) == (0.5, 0.5, 10000.0, 30.0)


def test_by_stage_puts_unknown_paths_apart(with_dee, ok):
    # Ada was won from Contact, Bob lost in Discovery; Dee closed without a stage.
    assert counts(by(ok, "stage")) == [("Discovery", 1, 0, 1, 0), ("Contact", 2, 1, 0, 1), ("(unknown)", 1, 1, 0, 0)]


def test_by_tag_counts_a_lead_under_each_tag(with_dee, ok):
    data = by(ok, "tag")
    assert counts(data) == [("vip", 2, 1, 1, 0), (None, 2, 1, 0, 1), ("warm", 1, 1, 0, 0)]
    assert "a lead with several tags counts under each" in data["notes"][-1]


def test_by_industry_and_won_leads_without_a_value(with_dee, ok):
    data = by(ok, "industry")
    health, retail = sorted(data["groups"], key=lambda row: row["group"])
    assert (retail["won_value"], retail["average_won_value"], retail["won_without_value"]) == (10000.0, 10000.0, 0)
    assert (health["won_value"], health["average_won_value"], health["won_without_value"]) == (0.0, None, 1)
    assert (health["cycle_mean_days"], health["cycle_median_days"], health["cycle_p90_days"]) == (10.0, 10.0, 10.0)
    assert data["total"]["cycle_median_days"] == 20.0  # 10 and 30


def test_by_custom_field(with_dee, ok):
    data = by(ok, "field:region")
    assert counts(data) == [(None, 2, 1, 0, 1), ("north", 1, 1, 0, 0), ("south", 1, 0, 1, 0)]
    rows = list(csv.DictReader(io.StringIO(ok("metrics", "--by", "field:region", "-f", "csv").stdout)))
    assert list(rows[0])[:3] == ["field:region", "created", "won"]
    assert [row["field:region"] for row in rows] == ["", "north", "south"]
    out = ok("metrics", "--by", "field:region").stdout
    assert "Leads by field:region" in out and "(none)" in out


def test_by_with_a_period_and_an_owner(with_dee, ok):
    data = json.loads(ok("metrics", "--by", "industry", "--since", "2026-09-03", "-f", "json").stdout)
    # Created since 09-03: Bob and Cy.
    assert sorted(counts(data), key=str) == [("health", 1, 0, 0, 1), ("retail", 1, 0, 1, 0)]
    # Nobody owns a lead: one group, with every lead in it.
    assert counts(by(ok, "owner")) == [(None, 4, 2, 1, 1)]
    assert json.loads(ok("metrics", "--by", "tag", "--owner", "sam", "-f", "json").stdout)["groups"] == []


def test_jsonl_is_the_document_on_one_line(with_dee, ok):
    line = ok("metrics", "--by", "source", "-f", "jsonl").stdout
    assert json.loads(line)["by"] == "source" and line.count("\n") == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("colour", "'colour' is not a breakdown: use source, owner, stage, tag, industry or field:NAME"),
        ("field:", "'' is not a custom field name"),
        ("field:9lives", "'9lives' is not a custom field name"),
    ],
)
def test_a_bad_breakdown_is_bad_usage(pipeline, cli, snapshot, value, message):
    before = snapshot()
    result = cli("metrics", "--by", value)
    assert result.exit_code == 2 and message in result.stderr
    assert snapshot() == before


def test_few_closed_leads_carry_a_caveat(with_dee, ok):
    data = json.loads(ok("metrics", "-f", "json").stdout)
    assert data["few_closed"] is True
    assert "rest on 3 closed lead(s), fewer than 5: too few to rely on" in data["notes"][1]
    assert "(few closed leads)" in ok("metrics").stdout
    marked = [row["few_closed"] for row in by(ok, "source")["groups"]]
    assert marked == [True, True]


def test_forecast_options_refuse_bad_input(pipeline, cli, snapshot):
    before = snapshot()
    result = cli("forecast", "--by", "stage")
    assert result.exit_code == 2 and "'stage' is not a forecast breakdown: use source or owner" in result.stderr
    result = cli("forecast", "--owner", "sam", "--quota", "5k", "--save")
    assert result.exit_code == 2 and "--save keeps the whole pipeline's quota" in result.stderr
    assert snapshot() == before


def test_forecast_for_an_owner_with_a_quota(pipeline, ok):
    ok("forecast", "--quota", "90k", "--save")
    saved = json.loads(ok("forecast", "-f", "json").stdout)
    assert saved["quota"]["amount"] == 90000.0
    # The saved quota is the pipeline's: an owner's forecast has a gap only with their own --quota.
    assert json.loads(ok("forecast", "--owner", "nobody", "-f", "json").stdout)["quota"] is None
    mine = json.loads(ok("forecast", "--owner", "nobody", "--quota", "1k", "-f", "json").stdout)
    assert (mine["open"]["leads"], mine["quota"]["gap"], mine["quota"]["won"]) == (0, 1000.0, 0.0)
