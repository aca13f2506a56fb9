"""The richer rule language: numbers read from text, not / not-in, all_of / any_of, contains, points
in proportion to a number, counts and dates held in fields; each scored in SQL and explained alike."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pipectl import clock
from pipectl.core.leads import add_lead, validate_fields
from pipectl.core.rescoring import rescore_open_leads
from pipectl.core.rules import parse_rules
from pipectl.core.scoring import DEFAULT_SCORING, ScoreModel, ScoringRules, clamp, save_rules
from pipectl.core.scoring_sql import explain
from pipectl.storage.models import Lead

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "scoring.toml"


def more_forms() -> str:
    """The commented "more forms" block of examples/scoring.toml, uncommented."""
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text.split("# BEGIN MORE FORMS\n", 1)[1].split("# END MORE FORMS", 1)[0]
    return "\n".join(line.removeprefix("# ").removeprefix("#") for line in block.splitlines())


def make(session, name, custom=None, **fields) -> Lead:
    lead, _ = add_lead(session, validate_fields(name=name, **fields), custom=custom, force=True)
    return lead


def use(session, text: str) -> ScoringRules:
    scoring = parse_rules(text).scoring
    assert scoring is not None
    save_rules(session, ScoreModel(scoring=scoring))
    return scoring


def points(session, lead) -> dict[str, int]:
    return {part["rule"]: part["points"] for part in explain(session, lead.id)["breakdown"]}


def test_the_example_shows_every_new_form():
    scoring = parse_rules(more_forms(), "more forms").scoring
    assert scoring is not None
    demographic = {rule.name: rule for rule in scoring.demographic}
    assert demographic["Time on site"].per == 100 and demographic["Time on site"].cap == 20
    assert demographic["Decision maker at a mid-size firm"].matcher == "all_of"
    assert demographic["Warm by any sign"].matcher == "any_of"
    assert demographic["Not a student"].matcher == "not_one_of"
    assert demographic["No opt-out"].negate is True
    assert demographic["Engaged page views"].matcher == "range"
    assert demographic["Engaged page views"].field == "field:Page Views Per Visit"
    assert {rule.matcher for rule in scoring.demographic} >= {"contains"} or any(
        inner.matcher == "contains" for inner in demographic["Decision maker at a mid-size firm"].all_of or []
    )
    behavioural = {rule.name: rule for rule in scoring.behavioural}
    assert behavioural["Visits in the export"].field == "field:TotalVisits"
    assert behavioural["Recently active"].within == "30d"


def test_every_form_scores_the_same_in_sql_and_in_the_explanation(session):
    use(session, more_forms())
    today = clock.now().date()
    hot = make(
        session,
        "Hot",
        title="Director of Sales",
        company_size=120,
        source="Referral Sites",
        phone="+49 1",
        custom={
            "Total Time Spent on Website": " 1,234 ",  # not a number as written: no points
            "Occupation": "Working Professional",
            "Do Not Email": "No",
            "Page Views Per Visit": "2.5",
            "TotalVisits": "7",
            "Last Activity Date": (today - timedelta(days=3)).isoformat() + " 10:12:00",
        },
    )
    cold = make(
        session,
        "Cold",
        title="Intern",
        company_size=5000,
        custom={
            "Total Time Spent on Website": "950.5",
            "Occupation": "student",
            "Do Not Email": "yes",
            "Page Views Per Visit": "lots",
            "TotalVisits": "-3",
            "Last Activity Date": (today - timedelta(days=45)).isoformat(),
            "Lead Origin": "lead add form",
        },
    )
    bare = make(session, "Bare")
    assert points(session, hot) == {
        "Decision maker at a mid-size firm": 10,
        "Warm by any sign": 5,
        "Not a student": 5,
        "No opt-out": 5,
        "Engaged page views": 5,
        "Visits in the export": 10,  # 7 × 2, capped at 10
        "Recently active": 10,
    }
    assert points(session, cold) == {"Time on site": 9, "Warm by any sign": 5, "No phone": -5}
    # No value: `not` matches (no opt-out recorded), not_one_of does not (occupation unknown).
    assert points(session, bare) == {"No opt-out": 5, "No phone": -5}
    rescore_open_leads(session)
    for lead in (hot, cold, bare):
        session.refresh(lead)
        explained = explain(session, lead.id)
        assert lead.score == explained["score"] == clamp(sum(part["points"] for part in explained["breakdown"]))
    details = {part["rule"]: part["detail"] for part in explain(session, cold.id)["breakdown"]}
    assert details["Time on site"] == "field:Total Time Spent on Website 950.5 ÷ 100 × +1"


@pytest.mark.parametrize(
    "text, expected",
    [("4.5", True), (" 12 ", True), ("1e1", True), ("+7", True), ("-5", False), ("abc", False), ("1.2.3", False)],
)
def test_numbers_are_read_from_text(session, text, expected):
    use(session, '[[scoring.demographic]]\nname = "N"\nfield = "field:n"\nmin = 0\nmax = 20\npoints = 7\n')
    lead = make(session, "Ada", custom={"n": text})
    assert points(session, lead) == ({"N": 7} if expected else {})


def test_a_number_field_refuses_text_matchers_beside_per(session):
    with pytest.raises(Exception, match="is a number"):
        use(session, '[[scoring.demographic]]\nname = "P"\nfield = "value"\nper = 10\ncontains = "x"\npoints = 1\n')


def test_proportional_points_on_money_are_in_currency_units(session):
    use(session, '[[scoring.demographic]]\nname = "Per 10k"\nfield = "value"\nper = 10000\npoints = 2\ncap = 9\n')
    small, big = make(session, "Small", value_cents=2_500_000), make(session, "Big", value_cents=99_000_000)
    assert points(session, small) == {"Per 10k": 4}
    assert points(session, big) == {"Per 10k": 9}


@pytest.mark.parametrize(
    "source, warm",
    [("Referral Sites", True), ("Website", True), ("Web form", True), ("Partner", True), ("Cold list", False)],
)
def test_the_shipped_rules_know_export_spellings(session, source, warm):
    save_rules(session, ScoreModel.model_validate(DEFAULT_SCORING))
    lead = make(session, "Ada", source=source)
    assert ("Warm source" in points(session, lead)) is warm


def test_a_malformed_nested_condition_is_refused_whole_with_its_place(cli, ok, tmp_path, snapshot):
    ok("init")
    before = snapshot()
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[scoring.demographic]]\nname = "Both"\nall_of = [{ field = "title", glob = "VP*" }, '
        '{ field = "company_size", contains = "5" }]\npoints = 5\n',
        encoding="utf-8",
    )
    result = cli("rules", "load", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "rule #1 'Both'" in result.stderr and "is a number" in result.stderr
    assert snapshot() == before


def test_new_forms_round_trip_through_export(ok, tmp_path):
    path = tmp_path / "more.toml"
    path.write_text(more_forms(), encoding="utf-8")
    ok("rules", "load", path)
    exported = ok("rules", "export").stdout
    assert "not = true" in exported
    again = tmp_path / "again.toml"
    again.write_text(exported, encoding="utf-8")
    before = ok("rules", "show", "-f", "json").stdout
    ok("rules", "load", again)
    assert ok("rules", "show", "-f", "json").stdout == before
    rows = json.loads(ok("rules", "show", "-f", "json").stdout)
    assert any(rule.get("per") == 100 for rule in rows["scoring"]["demographic"])
