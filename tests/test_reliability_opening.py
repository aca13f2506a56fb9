"""Opening a database changes nothing it should not: dry runs, foreign files, read-only files and URLs."""

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only(
    "opens SQLite files it names: dry runs on missing files, journals, read-only files, sqlite URLs"
)

ROOT = Path(__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _journal_mode(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        connection.close()


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "incoming.csv"
    source.write_text("name,email\nDry One,one@example.com\n", encoding="utf-8")
    return source


# --- a dry run never creates, converts or touches a file ---------------------------------------------

DRY_RUNS = [
    ["clean", "--dry-run"],
    ["clean", "--purge", "--older-than", "1d", "--dry-run"],
    ["score", "--apply", "--dry-run"],
    ["import", "{source}", "--dry-run"],
]


@pytest.mark.parametrize("args", DRY_RUNS, ids=lambda args: " ".join(args[:2]))
def test_a_dry_run_on_a_missing_database_creates_nothing(ok, tmp_path, args):
    db = tmp_path / "not-yet" / "pipeline.db"
    result = ok("--db", db, *[arg.format(source=_source(tmp_path)) for arg in args])
    assert "created nothing" in result.stderr
    assert not db.parent.exists()


def test_an_import_dry_run_on_a_missing_database_still_shows_the_mapping(ok, tmp_path):
    result = ok("--db", tmp_path / "none.db", "import", _source(tmp_path), "--dry-run")
    assert "Dry One" in result.stdout and "1 lead(s) would be added" in result.stderr


@pytest.mark.parametrize("args", DRY_RUNS, ids=lambda args: " ".join(args[:2]))
def test_a_dry_run_leaves_a_rollback_journal_database_as_it_is(ok, db_path, tmp_path, new_lead, args):
    new_lead("Ada")
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode = DELETE")
    connection.close()
    before = _digest(db_path)
    ok(*[arg.format(source=_source(tmp_path)) for arg in args])
    assert _journal_mode(db_path) == "delete"
    assert _digest(db_path) == before
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("pipeline.db")) == ["pipeline.db"]


# --- a foreign database is refused untouched, whatever its alembic_version says ---------------------


@pytest.mark.parametrize("revision", ["0001", "abc123", "9999"])
@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_foreign_database_with_an_alembic_version_is_left_untouched(cli, tmp_path, revision, journal):
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other, isolation_level=None)
    connection.execute(f"PRAGMA journal_mode = {journal}")
    connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    connection.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
    connection.close()
    before = _digest(other)
    for command in (["list"], ["add", "Ada"], ["db", "upgrade"], ["db", "check"], ["clean", "--dry-run"]):
        result = cli("--db", other, *command)
        assert result.exit_code == 1
        assert "is not a pipectl database" in result.stderr and "newer pipectl" not in result.stderr
    assert _digest(other) == before and _journal_mode(other) == journal
    assert not Path(f"{other}-wal").exists() or journal == "wal"


# --- read-only: ?mode=ro, and files the user may not write -------------------------------------------


def test_a_mode_ro_url_reads_and_refuses_writes(ok, cli, db_path, new_lead, tmp_path):
    new_lead("Ada")
    before = _digest(db_path)
    url = f"sqlite:///{db_path}?mode=ro"
    assert json.loads(ok("--db", url, "list", "--format", "json").stdout)[0]["name"] == "Ada"
    ok("--db", url, "export", "-o", tmp_path / "out.csv")
    for command in (["add", "Bob"], ["log", "1", "call"], ["rules", "load", "-"]):
        result = cli("--db", url, *command, input="[thresholds]\nmql = 30\n")
        assert result.exit_code == 1 and "read-only" in result.stderr, result.output
    assert _digest(db_path) == before
    result = cli("--db", f"sqlite:///{tmp_path / 'missing.db'}?mode=ro", "list")
    assert result.exit_code == 1 and not (tmp_path / "missing.db").exists()


def test_unknown_sqlite_url_options_are_refused(cli, tmp_path):
    result = cli("--db", f"sqlite:///{tmp_path / 'p.db'}?cache=shared", "list")
    assert result.exit_code == 2 and "mode=ro" in result.stderr


def test_a_file_the_user_may_not_write_is_read_without_leaving_wal_files(ok, cli, db_path, new_lead, monkeypatch):
    """What a 0400 file does for any user but root (root may write anything), simulated for root too."""
    new_lead("Ada")
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode, **kw: False if (mode & os.W_OK and Path(path) == db_path) else real_access(path, mode, **kw),
    )
    before = _digest(db_path)
    assert json.loads(ok("list", "--format", "json").stdout)[0]["name"] == "Ada"
    result = cli("add", "Bob")
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert sorted(path.name for path in db_path.parent.iterdir()) == ["pipeline.db"]
    assert _digest(db_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a 0400 file")
def test_a_0400_database_leaves_no_0400_wal_files(ok, cli, db_path, new_lead):
    new_lead("Ada")
    db_path.chmod(0o400)
    try:
        ok("list")
        assert cli("add", "Bob").exit_code == 1
        assert sorted(path.name for path in db_path.parent.iterdir()) == ["pipeline.db"]
    finally:
        db_path.chmod(0o600)
    ok("add", "Bob")


# --- small ones ------------------------------------------------------------------------------------


def test_db_check_jsonl_is_one_compact_line(ok, new_lead):
    new_lead("Ada")
    out = ok("db", "check", "--format", "jsonl").stdout
    assert out.count("\n") == 1 and json.loads(out)["ok"] is True


def test_a_new_database_is_one_transaction_with_its_stages(ok, db_path):
    ok("init", "--template", "saas")
    stages = json.loads(ok("stages", "list", "--format", "json").stdout)
    assert len(stages) == 5
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_dry_run_in_a_subprocess_on_a_missing_database(tmp_path):
    """The real command line, with PIPECTL_DB pointing at a file that does not exist."""
    db = tmp_path / "fresh.db"
    env = dict(os.environ, PIPECTL_DB=str(db), PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [sys.executable, "-m", "pipectl", "clean", "--dry-run"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert not db.exists()
