"""Property: for any rules and any lead, the breakdown adds up to the unclamped score, which a plain
Python reading of the rules agrees with, and the stored score (one lead or all at once) is its clamp."""

from datetime import timedelta
from fnmatch import fnmatchcase

from hypothesis import HealthCheck, given, settings, strategies as st

from pipectl import clock
from pipectl.core.history import record
from pipectl.core.leads import add_lead, validate_fields
from pipectl.core.rescoring import rescore_marked, rescore_open_leads
from pipectl.core.scoring import BehaviouralRule, DemographicRule, ScoreModel, ScoringRules, clamp, save_rules
from pipectl.core.scoring_sql import explain
from pipectl.storage.models import Lead

TITLES = [None, "Head of Sales", "head of it", "CEO", "VP Ops", "Intern"]
INDUSTRIES = [None, "SaaS", "saas", "Retail", "Fintech"]
EMAILS = [None, "a@rival.example", "b@example.com", "c@Rival.Example"]
DEPARTMENTS = [None, "Sales", "marketing", "Finance"]
KINDS = ["web_visit", "email_open", "reply", "unsubscribe"]
TEXT = {"title": TITLES, "industry": INDUSTRIES, "email": EMAILS, "field:department": DEPARTMENTS}
GLOBS = ["Head of*", "*ops", "*@rival.example", "?EO", "*"]

points = st.integers(min_value=-60, max_value=60)


@st.composite
def demographic_rule(draw, name):
    field = draw(st.sampled_from([*TEXT, "company_size"]))
    if field == "company_size":
        low = draw(st.none() | st.integers(0, 800))
        high = draw(st.none() | st.integers(low or 0, 1000))
        match = draw(
            st.sampled_from(
                [
                    {"min": low if low is not None else 0, "max": high},
                    {"present": True},
                    {"missing": True},
                    {"equals": low or 0},
                ]
            )
        )
        match = {key: value for key, value in match.items() if value is not None}
    else:
        values = [value for value in TEXT[field] if value]
        match = draw(
            st.sampled_from(
                [
                    {"equals": draw(st.sampled_from(values))},
                    {"one_of": draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))},
                    {"glob": draw(st.sampled_from(GLOBS))},
                    {"present": True},
                    {"missing": True},
                ]
            )
        )
    return DemographicRule(name=name, field=field, points=draw(points), **match)


@st.composite
def behavioural_rule(draw, name):
    within = draw(st.none() | st.integers(1, 60).map(lambda days: f"{days}d"))
    return BehaviouralRule(
        name=name,
        kind=draw(st.sampled_from(KINDS)),
        points=draw(points),
        cap=draw(st.none() | st.integers(0, 40)),
        within=within,
    )


@st.composite
def rule_sets(draw):
    demographic = [draw(demographic_rule(f"d{index}")) for index in range(draw(st.integers(0, 4)))]
    behavioural = [draw(behavioural_rule(f"b{index}")) for index in range(draw(st.integers(0, 3)))]
    return ScoringRules(demographic=demographic, behavioural=behavioural)


leads = st.fixed_dictionaries(
    {
        "title": st.sampled_from(TITLES),
        "industry": st.sampled_from(INDUSTRIES),
        "email": st.sampled_from(EMAILS),
        "company_size": st.none() | st.integers(0, 1000),
        "department": st.sampled_from(DEPARTMENTS),
        "activities": st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 90)), max_size=8),
    }
)


def reference_points(rule, lead: dict, now) -> int:
    """The rules read literally, in Python, without SQL."""
    if isinstance(rule, BehaviouralRule):
        since = rule.since(now)
        count = sum(
            1
            for kind, days in lead["activities"]
            if kind == rule.kind and (since is None or now - timedelta(days=days) >= since)
        )
        total = count * rule.points
        if rule.cap is not None:
            total = max(-rule.cap, min(rule.cap, total))
        return total
    value = lead["department"] if rule.field == "field:department" else lead[rule.field]
    matcher = rule.matcher
    if matcher == "present":
        hit = value not in (None, "")
    elif matcher == "missing":
        hit = value in (None, "")
    elif value is None:
        hit = False
    elif matcher == "range":
        hit = (rule.min is None or value >= rule.min) and (rule.max is None or value <= rule.max)
    elif matcher == "equals":
        hit = value == rule.equals if rule.field == "company_size" else value.lower() == rule.equals.lower()
    elif matcher == "one_of":
        hit = value.lower() in [option.lower() for option in rule.one_of]
    else:
        hit = any(fnmatchcase(value.lower(), pattern.lower()) for pattern in rule.globs)
    return rule.points if hit else 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=rule_sets(), lead=leads)
def test_breakdown_adds_up_and_matches_the_rules(database, rules, lead):
    now = clock.now()
    with database.session() as session:
        save_rules(session, ScoreModel(scoring=rules))
        fields = validate_fields(
            name="Lead",
            title=lead["title"],
            industry=lead["industry"],
            email=lead["email"],
            company_size=lead["company_size"],
        )
        custom = {"department": lead["department"]} if lead["department"] else {}
        row, _ = add_lead(session, fields, custom=custom, at=now - timedelta(days=100), force=True)
        for kind, days in lead["activities"]:
            record(session, row, kind, now - timedelta(days=days))
        rescore_marked(session)  # what the command's commit does
        explained = explain(session, row.id)
        expected = sum(reference_points(rule, lead, now) for rule in [*rules.demographic, *rules.behavioural])
        assert sum(part["points"] for part in explained["breakdown"]) == explained["raw"] == expected
        assert explained["score"] == clamp(expected) == row.score
        row.score = -1  # forget it: the bulk UPDATE must find the same score on its own
        session.flush()
        rescore_open_leads(session)
        assert session.get(Lead, row.id).score == clamp(expected)
