"""`pipectl score`: one lead, --explain, the ranking, --apply [--dry-run], and nurture marks in `list`."""

import json

import pytest

RULES = """
[thresholds]
nurture_below = 30
mql = 50
sql = 75

[[scoring.demographic]]
name = "Head of"
field = "title"
glob = "Head of*"
points = 40

[[scoring.demographic]]
name = "Competitor"
field = "email"
glob = "*@rival.example"
points = -60

[[scoring.behavioural]]
name = "Visits"
kind = "web_visit"
points = 10
cap = 30
within = "30d"
"""


@pytest.fixture
def rules(ok, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    ok("rules", "load", path)


def test_explain_json_adds_up(ok, new_lead, rules):
    lead = new_lead("Ada", "--title", "Head of Sales", "--email", "ada@rival.example")
    for _ in range(4):
        ok("log", lead, "web_visit")
    result = json.loads(ok("score", lead, "--explain", "-f", "json").stdout)
    assert result["id"] == lead and result["score"] == 10
    assert [(part["rule"], part["points"]) for part in result["breakdown"]] == [
        ("Head of", 40),
        ("Competitor", -60),
        ("Visits", 30),
    ]
    assert sum(part["points"] for part in result["breakdown"]) == result["raw"] == 10
    assert result["band"] == "nurture"


def test_explain_table_and_plain_score(ok, new_lead, rules):
    lead = new_lead("[bold]Ada", "--title", "Head of Ops")
    table = ok("score", lead, "--explain").stdout
    assert "[bold]Ada: score 40" in table and "Head of" in table and "+40" in table
    assert "Total" in table
    plain = json.loads(ok("score", lead, "-f", "json").stdout)
    assert plain == {"id": lead, "name": "[bold]Ada", "score": 40, "raw": 40, "band": ""}
    csv_lines = ok("score", lead, "--explain", "-f", "csv").stdout.splitlines()
    assert csv_lines[0] == "rule,points,detail" and csv_lines[1].startswith("Head of,40,")


def test_explain_clamped_total_is_labelled(ok, new_lead, rules):
    lead = new_lead("Rival", "--email", "x@rival.example")
    table = ok("score", lead, "--explain").stdout
    assert "-60" in table and "clamped to 0–100" in table
    assert json.loads(ok("score", lead, "-f", "json").stdout)["score"] == 0


def test_score_all_stores_and_ranks(ok, new_lead, rules, db_location):
    from backends import execute

    low = new_lead("Low")
    high = new_lead("High", "--title", "Head of IT")
    closed = new_lead("Closed", "--title", "Head of HR")
    ok("won", closed)
    execute(
        db_location,
        "UPDATE leads SET score = 99 WHERE id IN (:low, :closed)",
        parameters={"low": low, "closed": closed},
    )
    result = ok("score", "-f", "json")
    assert "Scored 2 open lead(s)." in result.stderr
    ranking = json.loads(result.stdout)
    assert [(row["id"], row["score"], row["nurture"]) for row in ranking] == [(high, 40, False), (low, 0, True)]
    assert json.loads(ok("show", closed, "-f", "json").stdout)["score"] == 99  # closed leads are left alone
    assert len(json.loads(ok("score", "--limit", "1", "-f", "json").stdout)) == 1
    assert "nurture" in ok("score").stdout


def test_list_marks_nurture_leads(ok, new_lead, rules):
    cold = new_lead("Cold")
    warm = new_lead("Warm", "--title", "Head of Sales")
    rows = {row["id"]: row for row in json.loads(ok("list", "-f", "json").stdout)}
    assert rows[cold]["nurture"] is True and rows[warm]["nurture"] is False
    table = ok("list").stdout
    cold_line = next(line for line in table.splitlines() if "Cold" in line)
    assert "~" in cold_line and "~ nurture" in table
    assert "~" not in next(line for line in table.splitlines() if "Warm" in line)
    assert "nurture" in ok("list", "-f", "csv").stdout.splitlines()[0]


def test_every_change_keeps_the_score_current(ok, new_lead, rules):
    lead = new_lead("Ada")
    ok("edit", lead, "--title", "Head of Sales")
    assert json.loads(ok("show", lead, "-f", "json").stdout)["score"] == 40
    ok("log", lead, "web_visit")
    assert json.loads(ok("show", lead, "-f", "json").stdout)["score"] == 50
    assert [row["id"] for row in json.loads(ok("list", "--min-score", "45", "-f", "json").stdout)] == [lead]


def test_apply_dry_run_then_apply(ok, new_lead, rules, snapshot):
    ok("stages", "set", "Contact", "--min-score", "40")
    ok("stages", "set", "Proposal", "--min-score", "45")  # Proposal also requires BANT
    mover = new_lead("Mover", "--title", "Head of Sales")
    new_lead("Stays")
    before = snapshot()
    dry = ok("score", "--apply", "--dry-run", "-f", "json")
    assert json.loads(dry.stdout) == [{"id": mover, "name": "Mover", "score": 40, "from": "Discovery", "to": "Contact"}]
    assert "Would move 1 lead(s)" in dry.stderr
    assert snapshot() == before
    applied = ok("score", "--apply")
    assert "Moved 1 lead(s)." in applied.stderr and "Contact" in applied.stdout
    shown = json.loads(ok("show", mover, "-f", "json").stdout)
    assert shown["stage"] == "Contact"
    change = next(activity for activity in shown["activities"] if activity["kind"] == "stage_change")
    assert change["data"] == {"automatic": True}
    assert "No lead's score" in ok("score", "--apply").stderr


def test_apply_to_one_lead(ok, new_lead, rules):
    ok("stages", "set", "Qualification", "--min-score", "30")
    first = new_lead("First", "--title", "Head of A")
    second = new_lead("Second", "--title", "Head of B")
    moved = json.loads(ok("score", first, "--apply", "-f", "json").stdout)
    assert [move["id"] for move in moved] == [first]
    assert json.loads(ok("show", second, "-f", "json").stdout)["stage"] == "Discovery"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["score", "--dry-run"], "--dry-run goes with --apply"),
        (["score", "--explain"], "--explain needs a LEAD"),
        (["score", "1", "--explain", "--apply"], "--explain and --apply"),
    ],
)
def test_bad_usage(cli, ok, snapshot, args, fragment):
    ok("add", "Ada")
    before = snapshot()
    result = cli(*args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert snapshot() == before


def test_unknown_lead_and_bad_limit(cli, ok, snapshot):
    ok("add", "Ada")
    before = snapshot()
    result = cli("score", "99", "--explain")
    assert result.exit_code == 1 and "There is no lead #99" in result.stderr
    assert cli("score", "--limit", "-1").exit_code == 2
    assert snapshot() == before
