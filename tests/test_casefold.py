"""One way to compare case: folded keys, so accented and non-Latin names match on every backend."""

import json

import pytest

from backends import execute, query
from pipectl.folding import fold
from pipectl.storage.engine import Database, make_engine
from pipectl.storage.schema import open_database, upgrade

# (as added, as typed later): the same text to a person, different bytes to lower() in SQLite.
SAME = [("Élan", "ÉLAN"), ("Straße", "STRASSE"), ("Ωμέγα", "ΩΜΈΓΑ"), ("李", "李"), ("Élan", "E\u0301LAN")]


def test_fold_is_casefold_on_canonical_text():
    assert fold("ÉLAN") == fold("élan") == "élan"
    assert fold("STRASSE") == fold("Straße") == "strasse"
    assert fold("ΟΔΟΣ") == fold("οδος")  # final sigma
    assert fold("E\u0301lan") == fold("Élan")  # a combining accent matches the precomposed letter
    assert fold(None) is None
    assert fold("Elan") != fold("Élan")  # accents are not case: they still tell names apart


@pytest.mark.parametrize("added, typed", SAME)
def test_add_refuses_a_duplicate_whatever_its_case(cli, ok, snapshot, added, typed):
    ok("add", added, "--company", "Acme")
    before = snapshot()
    again = cli("add", typed, "--company", "ACME")
    assert again.exit_code == 1, again.output
    assert again.stderr.startswith("Error: This looks like a lead already in the pipeline: #1")
    assert snapshot() == before
    ok("add", typed, "--company", "ACME", "--force")  # still possible on purpose


@pytest.mark.parametrize("added, typed", SAME)
def test_show_finds_a_lead_by_name_or_email_in_any_case(ok, added, typed):
    ok("add", added, "--email", f"{added}@example.com")
    assert json.loads(ok("show", typed, "-f", "json").stdout)["name"] == added
    assert json.loads(ok("show", f"{typed}@EXAMPLE.COM", "-f", "json").stdout)["name"] == added


def test_edit_keeps_the_keys_current(ok, cli):
    ok("add", "Élan", "--company", "Acme")
    ok("edit", "1", "--name", "Ωμέγα", "--company", "Straße")
    assert cli("show", "élan").exit_code == 1
    assert json.loads(ok("show", "ΩΜΈΓΑ", "-f", "json").stdout)["id"] == 1
    refused = cli("add", "ωμέγα", "--company", "STRASSE")
    assert refused.exit_code == 1 and "#1 Ωμέγα (Straße)" in refused.stderr


def test_list_filters_owner_and_source_by_folded_keys(ok):
    ok("add", "A", "--owner", "Ágata", "--source", "Messe Straße")
    ok("add", "B", "--owner", "agata", "--source", "web")
    ok("add", "C", "--owner", "ΣΟΦΙΑ")

    def ids(*options):
        return [row["id"] for row in json.loads(ok("list", *options, "-f", "json").stdout)]

    assert ids("--owner", "ÁGATA") == [1]
    assert ids("--source", "messe strasse") == [1]
    assert ids("--owner", "σοφια") == [3]
    assert ids("--owner", "Agata") == [2]


def test_sort_by_name_ignores_case(ok):
    for name in ("élan", "Zed", "ÉMILE", "alpha"):
        ok("add", name)
    rows = json.loads(ok("list", "--sort", "name", "-f", "json").stdout)
    assert [row["name"] for row in rows] == ["alpha", "Zed", "élan", "ÉMILE"]


def test_metrics_and_board_owner_filters_fold(ok):
    ok("add", "A", "--owner", "Ágata", "--value", "1000")
    ok("add", "B", "--owner", "bob", "--value", "50")
    board = json.loads(ok("board", "--owner", "ÁGATA", "-f", "json").stdout)
    assert [card["name"] for column in board["columns"] for card in column["cards"]] == ["A"]
    assert json.loads(ok("metrics", "--owner", "ágata", "-f", "json").stdout)["open"]["leads"] == 1


def test_import_finds_duplicates_in_the_file_and_the_pipeline(ok, cli, tmp_path, snapshot):
    ok("add", "Straße", "--company", "Ωμέγα")
    file = tmp_path / "leads.csv"
    file.write_text(
        "name,company,email\nÉlan,Acme,\nSTRASSE,ΩΜΈΓΑ,\nÉLAN,ACME,\n李,,LI@example.com\nX,,li@EXAMPLE.com\n",
        encoding="utf-8",
    )
    before = snapshot()
    refused = cli("import", file)
    assert refused.exit_code == 1
    assert "row 3: same name and company as lead #1" in refused.stderr
    assert "row 4: same name and company as row 2" in refused.stderr
    assert "row 6: same email as row 5" in refused.stderr
    assert snapshot() == before
    ok("import", file, "--on-duplicate", "skip")
    names = [row["name"] for row in json.loads(ok("list", "-f", "json").stdout)]
    assert names == ["Straße", "Élan", "李"]


def test_import_activities_find_their_lead_by_folded_email(ok, tmp_path):
    ok("add", "Straße", "--email", "straße@example.com")
    file = tmp_path / "activities.csv"
    file.write_text("lead_email,kind,at\nSTRASSE@EXAMPLE.COM,call,2026-11-20\n", encoding="utf-8")
    ok("import", file, "--what", "activities")
    kinds = [activity["kind"] for activity in json.loads(ok("show", "1", "-f", "json").stdout)["activities"]]
    assert sorted(kinds) == ["call", "created"]


def test_import_into_an_empty_pipeline_sees_folded_duplicates(cli, tmp_path):
    # The empty-pipeline path remembers hashes of the keys it inserted: they must fold as SQL compares.
    file = tmp_path / "leads.csv"
    file.write_text(
        "name,company\nΩμέγα,Straße\n" + "".join(f"L{n},C{n}\n" for n in range(5)) + "ΩΜΈΓΑ,STRASSE\n", encoding="utf-8"
    )
    refused = cli("import", file)
    assert refused.exit_code == 1 and "row 8: same name and company as row 2" in refused.stderr


def test_stage_names_compare_by_folded_keys(ok, cli):
    ok("stages", "rename", "Contact", "Straße")
    ok("add", "Ada")
    ok("move", "1", "STRASSE")
    assert json.loads(ok("show", "1", "-f", "json").stdout)["stage"] == "Straße"
    clash = cli("stages", "add", "strasse")
    assert clash.exit_code == 1 and "already a stage" in clash.stderr
    renamed = cli("stages", "rename", "Proposal", "STRASSE")
    assert renamed.exit_code == 1 and "already a stage" in renamed.stderr


@pytest.mark.real_migrations
def test_an_upgraded_database_gets_its_keys_filled(another_database, ok, cli):
    """A pipeline from schema 0001, with leads in it, opened by this pipectl: keys filled, lookups work."""
    path = another_database("old")
    database = Database(path, make_engine(path))
    upgrade(database, "0001")
    database.close()
    leads = [("Élan", "Acme", "Elan@Example.com", "Ágata", "Messe"), ("Straße", "Ωμέγα", None, None, None)]
    leads += [(f"Lead {n}", None, None, None, None) for n in range(7000)]  # more than one batch
    execute(
        path,
        "INSERT INTO stages (id, name, position, probability, idle_days, actions, requires_bant, "
        "removed) VALUES (1, 'Discovery', 1, 10, 14, '[]', false, false), "
        "(2, 'Proposal', 2, 50, 14, '[]', false, false)",
    )
    execute(
        path,
        "INSERT INTO leads (name, company, email, owner, source, stage_id, status, score, created_at, updated_at, "
        "stage_entered_at, last_activity_at, budget, authority, need, timeline) "
        "VALUES (:name, :company, :email, :owner, :source, 1, 'open', 0, 0, 0, 0, 0, "
        "'unknown', 'unknown', 'unknown', 'unknown')",
        parameters=[dict(zip(("name", "company", "email", "owner", "source"), lead, strict=True)) for lead in leads],
    )

    open_database(path).close()
    keys = query(path, "SELECT name_key, company_key, email_key, owner_key, source_key FROM leads ORDER BY id LIMIT 2")
    [(unfilled,)] = query(path, "SELECT count(*) FROM leads WHERE name_key IS NULL")
    [(last,)] = query(path, "SELECT name_key FROM leads ORDER BY id DESC LIMIT 1")
    assert keys == [("élan", "acme", "elan@example.com", "ágata", "messe"), ("strasse", "ωμέγα", None, None, None)]
    assert unfilled == 0 and last == "lead 6999"
    assert json.loads(ok("--db", path, "show", "ÉLAN", "-f", "json").stdout)["id"] == 1
    refused = cli("--db", path, "add", "STRASSE", "--company", "ΩΜΈΓΑ")
    assert refused.exit_code == 1 and "#2 Straße" in refused.stderr
    assert [row["id"] for row in json.loads(ok("--db", path, "list", "--owner", "ÁGATA", "-f", "json").stdout)] == [1]
