"""The stale-lead rules (core/hygiene.py), each at its boundary: a day under and a day over its limit."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from pipectl import clock
from pipectl.core.cleanup_rules import CleanupRules, load_cleanup_rules, save_cleanup_rules
from pipectl.core.hygiene import RULES, StaleFinder, check_rules, stale_reasons, won_stage_averages
from pipectl.errors import UsageError
from pipectl.storage.models import Lead, Stage
from pipectl.storage.schema import open_database


@pytest.fixture
def stale(db_location):
    """`stale(rules=None, ids=None)`: the reasons at the current PIPECTL_NOW, from a fresh read session."""

    def find(rules=None, ids=None, **filters):
        database = open_database(db_location)
        try:
            with database.session(write=False) as session:
                return stale_reasons(session, clock.now(), ids, rules, **filters)
        finally:
            database.close()

    return find


@pytest.fixture
def change(db_location):
    """`change(lead_id, **values)`: set columns the CLI of other issues maintains (BANT, nurture_since)."""

    def apply(lead_id, **values):
        database = open_database(db_location)
        try:
            with database.session() as session:
                session.execute(update(Lead).where(Lead.id == lead_id).values(**values))
        finally:
            database.close()

    return apply


def stage_id(db_location, name: str) -> int:
    database = open_database(db_location)
    try:
        with database.session(write=False) as session:
            return session.execute(select(Stage.id).where(Stage.name == name)).scalar_one()
    finally:
        database.close()


def at(monkeypatch, moment: str) -> None:
    monkeypatch.setenv("PIPECTL_NOW", moment)


# -- idle ---------------------------------------------------------------------------------------


def test_idle_a_day_under_and_a_day_over_the_stage_limit(new_lead, stale, monkeypatch):
    lead = new_lead("Ada", "--at", "2026-11-01")  # Discovery: 14 idle days
    at(monkeypatch, "2026-11-15T09:00:00")  # 14 days: at the limit, not over it
    assert stale(["idle"]) == {}
    at(monkeypatch, "2026-11-16T09:00:00")
    assert stale(["idle"]) == {lead: ["no activity for 15 days (limit 14 in Discovery)"]}


def test_idle_limit_is_the_stage_setting_and_activity_resets_it(ok, new_lead, stale, monkeypatch):
    lead = new_lead("Ada", "--at", "2026-11-01")
    ok("stages", "set", "Discovery", "--idle-days", "30")
    at(monkeypatch, "2026-11-23T09:00:00")
    assert stale(["idle"]) == {}
    ok("stages", "set", "Discovery", "--idle-days", "7")
    assert stale(["idle"]) == {lead: ["no activity for 22 days (limit 7 in Discovery)"]}
    ok("log", lead, "note", "--at", "2026-11-20")
    assert stale(["idle"]) == {}


def test_won_and_lost_leads_are_never_stale(ok, new_lead, stale):
    won = new_lead("Won", "--at", "2026-01-01")
    lost = new_lead("Lost", "--at", "2026-01-01")
    ok("won", won, "--at", "2026-01-02")
    ok("lost", lost, "--reason", "said no", "--at", "2026-01-02")
    assert stale() == {}


# -- too long in stage --------------------------------------------------------------------------


def won_history(ok, new_lead, count: int) -> None:
    """`count` won leads that each spent 10 days in Discovery and 10 in Qualification."""
    for number in range(count):
        lead = new_lead(f"Won {number}", "--at", "2026-01-01")
        ok("move", lead, "Qualification", "--at", "2026-01-11")
        ok("won", lead, "--at", "2026-01-21")


def test_won_stage_averages_read_the_history(ok, new_lead, db_location):
    won_history(ok, new_lead, 2)
    open_lead = new_lead("Still open", "--at", "2026-01-01")
    ok("move", open_lead, "Qualification", "--at", "2026-03-01")  # open leads do not count
    database = open_database(db_location)
    with database.session(write=False) as session:
        averages = won_stage_averages(session)
        names = dict(session.execute(select(Stage.name, Stage.id)).all())
    database.close()
    assert averages == {names["Discovery"]: (10.0, 2), names["Qualification"]: (10.0, 2)}


def test_won_stage_averages_read_the_latest_won_leads(ok, new_lead, db_location):
    won_history(ok, new_lead, 1)  # 10 days in Discovery
    quick = new_lead("Quick", "--at", "2026-02-01")
    ok("move", quick, "Qualification", "--at", "2026-02-03")
    ok("won", quick, "--at", "2026-02-04")
    database = open_database(db_location)
    with database.session(write=False) as session:
        discovery = session.execute(select(Stage.id).where(Stage.name == "Discovery")).scalar_one()
        assert won_stage_averages(session)[discovery] == (6.0, 2)
        assert won_stage_averages(session, sample=1)[discovery] == (2.0, 1)
    database.close()


def test_too_long_in_stage_is_a_factor_of_the_won_average(ok, new_lead, stale, monkeypatch):
    won_history(ok, new_lead, 5)
    lead = new_lead("Slow", "--at", "2026-10-20")
    ok("move", lead, "Qualification", "--at", "2026-11-01")
    ok("log", lead, "reply", "--at", "2026-11-20")  # active, so only this rule can flag it
    at(monkeypatch, "2026-11-21T09:00:00")  # 20 days = 2 × 10: at the limit
    assert stale() == {}
    at(monkeypatch, "2026-11-22T09:00:00")
    assert stale() == {lead: ["in Qualification for 21 days (limit 20: 2× the 10 days won leads averaged there)"]}


def test_too_long_in_stage_falls_back_to_the_idle_rule_when_history_is_thin(ok, new_lead, stale, monkeypatch):
    won_history(ok, new_lead, 4)  # fewer than min_won_history (5)
    lead = new_lead("Slow", "--at", "2026-10-20")
    ok("move", lead, "Qualification", "--at", "2026-11-01")
    ok("log", lead, "reply", "--at", "2026-11-20")
    at(monkeypatch, "2026-11-22T09:00:00")
    assert stale(["too-long-in-stage"]) == {}  # active: the idle rule would not flag it
    at(monkeypatch, "2026-12-05T09:00:00")  # 15 days after the reply; Qualification allows 14
    reason = "no activity for 15 days (limit 14 in Qualification)"
    assert stale(["too-long-in-stage"]) == {lead: [reason]}
    # With both rules chosen the reason is given once.
    assert stale(["idle", "too-long-in-stage"]) == {lead: [reason]}


# -- too old ------------------------------------------------------------------------------------


def test_too_old_after_the_maximum_pipeline_age(ok, new_lead, stale, monkeypatch):
    lead = new_lead("Old", "--at", "2026-05-01")
    start = datetime(2026, 5, 1, 9)
    at(monkeypatch, (start + timedelta(days=180)).isoformat())
    assert stale(["too-old"]) == {}
    at(monkeypatch, (start + timedelta(days=181)).isoformat())
    assert stale(["too-old"]) == {lead: ["open for 181 days (limit 180)"]}


def test_negotiating_too_long_in_the_last_stage(ok, new_lead, stale, monkeypatch):
    lead = new_lead("Haggler", "--at", "2026-09-01")
    ok("move", lead, "Proposal", "--force", "--at", "2026-09-10")
    start = datetime(2026, 9, 10, 9)
    at(monkeypatch, (start + timedelta(days=60)).isoformat())
    assert stale(["too-old"]) == {}
    at(monkeypatch, (start + timedelta(days=61)).isoformat())
    assert stale(["too-old"]) == {lead: ["negotiating in Proposal for 61 days (limit 60)"]}


def test_limits_come_from_the_saved_cleanup_rules(new_lead, stale, db_location, monkeypatch):
    lead = new_lead("Old", "--at", "2026-10-01")
    assert stale(["too-old"]) == {}
    database = open_database(db_location)
    with database.session() as session:
        save_cleanup_rules(session, CleanupRules(max_age_days=30))
    with database.session(write=False) as session:
        assert load_cleanup_rules(session).max_age_days == 30
    database.close()
    assert stale(["too-old"]) == {lead: ["open for 53 days (limit 30)"]}


# -- no response --------------------------------------------------------------------------------


def test_no_response_after_the_third_unanswered_attempt(ok, new_lead, stale):
    lead = new_lead("Silent", "--at", "2026-11-01")
    ok("log", lead, "call", "--at", "2026-11-10")
    ok("log", lead, "email", "--at", "2026-11-12")
    assert stale(["no-response"]) == {}
    ok("log", lead, "message", "--at", "2026-11-14")
    assert stale(["no-response"]) == {lead: ["no reply to 3 outreach attempts since 2026-11-10 (limit 3)"]}


def test_a_reply_or_inbound_signal_resets_the_count(ok, new_lead, stale):
    replied = new_lead("Replied", "--at", "2026-11-01")
    for day in (10, 11, 12):
        ok("log", replied, "call", "--at", f"2026-11-{day}")
    ok("log", replied, "reply", "--at", "2026-11-13")
    signalled = new_lead("Signalled", "--at", "2026-11-01")
    for day in (10, 11, 12):
        ok("log", signalled, "email", "--at", f"2026-11-{day}")
    ok("log", signalled, "form_submission", "--at", "2026-11-13")
    opened = new_lead("Opened", "--at", "2026-11-01")
    for day in (10, 11, 12):
        ok("log", opened, "email", "--at", f"2026-11-{day}")
    ok("log", opened, "email_open", "--at", "2026-11-13")  # an open is not an answer
    assert stale(["no-response"]) == {opened: ["no reply to 3 outreach attempts since 2026-11-10 (limit 3)"]}
    for day in (14, 15, 16):
        ok("log", replied, "call", "--at", f"2026-11-{day}")
    assert set(stale(["no-response"])) == {replied, opened}


# -- disqualified and not the audience ----------------------------------------------------------


def test_disqualified_by_budget_or_authority(new_lead, stale, change):
    budget = new_lead("No money", "--at", "2026-11-20")
    authority = new_lead("No boss", "--at", "2026-11-20")
    need = new_lead("No need", "--at", "2026-11-20")
    change(budget, budget="no", budget_note="frozen until 2028")
    change(authority, authority="no")
    change(need, need="no")
    assert stale(["disqualified"]) == {
        budget: ["no budget (BANT budget is no: frozen until 2028)"],
        authority: ["no access to the decision maker (BANT authority is no)"],
    }


def test_not_the_audience_after_the_nurture_limit(new_lead, stale, change, monkeypatch):
    lead = new_lead("Cold", "--at", "2026-11-20")
    change(lead, nurture_since=datetime(2026, 9, 1, 9))
    at(monkeypatch, "2026-10-31T09:00:00")  # 60 days
    assert stale(["not-audience"]) == {}
    at(monkeypatch, "2026-11-01T09:00:00")
    assert stale(["not-audience"]) == {lead: ["under the nurture threshold for 61 days (limit 60)"]}


# -- the whole set and its filters --------------------------------------------------------------


def test_all_reasons_in_rule_order_and_filters(ok, new_lead, stale, change, db_location):
    old = new_lead("Old", "--at", "2026-04-01")
    change(old, budget="no")
    fresh = new_lead("Fresh", "--at", "2026-11-22")
    other = new_lead("Elsewhere", "--at", "2026-10-01")
    ok("move", other, "Contact", "--at", "2026-10-02")
    everything = stale()
    assert everything[old] == [
        "no activity for 236 days (limit 14 in Discovery)",
        "open for 236 days (limit 180)",
        "no budget (BANT budget is no)",
    ]
    assert fresh not in everything and other in everything
    assert list(stale(ids=[fresh, old])) == [old]
    assert stale(ids=[]) == {}
    assert list(stale(stage_id=stage_id(db_location, "Contact"))) == [other]
    assert list(stale(last_activity_before=datetime(2026, 6, 1))) == [old]


def test_condition_selects_the_same_leads_as_the_reasons(ok, new_lead, change, db_location):
    new_lead("Idle", "--at", "2026-10-01")
    new_lead("Fresh", "--at", "2026-11-22")
    disqualified = new_lead("Fresh but broke", "--at", "2026-11-22")
    change(disqualified, authority="no")
    database = open_database(db_location)
    with database.session(write=False) as session:
        for rules in (None, ["idle"], ["disqualified"], ["no-response"]):
            finder = StaleFinder(session, clock.now(), rules)
            selected = [row[0] for row in session.execute(select(Lead.id).where(finder.condition()).order_by(Lead.id))]
            assert selected == list(finder.reasons())
    database.close()


def test_check_rules_orders_and_refuses_unknown_names():
    assert check_rules(None) == list(RULES)
    assert check_rules(["no-response", " IDLE "]) == ["idle", "no-response"]
    with pytest.raises(UsageError, match="Unknown rule 'stale'"):
        check_rules(["stale"])
