"""Eight sellers at once (issue 17): 8 × N mixed commands, on SQLite and on PostgreSQL when a server is given.

Each seller is a process running commands through the CLI entry (tests/team_seller.py). Afterwards:
every command that exited 0 left exactly its effect, none that failed left a trace, each lead's
owner is the one its history ends with, and round-robin handed out leads strictly in turn (counts
per owner differ by at most one). Bounded in time: a seller that hangs fails the test.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

SELLERS = 8
# Each command costs about 0.1 s of CPU (a new engine and its compiled statements, as in a shell), so
# the 8 × 300 is some 4 CPU-minutes per backend: PIPECTL_TEAM_COMMANDS=300 runs it (before a
# release, or after changing assignment or claims). The suite's default, 8 × 40, keeps the races (every
# seller starts at once on 20 shared leads, so claims, round-robin turns and hand-overs collide from
# the first command) in about 15 s per backend on two idle cores.
COMMANDS = int(os.environ.get("PIPECTL_TEAM_COMMANDS", "40"))
LIMIT_SECONDS = 900  # a seller that hangs (a lock never released) fails the test instead of the run
SELLER = Path(__file__).parent / "team_seller.py"


@pytest.fixture
def shared_db(db_location):
    """The test's own pipeline as `--db` takes it: a SQLite file, or a new database on the PostgreSQL server.

    From the `backend` fixture, so the test runs once per backend; a parameter of its own multiplied
    with `backend`'s into four runs with a server (two of them mixing the backends), twice the minutes.
    """
    return db_location


def test_eight_sellers_at_once(ok, shared_db, tmp_path):
    team = [f"seller{n}" for n in range(SELLERS)]
    for name in team:
        ok("--db", shared_db, "owners", "add", name)
    for n in range(20):
        ok("--db", shared_db, "add", f"Seed {n}", "--size", str(n))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).parent.parent / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    logs = [tmp_path / f"{name}.jsonl" for name in team]
    # Each seller's own stderr goes to a file, so a seller that dies (not a command: those are logged)
    # says why in the failure instead of a bare exit code.
    errors = [tmp_path / f"{name}.stderr" for name in team]
    handles = [error.open("w") for error in errors]
    sellers = [
        subprocess.Popen(
            [sys.executable, str(SELLER), shared_db, name, str(seed), str(COMMANDS), str(SELLERS), str(log)],
            env=env,
            stderr=handle,
        )
        for seed, (name, log, handle) in enumerate(zip(team, logs, handles, strict=True))
    ]
    try:
        for seller, error in zip(sellers, errors, strict=True):
            code = seller.wait(timeout=LIMIT_SECONDS)
            assert code == 0, f"{seller.args[3]} exited {code}:\n{error.read_text()[-4000:]}"
    finally:
        for seller, handle in zip(sellers, handles, strict=True):
            seller.kill()
            handle.close()
    runs = {
        name: [json.loads(line) for line in log.read_text().splitlines()] for name, log in zip(team, logs, strict=True)
    }
    assert sum(len(done) for done in runs.values()) == SELLERS * COMMANDS
    expected = Counter()  # (kind, how, actor, lead): what the successful commands must have written
    added, refused_adds, calls, refused_calls = {}, set(), set(), set()
    for actor, done in runs.items():
        for run in done:
            assert "crash" not in run, f"{actor} {run['args']} crashed:\n{run['crash']}"
            assert "Traceback" not in run["stderr"], run
            if run["code"] != 0:
                assert run["code"] == 1 and run["stderr"].startswith("Error: "), run
            command = run["args"][0]
            if command == "add":
                (
                    added.__setitem__(run["args"][1], int(run["stdout"]))
                    if run["code"] == 0
                    else refused_adds.add(run["args"][1])
                )
            elif command == "log":
                (calls if run["code"] == 0 else refused_calls).add(run["args"][4])
            elif run["code"] == 0:
                for row in json.loads(run["stdout"]):
                    kind = "released" if command == "release" else "assigned"
                    expected[(kind, row["how"], actor, row["id"])] += 1

    from sqlalchemy import create_engine, text

    location = shared_db if "://" in shared_db else f"sqlite:///{shared_db}"
    engine = create_engine(location)
    with engine.connect() as connection:
        leads = {
            name: (lead_id, owner)
            for lead_id, name, owner in connection.execute(text("SELECT id, name, owner FROM leads"))
        }
        history = connection.execute(
            text(
                "SELECT lead_id, kind, note, data, actor FROM activities "
                "WHERE kind IN ('assigned', 'released', 'call') ORDER BY id"
            )
        ).all()
    engine.dispose()

    # Adds: each success is there under its id, each refusal is not.
    assert {name: leads[name][0] for name in added} == added
    assert not refused_adds & leads.keys()
    found = Counter()
    last_owner: dict[int, str | None] = {}
    notes = set()
    for lead_id, kind, note, data, actor in history:
        data = json.loads(data) if isinstance(data, str) else data
        if kind == "call":
            notes.add(note)
            continue
        found[(kind, data.get("how", "release"), actor, lead_id)] += 1
        last_owner[lead_id] = data.get("to") if kind == "assigned" else None
    assert found == expected  # every hand-over that succeeded, and nothing else
    assert notes == calls and not notes & refused_calls
    # One owner per lead: the one its history ends with.
    for lead_id, owner in leads.values():
        assert owner == last_owner.get(lead_id), lead_id
    # Round-robin strictly in turn: the owners' counts differ by at most one.
    turns = Counter(actor for (kind, how, actor, _), n in expected.items() for _ in range(n) if how == "round-robin")
    per_owner = Counter()
    for _lead, kind, _note, data, _actor in history:
        data = json.loads(data) if isinstance(data, str) else data
        if kind == "assigned" and data.get("how") == "round-robin":
            per_owner[data["to"]] += 1
    assert sum(turns.values()) == sum(per_owner.values()) > SELLERS
    counts = [per_owner.get(name, 0) for name in team]
    assert max(counts) - min(counts) <= 1, counts
