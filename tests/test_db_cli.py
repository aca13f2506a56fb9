"""`db path`, `db upgrade`, `db check`, `db backup`."""

import json
import sqlite3
import stat

import pytest

from pipectl.storage.schema import SCHEMA_REVISION


@pytest.mark.sqlite_only("the default file's path")
def test_path_honours_the_option_and_the_environment(ok, tmp_path, monkeypatch):
    assert ok("db", "path").stdout.strip() == str(tmp_path / "pipeline.db")
    assert ok("--db", tmp_path / "other.db", "db", "path").stdout.strip() == str(tmp_path / "other.db")
    monkeypatch.setenv("PIPECTL_DB", str(tmp_path / "env.db"))
    assert ok("db", "path").stdout.strip() == str(tmp_path / "env.db")
    monkeypatch.delenv("PIPECTL_DB")
    assert ok("db", "path").stdout.strip().endswith("pipeline.db")


def test_path_hides_a_server_password(ok):
    shown = ok("--db", "postgresql+psycopg://sam:secret@db.example/pipe", "db", "path").stdout
    assert "secret" not in shown and "sam:***@db.example/pipe" in shown


def test_upgrade_and_check_report_the_schema(ok, new_lead):
    new_lead("Ada")
    assert f"schema {SCHEMA_REVISION}" in ok("db", "upgrade").stderr
    report = json.loads(ok("db", "check", "-f", "json").stdout)
    assert report == {"schema": SCHEMA_REVISION, "problems": [], "stages": 4, "leads": 1, "activities": 1, "ok": True}
    assert ok("db", "check").stdout.startswith(f"ok: schema {SCHEMA_REVISION}")


@pytest.mark.sqlite_only("PostgreSQL enforces foreign keys on every connection: no broken one can be written")
def test_check_reports_broken_foreign_keys(ok, cli, new_lead, db_path):
    new_lead("Ada")
    connection = sqlite3.connect(db_path)
    connection.execute("INSERT INTO lead_tags (lead_id, tag) VALUES (999, 'ghost')")
    connection.commit()
    connection.close()
    result = cli("db", "check")
    assert result.exit_code == 1
    assert "lead_tags" in result.stdout and "Error:" in result.stderr


@pytest.mark.sqlite_only("db backup copies SQLite files (a server database is backed up with its own tools)")
def test_backup_writes_a_private_consistent_copy(ok, cli, new_lead, tmp_path):
    new_lead("Ada")
    copy = tmp_path / "backup.db"
    ok("db", "backup", copy)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert json.loads(ok("--db", copy, "list", "-f", "json").stdout)[0]["name"] == "Ada"
    again = cli("db", "backup", copy)
    assert again.exit_code == 1 and "--force" in again.stderr
    ok("db", "backup", copy, "--force")
    itself = cli("db", "backup", tmp_path / "pipeline.db")
    assert itself.exit_code == 2 and "cannot overwrite the database itself" in itself.stderr
    nowhere = cli("db", "backup", tmp_path / "missing" / "b.db")
    assert nowhere.exit_code == 2 and "is not a folder" in nowhere.stderr
