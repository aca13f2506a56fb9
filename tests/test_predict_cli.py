"""`pipectl predict`, `rules suggest`, and the probability in list, show and forecast, as a user runs them."""

import json
import os
import tomllib

import pytest

from insight_support import pipeline_fixtures
from prediction_support import build


def _history(_builder) -> dict:
    """A synthetic pipeline (90 closed leads from a known process, six open ones); {(source, industry): id}."""
    from pipectl.storage.schema import open_database

    database = open_database(os.environ["PIPECTL_DB"])
    try:
        with database.session() as session:
            opened = build(session, closed=90)
            return {key: lead.id for key, lead in opened.items()}
    finally:
        database.close()


# Built once per module (and backend); each test gets its own copy of the database.
history_built, history = pipeline_fixtures(_history, name="history")


def test_predict_ranks_open_leads_and_stores_the_probability(ok, history):
    result = ok("predict", "-f", "json")
    assert "Learned from 90 closed leads" in result.stderr
    rows = json.loads(result.stdout)
    assert [row["probability"] for row in rows] == sorted((row["probability"] for row in rows), reverse=True)
    assert rows[0]["id"] == history[("Referral", "SaaS")]
    assert rows[-1]["id"] == history[("Cold list", "Retail")]
    # A second run reads the stored model: nothing to learn.
    assert "Learned" not in ok("predict", "-f", "json").stderr
    listed = json.loads(ok("list", "--sort", "probability", "-f", "json").stdout)
    assert [row["id"] for row in listed] == [row["id"] for row in rows]
    shown = json.loads(ok("show", history[("Website", "SaaS")], "-f", "json").stdout)
    assert 0 < shown["probability"] < 1


def test_explain_adds_up_in_json_and_csv(ok, history):
    lead = history[("Referral", "Retail")]
    explained = json.loads(ok("predict", lead, "--explain", "-f", "json").stdout)
    assert set(explained) == {"id", "name", "probability", "prior", "logit", "factors"}
    assert explained["logit"] == pytest.approx(
        explained["prior"] + sum(f["contribution"] for f in explained["factors"])
    )
    assert set(explained["factors"][0]) == {"field", "value", "contribution"}
    assert explained["factors"][0]["field"] == "source"
    csv_lines = ok("predict", lead, "--explain", "-f", "csv").stdout.splitlines()
    assert csv_lines[0] == "field,value,contribution"
    plain = json.loads(ok("predict", lead, "-f", "json").stdout)
    assert plain == {"id": lead, "name": "Open Referral Retail 0", "probability": explained["probability"]}


def test_explain_table_fits_80_columns(ok, history, terminal):
    terminal(80)
    out = ok("predict", history[("Website", "Retail")], "--explain").stdout
    assert "Prior" in out and "Total (logit)" in out
    assert all(len(line) <= 80 for line in out.splitlines())
    out = ok("predict", "--evaluate").stdout
    assert "ROC AUC" in out and "Brier score" in out and "Calibration by decile" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_evaluate_reports_both_models(ok, history):
    result = json.loads(ok("predict", "--evaluate", "--holdout", "40%", "-f", "json").stdout)
    assert result["train"]["closed"] + result["test"]["closed"] == 90
    assert result["test"]["closed"] == 36
    for side in ("model", "rules"):
        assert 0 <= result[side]["auc"] <= 1 and 0 <= result[side]["brier"] <= 1
        assert sum(group["leads"] for group in result[side]["calibration"]) == 36
    dated = json.loads(ok("predict", "--evaluate", "--before", "2026-10-01", "-f", "json").stdout)
    assert dated["split"].startswith("2026-10-01")
    rows = ok("predict", "--evaluate", "-f", "csv").stdout.splitlines()
    assert rows[0] == "measure,decile,model,rules" and rows[1].startswith("auc,")


@pytest.mark.parametrize("args", [[], ["91"], ["92", "--explain"], ["--evaluate"]])
@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_every_declared_format_prints(ok, history, args, fmt):
    out = ok("predict", *args, "--format", fmt).stdout
    assert out.strip()
    if fmt == "json":
        json.loads(out)
    elif fmt == "jsonl":
        [json.loads(line) for line in out.splitlines()]


def test_forecast_gains_a_by_model_column(ok, history):
    for lead in history.values():
        ok("edit", lead, "--value", "1000")
    before = json.loads(ok("forecast", "-f", "json").stdout)
    assert before["open"]["weighted_model"] is None
    ok("predict")
    after = json.loads(ok("forecast", "-f", "json").stdout)
    expected = sum(row["probability"] for row in json.loads(ok("list", "-f", "json").stdout)) * 1000
    assert after["open"]["weighted_model"] == pytest.approx(expected, abs=1)
    assert "By model" in ok("forecast").stdout


def test_rules_suggest_prints_rules_that_load(ok, history, tmp_path):
    text = ok("rules", "suggest").stdout
    rules = tomllib.loads(text)["scoring"]["demographic"]
    by_name = {rule["name"]: rule for rule in rules}
    assert by_name["source referral"]["points"] > 0 > by_name["source cold list"]["points"]
    path = tmp_path / "suggested.toml"
    path.write_text(text, encoding="utf-8")
    ok("rules", "load", path)
    lead = history[("Referral", "SaaS")]
    held = {"source": "referral", "industry": "saas", "owner": None, "company_size": None}
    expected = sum(
        rule["points"]
        for rule in rules
        if rule.get("equals") == held.get(rule["field"]) or (rule.get("missing") and held.get(rule["field"]) is None)
    )
    assert json.loads(ok("show", lead, "-f", "json").stdout)["score"] == max(0, expected)


def test_thin_history_says_not_enough_history_and_changes_nothing(cli, ok, new_lead, snapshot):
    new_lead("Ada")
    before = snapshot()
    for args in (("predict",), ("predict", "1"), ("rules", "suggest"), ("predict", "--evaluate")):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and "not enough history" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert snapshot() == before
    assert json.loads(ok("show", "1", "-f", "json").stdout)["probability"] is None


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (("predict", "9999"), 1, "no lead #9999"),
        (("predict", "1"), 1, "a win probability is for open leads"),
        (("predict", "--explain"), 2, "--explain needs a LEAD"),
        (("predict", "--evaluate", "--holdout", "0%"), 2, "above 0%"),
        (("predict", "--evaluate", "--holdout", "lots"), 2, "such as 30%"),
        (("predict", "--evaluate", "--before", "someday"), 2, "Cannot read the date"),
        (("predict", "--evaluate", "--holdout", "30%", "--before", "2026-10-01"), 2, "give one of them"),
        (("predict", "--holdout", "30%"), 2, "go with --evaluate"),
        (("predict", "--evaluate", "--train"), 2, "--evaluate measures"),
        (("predict", "--train", "--field", "nope"), 2, "No lead has the custom field 'nope'"),
        (("list", "--sort", "chance"), 2, "--sort is one of"),
    ],
)
def test_bad_input_is_one_error_line_and_changes_nothing(cli, history, snapshot, args, code, fragment):
    before = snapshot()
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Error: ") and fragment.lower() in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot() == before


def test_a_chosen_custom_field_is_weighed_and_kept(ok, history, database):
    from sqlmodel import select

    from pipectl.core.leads import set_custom_fields
    from pipectl.storage.models import Lead

    with database.session() as session:
        for lead in session.exec(select(Lead).where(Lead.status != "open")).all():
            set_custom_fields(session, lead.id, {"Tier": "gold" if lead.status == "won" else "basic"})
        set_custom_fields(session, history[("Cold list", "Retail")], {"Tier": "Gold"})
    lead = history[("Cold list", "Retail")]
    explained = json.loads(ok("predict", lead, "--explain", "--field", "tier", "-f", "json").stdout)
    factors = {factor["field"]: factor for factor in explained["factors"]}
    assert factors["field:Tier"]["value"] == "gold" and factors["field:Tier"]["contribution"] > 2
    retrained = json.loads(ok("predict", lead, "--explain", "--train", "-f", "json").stdout)
    assert "field:Tier" in {factor["field"] for factor in retrained["factors"]}


def test_predict_help_lists_the_options(ok):
    out = ok("predict", "--help").stdout
    for option in ("--explain", "--train", "--evaluate", "--holdout", "--before", "--field"):
        assert option in out
