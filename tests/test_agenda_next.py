"""The agenda (`next`): sections, order, limits and formats, at the fixed time Monday 2026-11-23 09:00."""

import csv
import io
import json

import pytest

from backends import execute
from pipectl.core.views import CONTRACT_KEYS


def set_scores(db_location, scores: dict[int, int]) -> None:
    # Scores straight into the table: the agenda's ordering is what is tested here, not scoring.
    rows = [{"score": score, "id": lead_id} for lead_id, score in scores.items()]
    execute(db_location, "UPDATE leads SET score = :score WHERE id = :id", parameters=rows)


def agenda_json(ok, *args):
    return json.loads(ok("next", "-f", "json", *args).stdout)


@pytest.fixture
def week(database):
    """Leads with actions overdue, today, tomorrow, later this week, next month; one unplanned; one won.

    Built through the core in one transaction: the CLI's own path is tested below, and this keeps the
    agenda tests fast.
    """
    from pipectl import clock
    from pipectl.core.agenda import plan_action
    from pipectl.core.leads import add_lead, validate_fields
    from pipectl.core.outcomes import mark_won
    from pipectl.dates import parse_date

    ids = {}
    with database.session() as session:
        for name, due in (
            ("Ada", "-3d"),
            ("Bob", "yesterday"),
            ("Cy", "today 14:00"),
            ("Dee", "tomorrow 10:00"),
            ("Eve", "2026-11-26"),
            ("Fay", "2026-12-10"),
            ("Gus", None),
            ("Hal", None),
        ):
            lead, _ = add_lead(session, validate_fields(name=name, company=f"{name} Co", value_cents=100_000))
            ids[name] = lead.id
            if due:
                plan_action(session, lead, f"Call {name}", parse_date(due, clock.now()))
            if name == "Hal":
                mark_won(session, lead)
    return ids


def test_next_sections_in_order_with_days_overdue(ok, week):
    rows = agenda_json(ok)
    assert [(row["name"], row["section"], row["days_overdue"]) for row in rows] == [
        ("Ada", "overdue", 3),
        ("Bob", "overdue", 1),
        ("Cy", "today", 0),
        ("Dee", "upcoming", 0),
        ("Eve", "upcoming", 0),
        ("Gus", "no_next_action", None),
    ]
    assert all(set(CONTRACT_KEYS) <= set(row) for row in rows)
    cy = rows[2]
    assert cy["next_action"] == "Call Cy" and cy["appointment"] is True and cy["task_id"]
    assert rows[3]["appointment"] is True and rows[4]["appointment"] is False
    assert rows[5]["next_action"] is None and rows[5]["task_id"] is None


def test_next_within_1d_is_tomorrows_reminder_list(ok, week):
    rows = agenda_json(ok, "--within", "1d")
    assert [row["name"] for row in rows if row["section"] == "upcoming"] == ["Dee"]
    rows = agenda_json(ok, "--within", "3w")
    assert [row["name"] for row in rows if row["section"] == "upcoming"] == ["Dee", "Eve", "Fay"]


def test_next_sorts_within_a_day_by_score(ok, new_lead, db_location):
    ids = [new_lead(name) for name in ("Low", "High", "Older", "Cold", "Warm")]
    for lead_id in ids[:2]:
        ok("plan", lead_id, "Call", "--due", "-1d")
    ok("plan", ids[2], "Call", "--due", "-4d")
    set_scores(db_location, {ids[0]: 10, ids[1]: 80, ids[2]: 5, ids[3]: 20, ids[4]: 60})
    rows = agenda_json(ok)
    assert [row["name"] for row in rows] == ["Older", "High", "Low", "Warm", "Cold"]


def test_next_limit_caps_the_leads_without_a_next_action(ok, new_lead, db_location):
    ids = [new_lead(f"Lead {number}") for number in range(5)]
    set_scores(db_location, dict(zip(ids, (5, 50, 20, 40, 10), strict=True)))
    rows = agenda_json(ok, "--limit", "2")
    assert [row["id"] for row in rows] == [ids[1], ids[3]]


def test_next_table_shows_sections(ok, week):
    out = ok("next").stdout
    for title in ("Overdue (2)", "Today (1)", "Upcoming (2)", "No next action (1)"):
        assert title in out
    assert out.index("Overdue") < out.index("Today") < out.index("Upcoming") < out.index("No next action")
    assert "Call Ada" in out and "3d" in out and "2026-11-23 14:00" in out
    assert "Hal" not in out and "Fay" not in out


def test_next_on_an_empty_pipeline(ok):
    assert "Nothing planned" in ok("next").stdout
    assert json.loads(ok("next", "-f", "json").stdout) == []


def test_next_jsonl_and_csv(ok, week):
    lines = [json.loads(line) for line in ok("next", "-f", "jsonl").stdout.splitlines()]
    assert [line["section"] for line in lines][:3] == ["overdue", "overdue", "today"]
    table = list(csv.DictReader(io.StringIO(ok("next", "-f", "csv").stdout)))
    assert [row["name"] for row in table] == ["Ada", "Bob", "Cy", "Dee", "Eve", "Gus"]
    assert table[0]["section"] == "overdue" and table[0]["days_overdue"] == "3"


@pytest.mark.parametrize(
    "args, message",
    [
        (("--within", "soon"), "Cannot read the duration"),
        (("--within", "-3d"), "Cannot read the duration"),
        (("--limit", "0"), "--limit must be at least 1"),
        (("--format", "xml"), "--format xml: this command writes table, json, jsonl, csv or ics."),
    ],
)
def test_next_bad_options_are_usage_errors(cli, args, message):
    result = cli("next", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_next_leaves_the_database_unchanged(ok, week, snapshot):
    before = snapshot()
    ok("next")
    ok("next", "-f", "ics")
    assert snapshot() == before


def test_next_table_cuts_long_sections_and_says_how_many_more(ok, week, monkeypatch):
    import pipectl.cli.qualify as qualify_cli

    monkeypatch.setattr(qualify_cli, "TABLE_ROWS", 1)
    out = ok("next").stdout
    assert "Overdue (2)" in out and "Call Ada" in out and "Call Bob" not in out
    assert "… and 1 more; `pipectl next -f json` lists them all." in out
    assert len(agenda_json(ok)) == 6  # machine formats are never cut


def test_cap_sections_counts_what_it_leaves_out():
    from pipectl.core.agenda import AgendaRow, cap_sections

    rows = [
        AgendaRow(lead_id=number, section=section)
        for number, section in enumerate(["overdue"] * 3 + ["today"] + ["no_next_action"] * 2)
    ]
    hidden: dict[str, int] = {}
    kept = list(cap_sections(iter(rows), 2, hidden))
    assert [row.lead_id for row in kept] == [0, 1, 3, 4, 5]
    assert hidden == {"overdue": 1}
