"""`pipectl duplicates` and `pipectl merge`: pairs with their reasons; one lead out of two, nothing lost."""

import hashlib
import json

import pytest


def as_json(ok, *args):
    return json.loads(ok(*args, "-f", "json").stdout)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def twins(ok):
    """#1 and #2 are one person, typed twice; #3 shares #2's phone; #4 and #5 differ by accents and case."""
    ok(
        "add",
        "Ada Lovelace",
        "--company",
        "Analytical",
        "--email",
        "ada@example.com",
        "--phone",
        "+44 20 7946 0000",
        "--tag",
        "vip",
        "--field",
        "city=London",
        "--value",
        "10k",
    )
    ok(
        "add",
        "ADA LOVELACE",
        "--company",
        "analytical",
        "--email",
        "ada.l@example.com",
        "--phone",
        "020-7946-0001",
        "--title",
        "Countess",
        "--tag",
        "warm",
        "--tag",
        "vip",
        "--field",
        "city=Paris",
        "--field",
        "dept=Maths",
        "--value",
        "12k",
        "--force",
    )
    ok("add", "Bob Babbage", "--phone", "(020) 7946 0001", "--email", "ADA.L@example.com", "--force")
    ok("add", "Édith Piaf", "--company", "Société")
    ok("add", "edith  piaf", "--company", "SOCIETE", "--force")
    ok("log", "2", "call", "--note", "said month-end close takes 9 days")
    ok("log", "2", "email", "--note", "sent the deck")
    ok("qualify", "2", "--budget", "yes: 40k", "--need", "yes")
    ok("qualify", "1", "--need", "no")
    ok("plan", "1", "Call back", "--due", "friday")
    ok("plan", "2", "Send contract", "--due", "monday")


def test_duplicates_lists_pairs_with_their_reasons(ok, twins):
    pairs = as_json(ok, "duplicates")
    found = {(pair["id"], pair["duplicate_id"]): pair["reasons"] for pair in pairs}
    assert found == {
        (1, 2): ["same name at the same company"],
        (2, 3): ["same email", "same phone"],
        (4, 5): ["same name at the same company"],
    }
    assert pairs[0]["name"] == "Ada Lovelace" and pairs[0]["duplicate_name"] == "ADA LOVELACE"
    table = ok("duplicates").stdout
    assert "same phone" in table and "3 pair(s)" in table


def test_no_duplicates_says_so(ok):
    ok("add", "Solo")
    assert as_json(ok, "duplicates") == []
    assert "No likely duplicates" in ok("duplicates").stdout


def test_merge_moves_everything_and_the_kept_lead_wins_conflicts(ok, twins):
    before = as_json(ok, "show", "2")
    moved = {activity["id"] for activity in before["activities"]}
    result = as_json(ok, "merge", "1", "2")
    conflicts = {conflict["field"]: conflict for conflict in result["conflicts"]}
    assert set(conflicts) == {"email", "phone", "value", "need", "field:city", "next_action"}
    assert all(conflict["chosen"] == "kept" for conflict in conflicts.values())
    assert set(result["changes"]) == {"title", "budget", "field:dept"}
    kept = as_json(ok, "show", "1")
    assert (
        kept["email"] == "ada@example.com"
        and kept["value"] == 10000
        and kept["fields"]
        == {
            "city": "London",
            "dept": "Maths",
        }
    )
    assert kept["title"] == "Countess"
    assert kept["tags"] == ["vip", "warm"]
    assert kept["bant"]["budget"] == {"status": "yes", "note": "40k"}
    assert kept["bant"]["need"]["status"] == "no"
    assert kept["next_action"] == "Call back"
    assert moved <= {activity["id"] for activity in kept["activities"]}
    merges = [activity for activity in kept["activities"] if activity["kind"] == "merged"]
    assert len(merges) == 1 and merges[0]["data"]["merged"] == {"id": 2, "name": "ADA LOVELACE"}
    other = as_json(ok, "show", "2")
    assert other["status"] == "archived" and other["archived_reason"] == "merged into #1"
    assert other["activities"] == [] and other["tags"] == [] and other["fields"] == {}
    assert "Merged into" in ok("show", "2").stdout and "pipectl show 1" in ok("show", "2").stdout
    # The score is the one the rules give the merged lead now.
    assert result["result"]["score"] == kept["score"] == as_json(ok, "score", "1")["score"]
    assert ok("db", "check").stdout.startswith("ok:")
    assert {pair["duplicate_id"] for pair in as_json(ok, "duplicates")} == {5}
    # Search finds the kept lead by what it took; the merged one by its own name only.
    assert [hit["id"] for hit in as_json(ok, "search", "month", "end")] == [1]
    assert [hit["id"] for hit in as_json(ok, "search", "maths")] == [1]


def test_prefer_other_takes_the_other_leads_values(ok, twins):
    result = as_json(ok, "merge", "1", "2", "--prefer", "other")
    assert all(conflict["chosen"] == "other" for conflict in result["conflicts"])
    kept = as_json(ok, "show", "1")
    assert kept["email"] == "ada.l@example.com" and kept["value"] == 12000
    assert kept["fields"]["city"] == "Paris" and kept["bant"]["need"]["status"] == "yes"
    assert kept["next_action"] == "Send contract"
    closed = [activity for activity in kept["activities"] if activity["note"] == "Call back"]
    assert closed[0]["done"] and closed[0]["data"]["closed"]["by"] == "merged"


@pytest.mark.sqlite_only("compares the SQLite file's bytes (tests/test_postgres.py runs the dry run there)")
def test_the_dry_run_lists_conflicts_and_changes_nothing(ok, db_path, twins):
    before = digest(db_path)
    plan = as_json(ok, "merge", "1", "2", "--dry-run")
    assert plan["dry_run"] is True and "result" not in plan
    assert {conflict["field"] for conflict in plan["conflicts"]} >= {"email", "next_action"}
    table = ok("merge", "1", "2", "--dry-run")
    assert "Would merge #2 ADA LOVELACE into #1 Ada Lovelace" in table.stdout
    assert "Conflicts" in table.stdout and "Dry run: nothing was changed." in table.stderr
    assert digest(db_path) == before
    assert as_json(ok, "show", "2")["status"] == "open"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["1", "1"], 2, "two different leads"),
        (["1", "99"], 1, "There is no lead #99"),
        (["1", "2", "--prefer", "mine"], 2, "--prefer is kept or other"),
        (["1", "2", "--format", "csv"], 2, "--format csv"),
    ],
)
def test_bad_merges_are_refused_and_change_nothing(cli, snapshot, twins, args, code, says):
    before = snapshot()
    result = cli("merge", *args)
    assert result.exit_code == code and says in result.stderr
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert snapshot() == before


def test_a_merged_lead_cannot_be_merged_or_restored_again(ok, cli, snapshot, twins):
    ok("merge", "1", "2")
    before = snapshot()
    again = cli("merge", "3", "2")
    assert again.exit_code == 1 and "already merged into #1" in again.stderr
    into = cli("merge", "2", "3")
    assert into.exit_code == 1 and "already merged into #1" in into.stderr
    restored = cli("restore", "2")
    assert restored.exit_code == 1 and "was merged into #1" in restored.stderr
    assert snapshot() == before


@pytest.mark.sqlite_only("archives a lead in the SQLite file by hand")
def test_an_archived_lead_must_be_restored_before_a_merge(ok, cli, db_path, twins):
    import sqlite3

    connection = sqlite3.connect(db_path)
    connection.execute("UPDATE leads SET status = 'archived', archived_reason = 'idle' WHERE id = 5")
    connection.commit()
    connection.close()
    refused = cli("merge", "4", "5")
    assert refused.exit_code == 1 and "restore it first" in refused.stderr


def test_merging_into_a_won_lead_closes_the_other_leads_next_action(ok, twins):
    ok("won", "4")
    ok("plan", "5", "Chase", "--due", "friday")
    result = as_json(ok, "merge", "4", "5")
    assert "next_action" not in result["changes"]
    kept = as_json(ok, "show", "4")
    assert kept["status"] == "won" and kept["next_action"] is None


def test_imported_leads_are_compared_by_their_keys_too(ok, tmp_path):
    source = tmp_path / "leads.csv"
    source.write_text(
        "name,company,phone\nZoë Keating,Cellist Co,+1 (415) 555-0101\nJane Doe,Other,1.415.555.0101\n"
        "ZOE KEATING,cellist co,\n",
        encoding="utf-8",
    )
    ok("import", source)
    found = {(pair["id"], pair["duplicate_id"]): pair["reasons"] for pair in as_json(ok, "duplicates")}
    assert found == {(1, 2): ["same phone"], (1, 3): ["same name at the same company"]}
