"""Query plans: per-lead questions are answered per lead, so no command turns quadratic.

Every statement `next` and `board` run is captured as SQLite receives it and
explained with `EXPLAIN QUERY PLAN`. A check inside a correlated subquery
("has this lead an open task due before …?") must search activities by
lead_id; searching them through the (done, due) index instead scans every due
task for every lead, which took `next` 44 s at 20,000 leads. Timings are never
asserted here: a plan regression is what fails.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event

from benchmarks.generate import generate

pytestmark = pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN")

NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """A generated pipeline shaped like the benchmarks' (open tasks, stalled leads, every stage)."""
    from pipectl.storage.schema import open_database

    path = generate(tmp_path_factory.mktemp("plans") / "plans.db", 400)
    database = open_database(str(path))
    yield database
    database.close()


@contextmanager
def captured(database) -> Iterator[list[tuple[str, tuple]]]:
    """Every (SQL, parameters) the engine sends to SQLite inside the block."""
    statements: list[tuple[str, tuple]] = []

    def remember(_connection, _cursor, statement, parameters, _context, _many):
        statements.append((statement, tuple(parameters)))

    event.listen(database.engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", remember)


def plan(database, statement: str, parameters: tuple) -> list[tuple[int, int, str]]:
    """(id, parent, detail) rows of SQLite's plan for one statement."""
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return [(row[0], row[1], row[3]) for row in rows]


def correlated_searches(rows: list[tuple[int, int, str]]) -> list[str]:
    """The plan lines that run once per outer row: everything under a CORRELATED subquery."""
    parents = {node: parent for node, parent, _detail in rows}
    correlated = {node for node, _parent, detail in rows if detail.startswith("CORRELATED")}

    def inside(node: int) -> bool:
        while node in parents:
            node = parents[node]
            if node in correlated:
                return True
        return False

    return [detail for node, _parent, detail in rows if inside(node)]


def selects(statements):
    return [(sql, parameters) for sql, parameters in statements if sql.lstrip().upper().startswith("SELECT")]


def test_every_per_lead_activity_check_of_next_searches_by_lead(pipeline):
    from pipectl.core.agenda import agenda, agenda_dicts

    with captured(pipeline) as statements, pipeline.session(write=False) as session:
        rows = list(agenda_dicts(session, agenda(session, now=NOW)))
    sections = {row["section"] for row in rows}
    assert {"overdue", "upcoming", "needs_decision", "no_next_action"} <= sections

    checked = 0
    for sql, parameters in selects(statements):
        for detail in correlated_searches(plan(pipeline, sql, parameters)):
            if "activities" in detail:
                checked += 1
                assert "(lead_id=?" in detail, f"a per-lead check not searched by lead: {detail}\n{sql}"
    assert checked, "no statement of `next` checked a lead's activities"


def test_the_due_before_check_uses_the_lead_done_due_index(pipeline):
    from pipectl.core.agenda import stalled_rows, unplanned_rows

    with captured(pipeline) as statements, pipeline.session(write=False) as session:
        stalled_rows(session, NOW)
        unplanned_rows(session)
    details = [
        detail
        for sql, parameters in selects(statements)
        if "NOT (EXISTS" in sql
        for detail in correlated_searches(plan(pipeline, sql, parameters))
    ]
    # "An open task due before the horizon" (stalled) and "any open task" (no next action).
    assert any("ix_activities_lead_done_due (lead_id=? AND done=? AND due<?)" in detail for detail in details), details
    assert any("ix_activities_lead_done_due (lead_id=? AND done=?)" in detail for detail in details), details


def test_board_cards_come_in_order_from_the_stage_index(pipeline):
    from pipectl.core.board import build_board

    with captured(pipeline) as statements, pipeline.session(write=False) as session:
        board = build_board(session, NOW)
    assert any(column["cards"] for column in board["columns"])
    card_queries = [
        (sql, parameters)
        for sql, parameters in selects(statements)
        if "ORDER BY leads.value_cents DESC" in sql and "LIMIT" in sql
    ]
    assert card_queries
    for sql, parameters in card_queries:
        details = [detail for _node, _parent, detail in plan(pipeline, sql, parameters)]
        assert any("ix_leads_stage_status_value (stage_id=? AND status=?)" in detail for detail in details), details
        # Ties on value and score are ordered by id in a small sort; never all the stage's leads.
        assert not any(detail == "USE TEMP B-TREE FOR ORDER BY" for detail in details), details


def test_board_column_totals_are_counted_inside_the_stage_index(pipeline):
    from pipectl.core.board import build_board

    with captured(pipeline) as statements, pipeline.session(write=False) as session:
        board = build_board(session, NOW)
    assert sum(column["leads"] for column in board["columns"]) > 0
    totals = [(sql, parameters) for sql, parameters in selects(statements) if "GROUP BY leads.stage_id" in sql]
    assert len(totals) == 1
    details = [detail for _node, _parent, detail in plan(pipeline, *totals[0])]
    # Counted and summed from the index alone, stage by stage: no lead row read, no sort of open leads.
    assert any(
        "COVERING INDEX ix_leads_stage_status_value (stage_id=? AND status=?)" in detail for detail in details
    ), details
    assert not any("TEMP B-TREE" in detail for detail in details), details
