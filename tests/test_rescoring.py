"""Scores are re-scored once per command, in SQL, for the leads it touched, just before the commit."""

import json

import pytest
from sqlalchemy import event
from sqlmodel import select

from pipectl import clock
from pipectl.core.history import record
from pipectl.core.leads import add_lead, validate_fields
from pipectl.core.rescoring import MARKED, mark, rescore_marked
from pipectl.core.scoring import BehaviouralRule, DemographicRule, ScoreModel, ScoringRules, save_rules
from pipectl.core.stages import find_stage, remove_stage
from pipectl.storage.models import Activity, Lead

RULES = """
[[scoring.demographic]]
name = "Head of"
field = "title"
glob = "Head of*"
points = 40

[[scoring.behavioural]]
name = "Moved"
kind = "stage_change"
points = 5

[[scoring.behavioural]]
name = "Calls"
kind = "call"
points = 10
"""


@pytest.fixture
def rules(ok, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    ok("rules", "load", path)


def use_rules(session):
    save_rules(
        session,
        ScoreModel(
            scoring=ScoringRules(
                demographic=[DemographicRule(name="Head of", field="title", glob="Head of*", points=40)],
                behavioural=[
                    BehaviouralRule(name="Calls", kind="call", points=10),
                    BehaviouralRule(name="Moved", kind="stage_change", points=5),
                ],
            )
        ),
    )


def score_of(database, lead_id):
    with database.session(write=False) as session:
        return session.get(Lead, lead_id).score


def test_the_commit_rescores_what_the_command_touched(database):
    with database.session() as session:
        use_rules(session)
        lead, _ = add_lead(session, validate_fields(name="Ada"))
        record(session, lead, "call", clock.now())
        record(session, lead, "call", clock.now())
        assert lead.score == 0  # nothing re-scores inside record
        assert session.info[MARKED] == {lead.id}
        lead_id = lead.id
    assert lead.score == 20  # the objects a command holds see the stored score after its commit
    assert score_of(database, lead_id) == 20


def test_many_touched_leads_are_rescored_by_one_statement(database):
    statements: list[str] = []
    with database.session() as session:
        use_rules(session)
        leads = [add_lead(session, validate_fields(name=f"L{n}"))[0] for n in range(30)]
        event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        for lead in leads:
            record(session, lead, "call", clock.now())
        ids = [lead.id for lead in leads]
    scoring = [sql for sql in statements if sql.startswith("WITH computed") and "UPDATE leads" in sql]
    assert len(scoring) == 1
    with database.session(write=False) as session:
        assert set(session.exec(select(Lead.score).where(Lead.id.in_(ids)))) == {10}


def test_a_rollback_forgets_the_marks(database):
    with database.session() as session:
        use_rules(session)
        lead, _ = add_lead(session, validate_fields(name="Ada"))
        lead_id = lead.id
    with pytest.raises(RuntimeError), database.session() as session:
        mark(session, [lead_id])
        raise RuntimeError("the command failed")
    with database.session() as session:
        lead = session.get(Lead, lead_id)
        record(session, lead, "call", clock.now())
        session.rollback()
        assert not session.info[MARKED]
    assert score_of(database, lead_id) == 0


def test_rescore_marked_is_for_commands_that_read_a_score_they_changed(session):
    use_rules(session)
    lead, _ = add_lead(session, validate_fields(name="Ada"))
    record(session, lead, "call", clock.now())
    rescore_marked(session)
    assert lead.score == 10 and not session.info[MARKED]


def test_remove_stage_moves_every_lead_in_sql_and_rescores_them(database):
    statements: list[str] = []
    with database.session() as session:
        use_rules(session)
        contact = find_stage(session, "Contact")
        leads = [
            add_lead(session, validate_fields(name=f"L{n}", title="Head of Sales" if n % 2 else None), stage="Contact")[
                0
            ]
            for n in range(12)
        ]
        leads[0].status, leads[0].closed_at = "won", clock.now()
        ids = [lead.id for lead in leads]
    entered = {lead.id: lead.stage_entered_at for lead in leads}
    last_activity = {lead.id: lead.last_activity_at for lead in leads}
    with database.session() as session:
        session.info.clear()
        event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        stage, moved = remove_stage(session, "Contact", to="Qualification")
        qualification = find_stage(session, "Qualification").id
    assert (stage.name, moved) == ("Contact", 12)
    writes = [
        sql.split()[0] + " " + sql.split()[2 if sql.startswith("INSERT") else 1]
        for sql in statements
        if sql.startswith(("INSERT", "UPDATE"))
    ]
    # One INSERT … SELECT of the history, one UPDATE of the leads, one re-score, then the stages' positions.
    assert writes.count("INSERT activities") == 1 and "UPDATE leads" in writes
    assert sum(1 for sql in statements if sql.startswith("WITH computed")) == 1
    with database.session(write=False) as session:
        rows = {lead.id: lead for lead in session.exec(select(Lead).where(Lead.id.in_(ids)))}
        changes = list(session.exec(select(Activity).where(Activity.kind == "stage_change")))
    assert {lead.stage_id for lead in rows.values()} == {qualification}
    assert [
        (change.lead_id, change.from_stage_id, change.to_stage_id, change.note, change.done, change.data)
        for change in sorted(changes, key=lambda change: change.lead_id)
    ] == [(lead_id, contact.id, qualification, "stage Contact removed", True, None) for lead_id in ids]
    now = clock.now()
    assert rows[ids[0]].stage_entered_at == entered[ids[0]]  # a won lead keeps its dates
    assert all(rows[lead_id].stage_entered_at == now for lead_id in ids[1:])
    assert all(rows[lead_id].last_activity_at == last_activity[lead_id] for lead_id in ids)  # bookkeeping
    assert [rows[lead_id].score for lead_id in ids] == [45 if n % 2 else 5 for n in range(12)]


def test_cli_scores_follow_every_change(ok, new_lead, rules):
    lead = new_lead("Ada")
    ok("log", lead, "call")
    assert json.loads(ok("show", lead, "-f", "json").stdout)["score"] == 10
    ok("move", lead, "Contact")
    assert json.loads(ok("show", lead, "-f", "json").stdout)["score"] == 15
    ok("stages", "remove", "Contact", "--to", "Qualification")
    assert json.loads(ok("show", lead, "-f", "json").stdout)["score"] == 20
    ok("edit", lead, "--title", "Head of Sales")
    assert json.loads(ok("score", lead, "-f", "json").stdout)["score"] == 60


def test_add_checks_a_stage_minimum_against_the_new_score(ok, cli, rules, snapshot):
    ok("stages", "set", "Contact", "--min-score", "40")
    before = snapshot()
    cold = cli("add", "Cold", "--stage", "Contact")
    assert cold.exit_code == 1 and "score 0 is under the minimum of 40" in cold.stderr
    assert snapshot() == before
    warm = int(ok("add", "Warm", "--title", "Head of Sales", "--stage", "Contact").stdout)
    assert json.loads(ok("show", warm, "-f", "json").stdout)["score"] == 40


def test_log_still_prints_the_new_activity_id(ok, new_lead):
    lead = new_lead("Ada")
    assert "Logged call #2 on lead #1 Ada" in ok("log", lead, "call").stderr
    ok("plan", lead, "Send proposal", "--due", "friday")
    assert [row["task_id"] for row in json.loads(ok("next", "-f", "json").stdout)] == [3]


def test_remove_stage_rescores_nothing_when_no_rule_counts_stage_changes(database):
    statements: list[str] = []
    with database.session() as session:  # the default rules: none counts stage_change activities
        lead, _ = add_lead(session, validate_fields(name="Ada", title="Head of Sales"), stage="Contact")
        score = lead.score
    with database.session() as session:
        event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert remove_stage(session, "Contact", to="Proposal")[1] == 1
    assert not any(sql.startswith("WITH computed") for sql in statements)
    assert score > 0 and score_of(database, lead.id) == score


def test_import_scores_its_open_leads_and_keeps_a_closed_leads_score(ok, tmp_path, rules):
    file = tmp_path / "leads.csv"
    file.write_text(
        "name,title,status,score,lost_reason\nOpen,Head of Sales,open,3,\n"
        "Won,Head of Sales,won,77,\nLost,,lost,12,price\n",
        encoding="utf-8",
    )
    ok("import", file)
    scores = {row["name"]: row["score"] for row in json.loads(ok("list", "--status", "all", "-f", "json").stdout)}
    assert scores == {"Open": 40, "Won": 77, "Lost": 12}
    activities = tmp_path / "activities.csv"
    activities.write_text("lead_id,kind,at\n1,call,2026-11-20\n2,call,2026-11-20\n", encoding="utf-8")
    ok("import", activities, "--what", "activities")
    scores = {row["name"]: row["score"] for row in json.loads(ok("list", "--status", "all", "-f", "json").stdout)}
    assert scores == {"Open": 50, "Won": 77, "Lost": 12}
