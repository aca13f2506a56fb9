"""Several processes writing one pipeline at once: every command succeeds and every row is there.

Each worker is its own OS process with its own engine and connections, as
two shells or a cron job and a person would be; they start together behind a
barrier so their transactions really overlap.
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from backends import query

TIMEOUT_S = 90
WORKERS = 4
LEADS_PER_WORKER = 4

# One worker: add its leads, then move and log each, all through the real command line code.
WORKER = textwrap.dedent("""
    import json, os, sys, time
    from typer.testing import CliRunner
    from pipectl.cli.app import app
    from pipectl.cli.runtime import root_db

    db, worker, leads, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    runner = CliRunner()
    deadline = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)

    def run(*args):
        root_db["location"] = None
        result = runner.invoke(app, ["--db", db, *args])
        print(json.dumps({"args": list(args), "code": result.exit_code, "stdout": result.stdout,
                          "stderr": result.stderr, "exception": repr(result.exception)}), flush=True)
        return result

    ids = [int(run("add", f"Worker {worker} lead {i}", "--company", f"W{worker}",
                   "--tag", f"w{worker}").stdout.strip() or 0) for i in range(leads)]
    for lead_id in ids:
        run("move", str(lead_id), "Qualification")
        run("log", str(lead_id), "call", "--note", f"worker {worker}")
""")


def _spawn(argv, env):
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def env(db_location):
    environment = dict(os.environ)
    environment["PIPECTL_DB"] = db_location
    return environment


def test_four_processes_adding_moving_and_logging_at_once_all_succeed(tmp_path, db_location, env, ok):
    ok("init")
    go = tmp_path / "go"
    workers = [
        _spawn([sys.executable, "-c", WORKER, db_location, str(number), str(LEADS_PER_WORKER), str(go)], env)
        for number in range(WORKERS)
    ]
    time.sleep(0.3)
    go.touch()
    commands = []
    for worker in workers:
        out, err = worker.communicate(timeout=TIMEOUT_S)
        assert worker.returncode == 0, err
        assert "Traceback" not in err
        commands += [json.loads(line) for line in out.splitlines()]

    assert len(commands) == WORKERS * LEADS_PER_WORKER * 3
    failures = [command for command in commands if command["code"] != 0]
    assert failures == []
    assert not any("locked" in command["stderr"] for command in commands)

    names = {name for (name,) in query(db_location, "SELECT name FROM leads")}
    assert names == {f"Worker {w} lead {i}" for w in range(WORKERS) for i in range(LEADS_PER_WORKER)}
    stages = query(db_location, "SELECT DISTINCT s.name FROM leads l JOIN stages s ON s.id = l.stage_id")
    assert stages == [("Qualification",)]
    kinds = dict(query(db_location, "SELECT kind, count(*) FROM activities GROUP BY kind"))
    total = WORKERS * LEADS_PER_WORKER
    assert kinds == {"created": total, "stage_change": total, "call": total}
    # Each lead's own three rows, in the order its worker wrote them.
    per_lead = query(db_location, "SELECT lead_id, count(*) FROM activities GROUP BY lead_id HAVING count(*) != 3")
    assert per_lead == []
    assert query(db_location, "SELECT count(*) FROM lead_tags") == [(total,)]
    ok("db", "check")


def test_separate_pipectl_processes_started_together_all_succeed(db_location, env, ok, new_lead):
    first, second = new_lead("Existing one"), new_lead("Existing two")
    argv = [sys.executable, "-m", "pipectl"]
    processes = [
        _spawn([*argv, "add", "Parallel A", "--value", "1k"], env),
        _spawn([*argv, "add", "Parallel B", "--value", "2k"], env),
        _spawn([*argv, "move", str(first), "Contact"], env),
        _spawn([*argv, "log", str(second), "email", "--note", "sent"], env),
    ]
    results = [process.communicate(timeout=TIMEOUT_S) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], results
    assert not any("locked" in err or "Traceback" in err for _out, err in results)
    assert sorted(int(out.strip()) for out, _err in results[:2]) == [3, 4]

    listed = json.loads(ok("list", "--format", "json").stdout)
    assert sorted((lead["name"], lead["stage"]) for lead in listed) == [
        ("Existing one", "Contact"),
        ("Existing two", "Discovery"),
        ("Parallel A", "Discovery"),
        ("Parallel B", "Discovery"),
    ]
    assert query(db_location, "SELECT count(*) FROM activities WHERE kind = 'email'") == [(1,)]
    assert query(db_location, "SELECT count(*) FROM activities") == [(4 + 1 + 1,)]
