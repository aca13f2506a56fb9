"""Readers never wait for a writer; a waiting writer says who holds the lock; a pipeline is born whole.

The long version of the first test (a 40 s hold) is `python -m benchmarks.lock_hold --hold 40`.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only(
    "SQLite's whole-file write lock and the note naming its holder (PostgreSQL locks rows)"
)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 90
# The writer holds the lock until the readers are done (at most this long).
HOLD_S = 60.0


def _env(db_path: Path, **extra: str) -> dict:
    environment = dict(os.environ, PIPECTL_DB=str(db_path), **extra)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), environment.get("PYTHONPATH")]))
    return environment


def _scenario():
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.lock_hold import scenario
    finally:
        sys.path.remove(str(ROOT))
    return scenario


def test_reads_answer_while_a_writer_holds_the_lock_and_a_waiting_add_says_who(db_path, new_lead, ok):
    new_lead("First lead")
    report = _scenario()(db_path, HOLD_S, release_early=True)

    for reader in report["readers"]:
        assert reader["exit"] == 0, reader
        assert reader["lock_still_held"], reader  # it answered during the hold, not after it
        assert "locked" not in reader["stderr"]
    impatient = report["short_timeout_add"]
    assert impatient["exit"] == 1 and impatient["lock_still_held"]
    assert impatient["stderr"].count("\n") == 1 and impatient["stderr"].startswith("Error: ")
    assert "`pipectl import`" in impatient["stderr"] and "holds the write lock" in impatient["stderr"]
    assert "PIPECTL_BUSY_TIMEOUT" in impatient["stderr"]
    waited = report["waiting_add"]
    assert waited["exit"] == 0, waited  # the default timeout outlasts a short hold
    assert report["writer"]["stdout"].strip().endswith("committed")

    names = [lead["name"] for lead in json.loads(ok("list", "--format", "json").stdout)]
    assert sorted(names) == ["First lead", "Held by the writer", "Waited for the lock"]
    assert not Path(f"{db_path}-writer").exists()


def test_a_bad_busy_timeout_is_a_usage_error(cli, new_lead, monkeypatch):
    new_lead("Ada")
    monkeypatch.setenv("PIPECTL_BUSY_TIMEOUT", "soon")
    result = cli("list")
    assert result.exit_code == 2 and "PIPECTL_BUSY_TIMEOUT" in result.stderr


def test_the_note_of_a_killed_writer_is_not_believed(db_path, new_lead, cli, monkeypatch):
    new_lead("Ada")
    Path(f"{db_path}-writer").write_text(json.dumps({"command": "import", "pid": 2**22 + 7, "since": 0}))
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setenv("PIPECTL_BUSY_TIMEOUT", "0.2")
        result = cli("add", "Bob")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert result.exit_code == 1
    assert "another command holds the write lock" in result.stderr and "pipectl import" not in result.stderr


# --- creating a pipeline is one transaction -------------------------------------------------------

FIRST_USE = "import sys\nfrom pipectl.cli.app import main\nsys.argv = ['pipectl', 'add', sys.argv[1]]\nmain()\n"


def test_many_first_uses_at_once_all_succeed(tmp_path):
    db_path = tmp_path / "new.db"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_USE, f"Lead {number}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(db_path),
        )
        for number in range(8)
    ]
    results = [process.communicate(timeout=TIMEOUT_S) for process in processes]
    assert [process.returncode for process in processes] == [0] * 8, results
    connection = sqlite3.connect(db_path)
    try:
        assert connection.execute("SELECT count(*) FROM stages").fetchone()[0] == 4
        assert connection.execute("SELECT count(*) FROM leads").fetchone()[0] == 8
    finally:
        connection.close()


# Builds a new pipeline, but stops for good between the schema and the stages (as a SIGKILL would).
KILLED_CREATION = textwrap.dedent("""
    import sys, time
    import pipectl.storage.templates as templates
    from pipectl.storage.schema import open_database

    def stalled(session, name):
        print("schema built", flush=True)
        time.sleep(120)

    templates.create_stages_from_template = stalled
    open_database(sys.argv[1])
""")


def test_a_first_use_killed_half_way_leaves_no_pipeline_without_stages(tmp_path, cli, ok):
    db_path = tmp_path / "new.db"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_CREATION, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(db_path),
    )
    try:
        assert process.stdout.readline().strip() == "schema built", process.stderr.read()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT_S)
        process.stdout.close()
        process.stderr.close()
    # Nothing of the half-made schema was committed: the next command builds the pipeline whole.
    ok("--db", db_path, "add", "Ada")
    assert json.loads(ok("--db", db_path, "db", "check", "--format", "json").stdout)["stages"] == 4


def test_db_check_reports_a_pipeline_without_stages(cli, ok, db_path):
    ok("init")
    connection = sqlite3.connect(db_path)
    connection.execute("DELETE FROM stages")
    connection.commit()
    connection.close()
    result = cli("db", "check", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["stages"] == 0
    assert any("no stages" in problem for problem in report["problems"])


@pytest.mark.parametrize(
    "command", [["list"], ["show", "1"], ["metrics"], ["export"], ["board"], ["next"], ["db", "check"]]
)
def test_every_reader_answers_with_no_wait_allowed(db_path, new_lead, ok, monkeypatch, command):
    """With a busy timeout of 0, any wait for the lock would fail at once: these never wait."""
    new_lead("Ada")
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO settings (key, value) VALUES ('probe', '1')")
    monkeypatch.setenv("PIPECTL_BUSY_TIMEOUT", "0")
    try:
        ok(*command)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
