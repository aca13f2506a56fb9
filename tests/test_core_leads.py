"""The core without the CLI: leads, outcomes, stages and the one-transaction rule."""

from datetime import datetime

import pytest
from sqlmodel import select

from pipectl.contract import tidy_text
from pipectl.core import leads, outcomes, stages
from pipectl.core.views import LeadFilter, lead_rows
from pipectl.errors import DuplicateLead, NotFound, RuleViolation, UsageError
from pipectl.storage.models import Activity, Lead

NOW = datetime(2026, 11, 23, 9, 0)


def add(session, name="Ada", **values):
    lead, _ = leads.add_lead(session, leads.validate_fields(name=name, **values))
    return lead


def test_add_lead_writes_a_created_activity_into_the_first_stage(session):
    lead = add(session, email="ada@example.com", value_cents=150_00)
    (activity,) = session.exec(select(Activity).where(Activity.lead_id == lead.id)).all()
    assert (activity.kind, activity.to_stage_id, activity.at) == ("created", stages.first_stage(session).id, NOW)
    assert (lead.created_at, lead.stage_entered_at, lead.last_activity_at) == (NOW, NOW, NOW)


def test_duplicates_by_email_or_name_and_company(session):
    add(session, "Ada Lovelace", email="ada@example.com", company="Analytical")
    assert leads.find_duplicates(session, email="ADA@EXAMPLE.COM", name=None, company=None)
    assert leads.find_duplicates(session, email=None, name="ada lovelace", company="ANALYTICAL")
    assert not leads.find_duplicates(session, email=None, name="ada lovelace", company=None)
    with pytest.raises(DuplicateLead):
        add(session, "Someone", email="ada@example.com")
    lead, duplicates = leads.add_lead(
        session, leads.validate_fields(name="Someone", email="ada@example.com"), force=True
    )
    assert lead.id == 2 and [duplicate.id for duplicate in duplicates] == [1]


def test_validation_names_the_field():
    with pytest.raises(UsageError, match="--email"):
        leads.validate_fields(name="Ada", email="ada at example")
    with pytest.raises(UsageError, match="--size"):
        leads.validate_fields(name="Ada", company_size=-1)
    assert leads.validate_fields(name="  Ada   Lovelace ").name == "Ada Lovelace"


def test_find_lead(session):
    add(session, "Ada", email="ada@example.com")
    assert leads.find_lead(session, "1").name == "Ada"
    assert leads.find_lead(session, "#1").name == "Ada"
    assert leads.find_lead(session, "ada@EXAMPLE.com").name == "Ada"
    with pytest.raises(NotFound):
        leads.find_lead(session, "2")
    with pytest.raises(NotFound):
        leads.find_lead(session, "nobody")


def test_outcome_rules(session):
    lead = add(session)
    outcomes.move_lead(session, lead, "Qualification")
    with pytest.raises(RuleViolation, match="already in"):
        outcomes.move_lead(session, lead, "qualification")
    with pytest.raises(RuleViolation, match="needs a reason"):
        outcomes.mark_lost(session, lead, reason="")
    outcomes.mark_won(session, lead, value_cents=5000_00)
    with pytest.raises(RuleViolation, match="already won"):
        outcomes.mark_won(session, lead)
    with pytest.raises(RuleViolation, match="reopen it first"):
        outcomes.mark_lost(session, lead, reason="changed mind")
    outcomes.reopen_lead(session, lead)
    assert (lead.status, lead.closed_at, lead.value_cents) == ("open", None, 5000_00)
    kinds = session.exec(select(Activity.kind).where(Activity.lead_id == lead.id).order_by(Activity.id)).all()
    assert kinds == ["created", "stage_change", "won", "reopened"]


def test_entry_rules_list_every_problem(session):
    lead = add(session)
    proposal = stages.find_stage(session, "Proposal")
    proposal.min_score = 50
    problems = outcomes.check_entry_rules(lead, proposal)
    assert len(problems) == 2 and "BANT" in problems[0] and "minimum of 50" in problems[1]
    for criterion in outcomes.BANT_CRITERIA:
        setattr(lead, criterion, "yes")
    lead.score = 50
    assert outcomes.check_entry_rules(lead, proposal) == []


def test_a_failed_command_writes_nothing(database):
    with pytest.raises(RuleViolation), database.session() as session:
        add(session, "Ada")
        raise RuleViolation("something later in the same command went wrong")
    with database.session(write=False) as session:
        assert session.exec(select(Lead)).all() == []


def test_lead_rows_stream_in_chunks_with_tags_and_fields(session, monkeypatch):
    import pipectl.core.views as views

    monkeypatch.setattr(views, "CHUNK", 3)
    for number in range(8):
        leads.add_lead(
            session, leads.validate_fields(name=f"Lead {number}"), tags=[f"t{number % 2}"], custom={"n": str(number)}
        )
    rows = list(lead_rows(session, LeadFilter(sort="id")))
    assert [row["fields"]["n"] for row in rows] == [str(number) for number in range(8)]
    assert [row["tags"] for row in rows][:2] == [["t0"], ["t1"]]
    assert len(list(lead_rows(session, LeadFilter(tags=["t1"])))) == 4


def test_adding_into_a_stage_with_a_minimum_score_uses_the_new_leads_score(session):
    contact = stages.find_stage(session, "Contact")
    contact.min_score = 20
    with pytest.raises(RuleViolation, match="minimum of 20"):
        leads.add_lead(session, leads.validate_fields(name="Cold"), stage="Contact")
    warm, _ = leads.add_lead(
        session, leads.validate_fields(name="Warm", title="Head of Sales", email="warm@example.com"), stage="Contact"
    )
    assert warm.score >= 20 and warm.stage_id == contact.id


@pytest.mark.parametrize("text", [";  x\n", "  a  b  ", "line one\n  line  two\n", "\n", "a\u2028 b"])
def test_text_normalisation_is_idempotent(text):
    once = tidy_text(text)
    assert once is None or tidy_text(once) == once
