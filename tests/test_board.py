"""`pipectl board`: columns per stage with counts and values, capped cards, stalled and nurture marks.

Now is 2026-11-23 09:00. Open leads (Discovery 10%, Contact 50%, Proposal 75%):
    Ann  Discovery  12k  created 11-20, CEO + referral + email = score 30 (not nurture), owner sam, tag enterprise
    Ben  Discovery   3k  created 10-01: idle 53 days > 14, so stalled; score 0 (nurture)
    Cid  Discovery   -   created 11-22
    Dot  Contact    20k  created 11-10, owner sam, tag enterprise
    Eva  Proposal    7k  created 11-15 (forced past the BANT rule)
    Fin  won, so not on the board
"""

import json

import pytest

from insight_support import pipeline_fixtures
from pipectl.core.board import BoardFilter, build_board


def build(pipectl) -> dict:
    lead = pipectl.lead
    ids = {
        "ann": lead(
            "Ann",
            "--value",
            "12k",
            "--title",
            "CEO",
            "--source",
            "referral",
            "--email",
            "ann@example.com",
            "--owner",
            "sam",
            "--tag",
            "enterprise",
            "--at",
            "2026-11-20",
        ),
        "ben": lead("Ben", "--value", "3k", "--at", "2026-10-01"),
        "cid": lead("Cid", "--at", "2026-11-22"),
        "dot": lead(
            "Dot", "--value", "20k", "--stage", "Contact", "--owner", "Sam", "--tag", "Enterprise", "--at", "2026-11-10"
        ),
        "eva": lead("Eva", "--value", "7k", "--stage", "Proposal", "--force", "--at", "2026-11-15"),
        "fin": lead("Fin", "--value", "9k", "--at", "2026-11-01"),
    }
    pipectl.ok("won", ids["fin"], "--at", "2026-11-05")
    return ids


built, pipeline = pipeline_fixtures(build)


def board_json(ok, *args) -> dict:
    return json.loads(ok("board", "--format", "json", *args).stdout)


def test_columns_in_stage_order_with_totals(pipeline, ok):
    data = board_json(ok)
    heads = [(c["stage"], c["leads"], c["value"], c["weighted_value"]) for c in data["columns"]]
    assert heads == [
        ("Discovery", 3, 15000.0, 1500.0),
        ("Qualification", 0, 0.0, 0.0),
        ("Contact", 1, 20000.0, 10000.0),
        ("Proposal", 1, 7000.0, 5250.0),
    ]
    assert data["total"] == {"leads": 5, "value": 42000.0}


def test_cards_by_value_with_marks(pipeline, ok):
    discovery = board_json(ok)["columns"][0]
    cards = {card["name"]: card for card in discovery["cards"]}
    assert [card["name"] for card in discovery["cards"]] == ["Ann", "Ben", "Cid"]
    assert cards["Ann"]["score"] == 30 and cards["Ann"]["nurture"] is False and cards["Ann"]["stalled"] is False
    assert cards["Ben"]["nurture"] is True and cards["Ben"]["stalled"] is True
    assert cards["Ben"]["days_in_stage"] == 53
    assert any("53 days" in reason for reason in cards["Ben"]["stale_reasons"])
    assert cards["Cid"]["value"] is None and cards["Cid"]["days_in_stage"] == 1


def test_limit_caps_cards_and_counts_the_rest(pipeline, ok):
    discovery = board_json(ok, "--limit", "2")["columns"][0]
    assert [card["name"] for card in discovery["cards"]] == ["Ann", "Ben"]
    assert discovery["more"] == 1 and discovery["leads"] == 3
    assert "+1 more" in ok("board", "--limit", "2").stdout


@pytest.mark.parametrize("option", [["--owner", "SAM"], ["--tag", "enterprise"]])
def test_filters(pipeline, ok, option):
    data = board_json(ok, *option)
    names = [card["name"] for column in data["columns"] for card in column["cards"]]
    assert names == ["Ann", "Dot"]
    assert data["total"] == {"leads": 2, "value": 32000.0}


def test_wide_terminal_draws_columns(pipeline, ok, terminal):
    terminal(120)
    out = ok("board").stdout
    header = next(line for line in out.splitlines() if "Discovery" in line)
    assert "Qualification" in header and "Contact" in header and "Proposal" in header
    assert "Ben !~" in out and "Ann" in out
    assert all(len(line) <= 120 for line in out.splitlines())


def test_narrow_terminal_gets_the_compact_form(pipeline, ok, terminal):
    terminal(60)
    out = ok("board").stdout
    lines = out.splitlines()
    assert all(len(line) <= 60 for line in lines)
    for stage in ("Discovery", "Qualification", "Contact", "Proposal"):
        assert sum(line.startswith(stage) for line in lines) == 1
    assert "Top leads" in out


def test_many_stages_get_the_compact_form(pipeline, ok, terminal):
    terminal(100)
    ok("stages", "add", "Negotiation")
    ok("stages", "add", "Contract")
    out = ok("board").stdout
    assert "Top leads" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_user_text_is_printed_as_written(ok, new_lead, terminal):
    new_lead("[bold]Boss", "--company", "[red]Co", "--value", "1k")
    for width in (120, 60):
        terminal(width)
        out = ok("board").stdout
        assert "[bold]Boss" in out
    terminal(120)
    assert "[red]Co" in ok("board").stdout


def test_csv_and_jsonl(pipeline, ok):
    lines = ok("board", "--format", "csv").stdout.splitlines()
    assert lines[0] == "stage,id,name,company,value,score,days_in_stage,owner,stalled,nurture"
    assert lines[1].startswith("Discovery,") and len(lines) == 6
    (line,) = ok("board", "--format", "jsonl").stdout.splitlines()  # the board, on one line
    assert [column["stage"] for column in json.loads(line)["columns"]] == [
        "Discovery",
        "Qualification",
        "Contact",
        "Proposal",
    ]


def test_empty_board(ok):
    assert "No open leads match." in ok("board").stdout
    assert board_json(ok)["total"] == {"leads": 0, "value": 0.0}


def test_bad_limit_is_a_usage_error(pipeline, cli, snapshot):
    before = snapshot()
    result = cli("board", "--limit", "0")
    assert result.exit_code == 2
    assert "--limit" in result.stderr
    assert snapshot() == before


def test_core_refuses_a_bad_limit(session):
    from datetime import datetime

    from pipectl.errors import UsageError

    with pytest.raises(UsageError):
        build_board(session, datetime(2026, 11, 23, 9), BoardFilter(limit=0))
