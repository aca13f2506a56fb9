"""Scoring in the core: each rule type, the cap and recency window, the clamp, stored scores, --apply."""

import re
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from pipectl import clock
from pipectl.core.advancing import advance_leads
from pipectl.core.history import record
from pipectl.core.leads import add_lead, edit_lead, validate_fields
from pipectl.core.rescoring import rescore_marked, rescore_open_leads
from pipectl.core.scoring import (
    DEFAULT_SCORING,
    BehaviouralRule,
    DemographicRule,
    ScoreModel,
    ScoringRules,
    Thresholds,
    band,
    current_rules,
    nurture_threshold,
    save_rules,
)
from pipectl.core.scoring_sql import explain
from pipectl.core.stages import find_stage, set_stage
from pipectl.storage.models import Lead


def use_rules(session, demographic=(), behavioural=(), **thresholds):
    save_rules(
        session,
        ScoreModel(
            thresholds=Thresholds(**thresholds),
            scoring=ScoringRules(
                demographic=[DemographicRule(**rule) for rule in demographic],
                behavioural=[BehaviouralRule(**rule) for rule in behavioural],
            ),
        ),
    )


def make(session, name="Ada", custom=None, **fields) -> Lead:
    lead, _ = add_lead(session, validate_fields(name=name, **fields), custom=custom, force=True)
    return lead


def log(session, lead, kind, days_ago=0):
    """Record an activity and end the "command": the touched lead is re-scored as before a commit."""
    record(session, lead, kind, clock.now() - timedelta(days=days_ago))
    rescore_marked(session)


def edit(session, lead, custom=None, **fields):
    edit_lead(session, lead, validate_fields(**fields), custom=custom)
    rescore_marked(session)


def points(session, lead) -> dict[str, int]:
    return {part["rule"]: part["points"] for part in explain(session, lead.id)["breakdown"]}


def rule(name, field, points=10, **match):
    return {"name": name, "field": field, "points": points, **match}


def test_equals_and_one_of_ignore_case(session):
    use_rules(
        session, [rule("SaaS", "industry", equals="saas"), rule("Warm", "source", 7, one_of=["Referral", "Inbound"])]
    )
    hit = make(session, "A", industry="SaaS", source="INBOUND")
    miss = make(session, "B", industry="Retail", source="cold list")
    assert points(session, hit) == {"SaaS": 10, "Warm": 7}
    assert hit.score == 17
    assert points(session, miss) == {}
    assert miss.score == 0


def test_glob_matches_patterns_and_escapes_sql_wildcards(session):
    use_rules(session, [rule("Head", "title", glob="Head of*"), rule("Percent", "company", 5, glob="100%?")])
    assert make(session, "A", title="head of sales").score == 10
    assert make(session, "B", title="Deputy Head of Sales").score == 0
    assert make(session, "C", company="100%!").score == 5
    # `%` and `_` in a glob are literal characters, not SQL wildcards.
    assert make(session, "D", company="1000!").score == 0


def test_numeric_range_on_company_size_and_value(session):
    use_rules(session, [rule("Mid", "company_size", 15, min=50, max=500), rule("Big deal", "value", 5, min=10_000)])
    assert make(session, "A", company_size=50).score == 15
    assert make(session, "B", company_size=500, value_cents=1_000_000).score == 20
    assert make(session, "C", company_size=501, value_cents=999_999).score == 0
    assert make(session, "D").score == 0  # no size: no range matches


def test_present_and_missing(session):
    use_rules(session, [rule("Email", "email", 5, present=True), rule("No phone", "phone", -3, missing=True)])
    lead = make(session, "A", email="a@example.com")
    assert points(session, lead) == {"Email": 5, "No phone": -3}
    assert lead.score == 2


def test_custom_field_rules(session):
    use_rules(
        session,
        [
            rule("Dept", "field:department", one_of=["Sales", "Marketing"]),
            rule("Has budget code", "field:Budget code", 4, present=True),
        ],
    )
    lead = make(session, "A", custom={"Department": "sales", "budget code": "X1"})
    assert points(session, lead) == {"Dept": 10, "Has budget code": 4}
    edit(session, lead, custom={"Department": "Finance"})
    assert lead.score == 4


def test_behavioural_points_per_occurrence_with_cap(session):
    use_rules(session, behavioural=[{"name": "Visits", "kind": "web_visit", "points": 3, "cap": 10}])
    lead = make(session)
    for expected in (3, 6, 9, 10, 10):
        log(session, lead, "web_visit")
        assert lead.score == expected
    assert explain(session, lead.id)["breakdown"][0]["detail"] == "5 × +3, capped at 10"


def test_recency_window_drops_old_signals(session, monkeypatch):
    use_rules(session, behavioural=[{"name": "Opens", "kind": "email_open", "points": 5, "within": "30d"}])
    lead = make(session)
    log(session, lead, "email_open", days_ago=29)
    log(session, lead, "email_open", days_ago=31)
    assert lead.score == 5
    monkeypatch.setenv("PIPECTL_NOW", "2026-12-10T09:00:00")
    session.info.clear()
    assert explain(session, lead.id)["score"] == 0
    rescore_open_leads(session)
    assert session.get(Lead, lead.id).score == 0


def test_negative_points_and_negative_cap(session):
    use_rules(
        session,
        [rule("Fit", "title", 40, present=True)],
        [{"name": "Unsubscribed", "kind": "unsubscribe", "points": -30, "cap": 35}],
    )
    lead = make(session, title="CEO")
    log(session, lead, "unsubscribe")
    assert lead.score == 10
    log(session, lead, "unsubscribe")
    assert points(session, lead)["Unsubscribed"] == -35
    assert lead.score == 5


def test_score_is_clamped_but_breakdown_adds_up_to_the_raw_sum(session):
    use_rules(
        session,
        [
            rule("A", "title", 80, present=True),
            rule("B", "email", 60, present=True),
            rule("C", "phone", -100, present=True),
        ],
    )
    high = make(session, "High", title="CTO", email="h@example.com")
    low = make(session, "Low", phone="123")
    high_explained, low_explained = explain(session, high.id), explain(session, low.id)
    assert (high_explained["raw"], high_explained["score"], high.score) == (140, 100, 100)
    assert (low_explained["raw"], low_explained["score"], low.score) == (-100, 0, 0)
    assert sum(part["points"] for part in high_explained["breakdown"]) == 140


def test_planned_activities_do_not_count(session):
    from pipectl.storage.models import Activity

    use_rules(session, behavioural=[{"name": "Meetings", "kind": "meeting", "points": 20}])
    lead = make(session)
    session.add(
        Activity(lead_id=lead.id, kind="meeting", at=clock.now(), done=False, due=clock.now(), recorded_at=clock.now())
    )
    session.flush()
    assert explain(session, lead.id)["score"] == 0


def test_bulk_rescore_matches_single_lead_scores_and_skips_closed_leads(session):
    use_rules(
        session,
        [rule("Title", "title", 20, glob="*Sales*"), rule("Size", "company_size", 15, min=10)],
        [{"name": "Visits", "kind": "web_visit", "points": 4, "cap": 12, "within": "14d"}],
    )
    leads = [make(session, f"L{n}", title="VP Sales" if n % 2 else None, company_size=n * 7) for n in range(6)]
    for n, lead in enumerate(leads):
        for day in range(n):
            log(session, lead, "web_visit", days_ago=day * 5)
    expected = {lead.id: lead.score for lead in leads}
    closed = leads[0]
    closed.status = "won"
    session.flush()
    use_rules(session, [rule("Title", "title", 20, glob="*Sales*")])
    count = rescore_open_leads(session)
    assert count == 5
    assert session.get(Lead, closed.id).score == expected[closed.id]  # closed leads keep their score
    for lead in leads[1:]:
        stored = session.get(Lead, lead.id).score
        assert stored == explain(session, lead.id)["score"] == (20 if leads.index(lead) % 2 else 0)


def test_nurture_since_is_set_once_and_cleared(session, monkeypatch):
    use_rules(session, [rule("Title", "title", 40, present=True)], nurture_below=30)
    lead = make(session)
    started = lead.nurture_since
    assert started == clock.now()
    monkeypatch.setenv("PIPECTL_NOW", "2026-11-25T09:00:00")
    log(session, lead, "call")
    assert lead.nurture_since == started  # still under: the mark keeps its first date
    edit(session, lead, title="CTO")
    assert lead.nurture_since is None
    edit(session, lead, title=None)
    assert lead.nurture_since == datetime(2026, 11, 25, 9)
    other = make(session, "Bob", title="CEO")
    assert other.nurture_since is None
    use_rules(session, [], nurture_below=30)
    rescore_open_leads(session)
    assert session.get(Lead, other.id).nurture_since == datetime(2026, 11, 25, 9)
    assert session.get(Lead, lead.id).nurture_since == datetime(2026, 11, 25, 9)


def test_defaults_are_used_without_stored_rules(session):
    model = current_rules(session)
    assert model == ScoreModel.model_validate(DEFAULT_SCORING)
    assert nurture_threshold(session) == 30
    lead = make(session, "Ada", title="Head of Sales", company_size=120, email="ada@competitor.example")
    assert points(session, lead) == {
        "Senior title": 15,
        "Mid-size company": 15,
        "Reachable by email": 5,
        "Competitor domain": -50,
    }
    assert lead.score == 0


def test_bands():
    limits = Thresholds(nurture_below=30, mql=50, sql=75)
    assert [band(score, limits) for score in (0, 29, 30, 49, 50, 74, 75, 100)] == [
        "nurture",
        "nurture",
        "",
        "",
        "mql",
        "mql",
        "sql",
        "sql",
    ]


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ({"name": "x", "field": "titel", "equals": "a", "points": 1}, "unknown field 'titel'"),
        ({"name": "x", "field": "title", "points": 1}, "exactly one of"),
        ({"name": "x", "field": "title", "equals": "a", "glob": "b", "points": 1}, "equals and glob"),
        ({"name": "x", "field": "title", "min": 5, "max": 1, "points": 1}, "above max"),
        ({"name": "x", "field": "company_size", "contains": "1", "points": 1}, "is a number"),
        ({"name": "x", "field": "title", "contains": "", "points": 1}, "contains needs some text"),
        ({"name": "x", "field": "title", "all_of": [{"field": "title", "present": True}], "points": 1}, "leave field"),
        ({"name": "x", "any_of": [{"field": "title"}], "points": 1}, "exactly one of"),
        ({"name": "x", "any_of": [{"present": True}], "points": 1}, "needs a field"),
        ({"name": "x", "field": "title", "present": True, "cap": 3, "points": 1}, "cap goes with per"),
        ({"name": "x", "per": 10, "points": 1}, "per needs a field"),
        ({"name": "x", "field": "field:visits", "per": 0, "points": 1}, "greater than 0"),
        ({"name": "x", "field": "company_size", "glob": "1*", "points": 1}, "is a number"),
        ({"name": "x", "field": "company_size", "min": 9, "max": 1, "points": 1}, "above max"),
        ({"name": "x", "field": "title", "equals": 5, "points": 1}, "is text"),
    ],
)
def test_bad_demographic_rules(bad, fragment):
    with pytest.raises(ValidationError, match=fragment):
        DemographicRule(**bad)


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ({"name": "x", "kind": "telepathy", "points": 1}, "unknown activity kind"),
        ({"name": "x", "kind": "reply", "points": 1, "cap": -1}, "greater than or equal to 0"),
        ({"name": "x", "kind": "reply", "points": 1, "within": "soon"}, "Cannot read the duration"),
        ({"name": "x", "points": 1}, "exactly one of kind and field"),
        ({"name": "x", "kind": "reply", "field": "field:visits", "points": 1}, "exactly one of kind and field"),
        ({"name": "x", "field": "field:last", "within": "30d", "cap": 1, "points": 1}, "leave cap out"),
        ({"name": "x", "field": "company_size", "within": "30d", "points": 1}, "holds a number, not a date"),
    ],
)
def test_bad_behavioural_rules(bad, fragment):
    with pytest.raises(ValidationError, match=fragment):
        BehaviouralRule(**bad)


def test_behavioural_kind_is_normalised():
    assert BehaviouralRule(name="x", kind="Email-Open", points=1).kind == "email_open"


def test_thresholds_must_rise_and_stay_in_range():
    with pytest.raises(ValidationError, match="must rise"):
        Thresholds(nurture_below=60, mql=50, sql=75)
    with pytest.raises(ValidationError):
        Thresholds(sql=101)


def test_duplicate_rule_names_are_refused():
    with pytest.raises(ValidationError, match="two rules are named"):
        ScoringRules(
            demographic=[DemographicRule(**rule("Same", "title", present=True))],
            behavioural=[BehaviouralRule(name="same", kind="reply", points=1)],
        )


def _stages_for_apply(session):
    set_stage(session, "Qualification", min_score=20)
    set_stage(session, "Contact", min_score=40)
    set_stage(session, "Proposal", min_score=60, requires_bant=True)


def test_apply_moves_forward_to_the_furthest_stage_it_meets(session):
    use_rules(session, [rule("Title", "title", 45, present=True), rule("Email", "email", 25, present=True)])
    _stages_for_apply(session)
    far = make(session, "Far", title="CTO")  # 45: Contact
    qualified = make(session, "Qualified", title="CTO", email="q@example.com")  # 70 with BANT: Proposal
    for criterion in ("budget", "authority", "need", "timeline"):
        setattr(qualified, criterion, "yes")
    unqualified = make(session, "Unqualified", title="CTO", email="u@example.com")  # 70, no BANT: Contact
    cold = make(session, "Cold")
    session.flush()
    planned = advance_leads(session, dry_run=True)
    assert [(move["name"], move["from"], move["to"]) for move in planned] == [
        ("Far", "Discovery", "Contact"),
        ("Qualified", "Discovery", "Proposal"),
        ("Unqualified", "Discovery", "Contact"),
    ]
    assert session.get(Lead, far.id).stage_id == find_stage(session, "Discovery").id  # dry run moved nothing
    moves = advance_leads(session)
    assert moves == planned
    assert session.get(Lead, qualified.id).stage_id == find_stage(session, "Proposal").id
    assert session.get(Lead, cold.id).stage_id == find_stage(session, "Discovery").id
    from pipectl.core.history import timeline

    change = timeline(session, far.id)[0]
    assert change.kind == "stage_change" and change.data == {"automatic": True}
    assert advance_leads(session) == []  # already there: nothing more to do
    assert unqualified.id in {move["id"] for move in moves}


def test_apply_never_moves_backwards(session):
    use_rules(session, [rule("Title", "title", 25, present=True)])
    _stages_for_apply(session)
    lead = make(session, "Ahead", title="CTO")
    lead.stage_id = find_stage(session, "Proposal").id
    session.flush()
    assert advance_leads(session) == []
    assert session.get(Lead, lead.id).stage_id == find_stage(session, "Proposal").id


def test_dry_run_uses_fresh_scores_without_storing_them(session):
    use_rules(session, [rule("Title", "title", 25, present=True)])
    _stages_for_apply(session)
    lead = make(session, "Stale", title="CTO")
    lead.score = 0  # as if the rules changed since the score was stored
    session.flush()
    assert [move["to"] for move in advance_leads(session, dry_run=True)] == ["Qualification"]
    session.expire_all()
    assert session.get(Lead, lead.id).score == 0


def test_keeping_one_score_current_costs_the_same_however_many_leads(session):
    from sqlalchemy import event

    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = session.get_bind()
    first = make(session, "First", title="CTO")
    event.listen(engine, "before_cursor_execute", count)
    log(session, first, "web_visit")
    alone = list(statements)
    event.remove(engine, "before_cursor_execute", count)
    for number in range(40):
        make(session, f"Other {number}", title="CTO")
    statements.clear()
    event.listen(engine, "before_cursor_execute", count)
    log(session, first, "web_visit")
    event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == len(alone)
    # The re-score before the commit is one UPDATE that names the lead: it never scores the whole table.
    scoring_queries = [sql for sql in statements if "CASE WHEN" in sql]
    # One placeholder, in either driver's style (SQLite's `?`, psycopg's `%(name)s::INTEGER`).
    assert len(scoring_queries) == 1 and re.search(r"scored\.id IN \((\?|%\(\w+\)s(::\w+)?)\)", scoring_queries[0])
