"""A process killed (SIGKILL) in the middle of a large write leaves a sound database with all or none of it.

The writer runs in a subprocess that does the real work through pipectl's
own `pipeline()` transaction, tells us when its uncommitted changes have
reached the file (a tiny page cache makes SQLite spill them into the WAL),
and is then killed without any chance to clean up. Afterwards `db check`
must pass and the database must hold either nothing of that command or all
of it, never a part.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only(
    "kills a writer of a SQLite file and checks the file (PostgreSQL rolls a dead client's transaction back)"
)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 60

# Adds COUNT leads through the core in one transaction; with HOLD, stops before the commit and waits.
BULK_ADD = textwrap.dedent("""
    import sys, time
    from pipectl.cli.runtime import pipeline
    from pipectl.core.leads import add_lead, validate_fields

    db, count, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "hold"
    with pipeline(db) as session:
        # A tiny page cache: uncommitted pages must go to the WAL file, as in a really large write.
        session.connection().exec_driver_sql("PRAGMA cache_size = 8")
        for number in range(count):
            add_lead(session, validate_fields(name=f"Bulk {number}", company="Crash Test Ltd",
                                              value_cents=100_000), tags=["bulk"], custom={"batch": "1"})
        session.flush()
        if hold:
            print("written", flush=True)
            time.sleep(120)
    print("committed", flush=True)
""")

# `clean` through the core: every stale lead archived in one transaction; with HOLD, killed before commit.
BULK_CLEAN = textwrap.dedent("""
    import sys, time
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.cleanup import SweepFilter, archive_leads, sweep_candidates

    db, hold = sys.argv[1], sys.argv[2] == "hold"
    with pipeline(db) as session:
        session.connection().exec_driver_sql("PRAGMA cache_size = 8")
        candidates = sweep_candidates(session, clock.now(), SweepFilter())
        archived = archive_leads(session, candidates, clock.now())
        session.flush()
        if hold:
            print(f"written {archived}", flush=True)
            time.sleep(120)
    print(f"committed {archived}", flush=True)
""")


def _env(db_path: Path) -> dict:
    environment = dict(os.environ)
    environment["PIPECTL_DB"] = str(db_path)
    return environment


def _run_and_kill(argv: list[str], db_path: Path) -> str:
    """Start the writer, wait until it says its changes are in the file, then SIGKILL it."""
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(db_path), cwd=ROOT
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("written"), process.stderr.read()
        wal = Path(f"{db_path}-wal")
        # Proof the kill lands mid-write: uncommitted pages sit in the WAL.
        assert wal.exists() and wal.stat().st_size > 32 * 1024
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT_S)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return line


def _run(argv: list[str], db_path: Path) -> str:
    finished = subprocess.run(argv, capture_output=True, text=True, env=_env(db_path), cwd=ROOT, timeout=TIMEOUT_S)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def _count(db_path: Path, sql: str) -> int:
    connection = sqlite3.connect(db_path)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def test_killed_bulk_add_leaves_a_sound_database_with_none_of_it(db_path, ok, new_lead):
    new_lead("Before the crash")
    before = _count(db_path, "SELECT count(*) FROM leads")

    _run_and_kill([sys.executable, "-c", BULK_ADD, str(db_path), "150", "hold"], db_path)

    ok("db", "check")
    assert _count(db_path, "SELECT count(*) FROM leads") == before
    assert _count(db_path, "SELECT count(*) FROM lead_tags WHERE tag = 'bulk'") == 0
    assert _count(db_path, "SELECT count(*) FROM activities") == 1
    # The pipeline goes on working after the crash.
    assert new_lead("After the crash") == before + 1


def test_completed_bulk_add_holds_all_of_it(db_path, ok):
    ok("init")
    assert _run([sys.executable, "-c", BULK_ADD, str(db_path), "100", "go"], db_path).strip() == "committed"
    ok("db", "check")
    assert _count(db_path, "SELECT count(*) FROM leads WHERE name LIKE 'Bulk %'") == 100
    assert _count(db_path, "SELECT count(*) FROM lead_fields WHERE key = 'batch'") == 100


@pytest.fixture
def stale_pipeline(db_path):
    """A realistic pipeline of 1,000 leads from the benchmark generator, many of them long idle."""
    _run([sys.executable, "-m", "benchmarks.generate", "--leads", "1000", "--out", str(db_path)], db_path)
    return db_path


def test_killed_clean_archives_none_and_a_finished_one_archives_all(stale_pipeline, ok, snapshot):
    db_path = stale_pipeline
    archived_before = _count(db_path, "SELECT count(*) FROM leads WHERE status = 'archived'")
    rows_before = snapshot()

    line = _run_and_kill([sys.executable, "-c", BULK_CLEAN, str(db_path), "hold"], db_path)
    would_archive = int(line.split()[1])
    assert would_archive > 50

    ok("db", "check")
    assert snapshot() == rows_before

    finished = _run([sys.executable, "-c", BULK_CLEAN, str(db_path), "go"], db_path)
    assert finished.strip() == f"committed {would_archive}"
    ok("db", "check")
    assert _count(db_path, "SELECT count(*) FROM leads WHERE status = 'archived'") == archived_before + would_archive


def test_killed_clean_command_is_all_or_nothing(stale_pipeline, ok):
    """The real `pipectl clean --yes`, killed at some moment: whatever that moment, all or none."""
    db_path = stale_pipeline
    archived_before = _count(db_path, "SELECT count(*) FROM leads WHERE status = 'archived'")
    would_archive = len(json.loads(ok("clean", "--dry-run", "--format", "json").stdout))
    assert would_archive > 50
    _kill_while_writing(db_path, "clean", "--yes")
    ok("db", "check")
    archived = _count(db_path, "SELECT count(*) FROM leads WHERE status = 'archived'")
    assert archived in (archived_before, archived_before + would_archive)


def _kill_while_writing(db_path: Path, *args: str) -> None:
    """Run `pipectl ARGS…` and SIGKILL it as soon as it holds the write lock (or when it ends)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipectl", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(db_path),
        cwd=ROOT,
    )
    try:
        _wait_for_write_lock(db_path, process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT_S)
        process.stderr.close()


def _wait_for_write_lock(db_path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        probe = sqlite3.connect(db_path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return  # someone (the clean) holds the write lock now
        finally:
            probe.close()
        time.sleep(0.002)


def _big_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("name,company,email,value,stage,tags\n")
        for number in range(rows):
            out.write(
                f"Imported {number},Company {number % 40},i{number}@import.example,{number * 10},"
                f"{('Discovery', 'Contact')[number % 2]},a;b\n"
            )
    return path


def test_killed_import_is_all_or_nothing(tmp_path, db_path, ok, cli, new_lead):
    """A large `pipectl import`, killed while it holds the write lock: no row of it, or every row."""
    if cli("import", "--help").exit_code != 0:
        pytest.skip("pipectl import does not exist yet")
    new_lead("Before the import")
    rows = 2000
    source = _big_csv(tmp_path / "big.csv", rows)
    _kill_while_writing(db_path, "import", str(source))
    ok("db", "check")
    imported = _count(db_path, "SELECT count(*) FROM leads WHERE name LIKE 'Imported %'")
    assert imported in (0, rows)
    assert _count(db_path, "SELECT count(*) FROM activities WHERE kind = 'created'") == 1 + imported
    if imported == 0:
        ok("import", str(source))
        assert _count(db_path, "SELECT count(*) FROM leads WHERE name LIKE 'Imported %'") == rows
    ok("db", "check")
