"""`pipectl demo`: the sample pipeline in a database of its own, never mixed into the user's."""

import json
from pathlib import Path

import pytest

from backends import query


def leads_in(location: Path | str) -> int:
    """Leads in a SQLite file (the demo always is one) or in the test's database."""
    return query(str(location), "SELECT count(*) FROM leads")[0][0]


def test_demo_builds_its_own_database_and_says_how_to_open_it(ok, tmp_path, db_path):
    result = ok("demo")
    demo = tmp_path / "demo.db"
    assert result.stdout == f"{demo}\n"
    assert f"Built the demo pipeline at {demo}: 40 leads, 316 activities" in result.stderr
    assert f"Open it with: pipectl --db {demo} board" in result.stderr
    assert leads_in(demo) == 40
    assert not db_path.exists()  # the user's own pipeline was not even created
    board = ok("--db", demo, "board").stdout
    assert "Qualification" in board and "Proposal" in board


def test_the_users_pipeline_stays_apart(ok, new_lead, db_location, tmp_path):
    new_lead("My real customer")
    ok("demo")
    assert leads_in(db_location) == 1 and leads_in(tmp_path / "demo.db") == 40
    assert [row["name"] for row in json.loads(ok("list", "-f", "json").stdout)] == ["My real customer"]


def test_running_it_again_rebuilds_the_demo(ok, tmp_path):
    demo = tmp_path / "demo.db"
    ok("demo")
    ok("--db", demo, "add", "Scribble")
    ok("demo")
    assert leads_in(demo) == 40
    assert not list(tmp_path.glob(".demo.db.building*"))


def test_pipectl_db_never_receives_the_demo(ok, new_lead, db_location, tmp_path, monkeypatch):
    new_lead("My real customer")
    monkeypatch.setenv("PIPECTL_DB", db_location)
    assert ok("demo").stdout == f"{tmp_path / 'demo.db'}\n"
    assert leads_in(db_location) == 1


@pytest.mark.sqlite_only("the demo is a SQLite file: `demo --db URL` is refused as a URL (tested below)")
@pytest.mark.parametrize("where", ["option", "root"])
def test_demo_refuses_to_replace_a_real_pipeline(cli, new_lead, db_path, snapshot, where):
    new_lead("My real customer")
    before = snapshot()
    args = ("demo", "--db", db_path) if where == "option" else ("--db", db_path, "demo")
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {db_path} holds a pipeline that is not pipectl's demo; it was left "
        "untouched. Choose another path with --db."
    )
    assert snapshot() == before


def test_demo_refuses_other_files_urls_and_missing_folders(cli, tmp_path):
    other = tmp_path / "notes.db"
    other.write_text("not a database")
    assert cli("demo", "--db", other).exit_code == 1 and other.read_text() == "not a database"
    assert cli("demo", "--db", f"sqlite:///{tmp_path}/x.db").exit_code == 2
    missing = cli("demo", "--db", tmp_path / "nowhere" / "demo.db")
    assert missing.exit_code == 1 and "There is no folder" in missing.stderr
    assert not (tmp_path / "nowhere").exists()


def test_the_demo_data_ships_inside_the_package():
    from importlib import resources

    assert (resources.files("pipectl") / "data" / "demo.jsonl").is_file()
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"data/*.jsonl"' in pyproject
