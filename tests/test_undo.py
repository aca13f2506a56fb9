"""`pipectl undo` gives back the pipeline as it was, refuses to lose later work, and `history` lists it (issue 18)."""

import hashlib
import json
import shlex
import sqlite3
from pathlib import Path

import pytest

DEMO = Path(__file__).parent.parent / "src" / "pipectl" / "data" / "demo.jsonl"
PIPELINE_TABLES = ("stages", "leads", "lead_tags", "lead_fields", "activities", "settings")
KEYS = {"lead_tags": "1, 2", "lead_fields": "1, 2"} | {
    table: "1" for table in ("stages", "leads", "activities", "settings")
}
IMPORT_CSV = "name,company,email,tags\nZed Shaw,Learn Co,zed@example.com,new\nNew Person,Acme,new@example.com,\n"

LATER = "2026-12-20T09:00:00"  # four weeks on: scores have decayed, archives are old enough to purge
# name: (steps before the pipeline is taken as "before", the command undone[, PIPECTL_NOW after the steps])
CASES = {
    "add": (
        [],
        ["add", "Zed Shaw", "--email", "zed@example.com", "-t", "new", "--field", "region=EU", "--value", "5k"],
    ),
    "edit": ([], ["edit", "3", "--title", "CFO", "-t", "hot", "--untag", "smb", "--field", "region=EU"]),
    "move": ([], ["move", "1", "Proposal", "--force"]),
    "won": ([], ["won", "3"]),
    "lost": ([], ["lost", "3", "--reason", "price"]),
    "reopen": ([], ["reopen", "8"]),
    "log": ([], ["log", "3", "call", "--note", "Budget confirmed"]),
    "qualify": ([], ["qualify", "3", "--budget", "yes", "--authority", "no", "--need", "yes", "--timeline", "no"]),
    "plan": ([], ["plan", "5", "Send the deck", "--due", "2026-12-01"]),
    "done": ([], ["done", "3", "--next", "Call back", "--due", "2026-12-02"]),
    "score": ([], ["score"], LATER),
    "score --apply": ([["stages", "set", "Proposal", "--min-score", "20"]], ["score", "--apply"]),
    "clean": ([], ["clean", "--yes"]),
    "clean --purge": ([["clean", "--yes"]], ["clean", "--purge", "--older-than", "7d", "--yes"], LATER),
    "restore": ([["clean", "--yes"]], ["restore", "7"]),
    "import": ([], ["import", "new.csv"]),
    "merge": ([], ["merge", "1", "2"]),
    "merge --prefer other": ([], ["merge", "3", "4", "--prefer", "other"]),
    "rules load": ([], ["rules", "load", "rules.toml"]),
    "stages add": ([], ["stages", "add", "Negotiation"]),
    "stages remove": ([], ["stages", "remove", "Contact", "--to", "Proposal"]),
    "stages rename": ([], ["stages", "rename", "Contact", "Meeting"]),
    "stages move": ([], ["stages", "move", "Proposal", "1"]),
    "stages set": ([], ["stages", "set", "Contact", "--probability", "40", "--require-bant"]),
}


@pytest.fixture
def demo_files(tmp_path):
    """The files some commands read: leads to import, and the demo's rules with another threshold."""
    (tmp_path / "new.csv").write_text(IMPORT_CSV, encoding="utf-8")
    rules = (Path(__file__).parent / "snapshots" / "undo_rules.toml").read_text(encoding="utf-8")
    (tmp_path / "rules.toml").write_text(rules, encoding="utf-8")
    return tmp_path


@pytest.fixture
def demo(ok, demo_files):
    """The demo pipeline (40 leads, 316 activities), and the files some commands read."""
    ok("import", DEMO)
    return demo_files


def everything(ok) -> str:
    return ok("export", "--what", "all").stdout


def rows(db_path: Path) -> dict:
    """Every row of the pipeline's tables, in key order: a comparison stricter than the export."""
    connection = sqlite3.connect(db_path)
    try:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in PIPELINE_TABLES
        }
    finally:
        connection.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_undo_gives_back_the_pipeline_as_it_was(ok, demo, db_path, monkeypatch, case):
    setup, command, *now = case
    for step in setup:
        ok(*step)
    if now:
        monkeypatch.setenv("PIPECTL_NOW", now[0])
    before, stored = everything(ok), rows(db_path)
    ok(*command)
    assert rows(db_path) != stored, "the command under test changed nothing"

    # The dry run says what it would reverse and changes nothing at all.
    ok("list")  # settle the WAL, so the file's bytes mean the pipeline's
    untouched = digest(db_path)
    dry = ok("undo", "--dry-run")
    assert dry.stderr.startswith("Would undo #") and digest(db_path) == untouched

    undone = ok("undo")
    assert undone.stderr.startswith("Undid #")
    assert f"`{shlex.join(['pipectl', *command])}`" in undone.stderr
    assert everything(ok) == before
    assert rows(db_path) == stored


@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
def test_undo_reverses_commands_latest_first_then_says_there_is_nothing_left(ok, cli, new_lead, db_path):
    empty = rows(db_path) if db_path.exists() else None
    lead = new_lead("Ada Lovelace", "--email", "ada@example.com")
    after_add = everything(ok)
    ok("edit", str(lead), "--title", "CTO")
    ok("log", str(lead), "call")
    assert "`pipectl log 1 call`" in ok("undo").stderr
    assert "`pipectl edit 1 --title CTO`" in ok("undo").stderr
    assert everything(ok) == after_add
    assert "`pipectl add" in ok("undo").stderr
    assert json.loads(ok("list", "--status", "all", "-f", "json").stdout) == []
    assert empty is None or rows(db_path)["leads"] == empty["leads"]
    nothing = cli("undo")
    assert nothing.exit_code == 1
    assert nothing.stderr.startswith("Error: Nothing to undo") and nothing.stderr.count("\n") == 1


@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
def test_undo_refuses_after_someone_else_changed_a_row_it_would_put_back(ok, cli, new_lead, db_path, monkeypatch):
    lead = new_lead("Ada Lovelace")
    monkeypatch.setenv("PIPECTL_USER", "alice")
    ok("edit", str(lead), "--title", "CTO")
    monkeypatch.setenv("PIPECTL_USER", "bob")
    ok("edit", str(lead), "--title", "CEO")
    monkeypatch.setenv("PIPECTL_USER", "alice")
    stored = rows(db_path)
    refused = cli("undo")
    assert refused.exit_code == 1
    assert "Cannot undo" in refused.stderr and "lead #1 Ada Lovelace changed since" in refused.stderr
    assert "bob" in refused.stderr and "`pipectl edit 1 --title CEO`" in refused.stderr
    assert rows(db_path) == stored
    # Bob undoes his edit; then Alice's undo goes through and the title is gone.
    monkeypatch.setenv("PIPECTL_USER", "bob")
    ok("undo")
    monkeypatch.setenv("PIPECTL_USER", "alice")
    ok("undo")
    assert json.loads(ok("show", str(lead), "-f", "json").stdout)["title"] is None


@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
def test_undo_refuses_to_remove_imported_leads_someone_has_worked_on_since(ok, cli, demo, db_path, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "alice")
    ok("import", "new.csv")
    monkeypatch.setenv("PIPECTL_USER", "bob")
    ok("log", "41", "call", "--note", "Interested")
    monkeypatch.setenv("PIPECTL_USER", "alice")
    stored = rows(db_path)
    refused = cli("undo")
    assert refused.exit_code == 1 and "lead #41 Zed Shaw" in refused.stderr
    assert rows(db_path) == stored


@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
def test_undo_refuses_when_a_row_was_changed_outside_pipectl(ok, cli, new_lead, db_path):
    lead = new_lead("Ada Lovelace")
    ok("edit", str(lead), "--title", "CTO")
    ok("edit", str(lead), "-t", "vip")
    connection = sqlite3.connect(db_path)
    connection.execute("DELETE FROM lead_tags")
    connection.commit()
    connection.close()
    refused = cli("undo")
    assert refused.exit_code == 1 and "lead #1 Ada Lovelace changed since (outside pipectl)" in refused.stderr


def test_history_lists_undoable_commands_with_who_and_when(ok, new_lead, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "alice")
    new_lead("Ada Lovelace")
    monkeypatch.setenv("PIPECTL_USER", "bob")
    ok("edit", "1", "--title", "CTO")
    ok("list")  # a read is no command of the journal's
    listed = json.loads(ok("history", "-f", "json").stdout)
    assert [(row["id"], row["actor"], row["command"], row["leads"]) for row in listed] == [
        (2, "bob", "pipectl edit 1 --title CTO", 1),
        (1, "alice", "pipectl add 'Ada Lovelace'", 1),
    ]
    assert listed[0]["at"] == "2026-11-23 09:00"
    table = ok("history").stdout
    assert "bob" in table and "pipectl edit 1 --title CTO" in table
    ok("undo")  # bob's
    assert [row["id"] for row in json.loads(ok("history", "-f", "json").stdout)] == [1]


def test_a_command_that_changes_nothing_is_not_in_the_history(ok, cli, new_lead):
    new_lead("Ada Lovelace")
    assert cli("edit", "1", "--email", "not an email").exit_code != 0
    ok("score")  # scores already current: nothing to write
    assert len(json.loads(ok("history", "-f", "json").stdout)) == 1


def test_the_journal_keeps_the_latest_commands_it_is_told_to(ok, new_lead):
    ok("history", "--keep", "3")
    for name in ("A", "B", "C", "D", "E"):
        new_lead(f"Lead {name}")
    assert len(json.loads(ok("history", "-f", "json").stdout)) == 3
    assert "keeps the latest 3 commands, none older than 30 days" in ok("history", "--keep-days", "30").stderr


def test_the_journal_forgets_commands_older_than_its_days(ok, new_lead, monkeypatch):
    new_lead("Old")
    monkeypatch.setenv("PIPECTL_NOW", "2027-01-23T09:00:00")  # two months later
    new_lead("New")
    assert [row["command"] for row in json.loads(ok("history", "-f", "json").stdout)] == ["pipectl add New"]


@pytest.mark.parametrize(
    "args",
    [
        ["undo", "42"],
        ["undo", "-f", "csv"],
        ["history", "--limit", "-1"],
        ["history", "--keep", "0"],
        ["history", "--keep-days", "x"],
    ],
)
@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
def test_bad_usage_is_one_line_and_changes_nothing(cli, new_lead, db_path, args):
    new_lead("Ada Lovelace")
    stored = rows(db_path)
    result = cli(*args)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert rows(db_path) == stored


def test_undo_with_no_pipeline_creates_nothing(cli, tmp_path):
    missing = tmp_path / "nowhere.db"
    result = cli("--db", missing, "undo")
    assert result.exit_code == 1 and not missing.exists()


@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
def test_db_check_reports_a_missing_journal_trigger(ok, cli, new_lead, db_path):
    new_lead("Ada Lovelace")
    assert json.loads(ok("db", "check", "-f", "json").stdout)["ok"]
    connection = sqlite3.connect(db_path)
    connection.execute("DROP TRIGGER journal_leads_update")
    connection.commit()
    connection.close()
    report = cli("db", "check", "-f", "json")
    assert report.exit_code == 1
    assert any("journal_leads_update is missing" in problem for problem in json.loads(report.stdout)["problems"])


@pytest.mark.sqlite_only("reads the SQLite file itself; the *_on_postgresql tests cover PostgreSQL")
def test_an_upgraded_database_journals_and_undoes(ok, tmp_path):
    from pipectl.storage.engine import Database, make_engine
    from pipectl.storage.schema import upgrade

    old = tmp_path / "old.db"
    database = Database(str(old), make_engine(str(old)))
    upgrade(database, "0004")
    database.close()
    # A lead written by a pipectl before the journal, straight into its tables.
    connection = sqlite3.connect(old)
    connection.execute(
        "INSERT INTO stages (id, name, position, probability, idle_days, actions, requires_bant, removed) "
        "VALUES (1, 'Discovery', 1, 10, 14, '[]', 0, 0), (2, 'Won over', 2, 50, 14, '[]', 0, 0)"
    )
    connection.execute(
        "INSERT INTO leads (id, name, stage_id, status, score, created_at, updated_at, stage_entered_at, "
        "last_activity_at, budget, authority, need, timeline) "
        "VALUES (1, 'Ada', 1, 'open', 0, 1795424400, 1795424400, 1795424400, 1795424400, "
        "'unknown', 'unknown', 'unknown', 'unknown')"
    )
    connection.commit()
    connection.close()
    before = ok("--db", old, "export", "--what", "all").stdout
    ok("--db", old, "edit", "1", "--title", "CTO")
    ok("--db", old, "undo")
    assert ok("--db", old, "export", "--what", "all").stdout == before


@pytest.fixture
def postgres(request):
    """A new, empty PostgreSQL database's URL on the test server, dropped after the test."""
    from backends import SERVER_DATABASES, SERVER_ENV

    if SERVER_DATABASES is None:
        pytest.skip(f"set {SERVER_ENV} to run against PostgreSQL")
    database = SERVER_DATABASES.create()
    request.addfinalizer(lambda: SERVER_DATABASES.drop(database))
    return SERVER_DATABASES.url_of(database)


def server_rows(url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                # By key: a json column (settings) has no ordering operator on PostgreSQL.
                table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY {KEYS[table]}"))]
                for table in PIPELINE_TABLES
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_undo_gives_back_the_pipeline_on_postgresql(ok, demo_files, postgres, monkeypatch, case):
    setup, command, *now = case
    ok("--db", postgres, "import", DEMO)
    for step in setup:
        ok("--db", postgres, *step)
    if now:
        monkeypatch.setenv("PIPECTL_NOW", now[0])
    before, stored = ok("--db", postgres, "export", "--what", "all").stdout, server_rows(postgres)
    ok("--db", postgres, *command)
    assert server_rows(postgres) != stored, "the command under test changed nothing"
    ok("--db", postgres, "undo", "--dry-run")
    ok("--db", postgres, "undo")
    assert ok("--db", postgres, "export", "--what", "all").stdout == before
    assert server_rows(postgres) == stored
    assert json.loads(ok("--db", postgres, "db", "check", "-f", "json").stdout)["ok"]


def test_undo_refuses_a_conflicting_write_on_postgresql(ok, cli, postgres, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "alice")
    ok("--db", postgres, "add", "Ada Lovelace")
    ok("--db", postgres, "edit", "1", "--title", "CTO")
    monkeypatch.setenv("PIPECTL_USER", "bob")
    ok("--db", postgres, "edit", "1", "--title", "CEO")
    monkeypatch.setenv("PIPECTL_USER", "alice")
    refused = cli("--db", postgres, "undo")
    assert refused.exit_code == 1 and "lead #1 Ada Lovelace changed since (by #3" in refused.stderr


def test_the_journal_never_keeps_a_database_password():
    from pipectl.cli.runtime import note_args, typed_args

    note_args(["--db", "postgresql+psycopg://pipe:secret@db.example/pipectl", "add", "Ada"])
    assert typed_args == ["--db", "postgresql+psycopg://pipe:***@db.example/pipectl", "add", "Ada"]
    note_args(["--db=postgresql://pipe:secret@db.example/pipectl", "list"])
    assert "secret" not in " ".join(typed_args)
