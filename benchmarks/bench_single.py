"""Single-lead commands (`show`, `add`, `move`, `log`): the same work in the sqlite3 shell, and the floor.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only single

Each command is compared twice: with the same reads and writes done by the
sqlite3 shell (what the work itself costs), and with `python -c "import
sqlmodel"` (what starting Python with pipectl's data libraries costs, the
floor any pipectl command stands on). Run at every size and on an empty
pipeline (size 0), the rows must stay flat from one lead to a million.

The writes go to a scratch copy of the generated file. Both sides do what
pipectl does: `add` checks for a duplicate (same email, or same name at the
same company), inserts the lead in the first stage with its tag, custom field
and `created` activity; `move` and `log` update the lead and write the
activity; each re-scores the lead it changed (the default rules, as in
bench_score) in one transaction. The changed rows are compared between the
two sides before a ratio is reported.
"""

import sqlite3
import sys
from pathlib import Path

from benchmarks import harness
from benchmarks.bench_leads import show_sql
from benchmarks.bench_score import rescore_sql
from benchmarks.generate import NOW_TS
from benchmarks.harness import (
    BenchmarkError,
    best_of,
    check_same,
    row,
    scratch_copy,
    time_cli,
    time_shell,
    time_sqlite3,
)

RUNS_ON_EMPTY = True
FLOOR = "import sqlmodel"
FLOOR_NAME = "python -c 'import sqlmodel'"
RUNS = 3


def _runs() -> int:
    return min(RUNS, harness.MAX_REPEAT or RUNS)


def run(db: Path, size: int) -> list[dict]:
    """Rows for show, add, move and log on a pipeline of `size` leads (0: the empty pipeline)."""
    work = scratch_copy(db, "single")
    pairs = []
    try:
        # Each command's floor is measured between its runs (as many runs, the best of them), so that
        # both see the same load on a busy machine.
        for measure in (_show, _add, _move, _log):
            floors: list = []
            name, pipectl, shell, command = measure(work, floors)
            pairs.append((name, pipectl, shell, best_of(floors), command))
    finally:
        for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            stale.unlink(missing_ok=True)
    rows = []
    for name, pipectl, shell, floor, command in pairs:
        floor.script = f"python -c {FLOOR!r}"
        line = "pipectl " + " ".join(command)
        rows += [
            row(f"{name} (single lead)", size, pipectl, shell, "sqlite3 shell (same reads and writes)", command=line),
            row(f"{name} (single lead)", size, pipectl, floor, FLOOR_NAME, command=line),
        ]
    return rows


def _floor(floors: list) -> None:
    floors.append(time_shell([sys.executable, "-c", FLOOR], repeat=1))


def _show(work: Path, floors: list) -> tuple:
    lead_id = _scalar(work, "SELECT max(id) / 2 + 1 FROM leads")
    command = ["show", str(lead_id), "--format", "json"]
    runs, shells = [], []
    for _attempt in range(_runs()):
        runs.append(time_cli(command, work, repeat=1))
        shells.append(time_sqlite3(work, show_sql(lead_id), repeat=1))
        _floor(floors)
    check_same("show (single lead)", runs[-1].json()["id"], shells[-1].answers[0][0][0])
    return "show", best_of(runs), best_of(shells), command


def _add(work: Path, floors: list) -> tuple:
    runs, shells = [], []
    for attempt in range(_runs()):
        command = [
            "add",
            f"Bench Lead {attempt}",
            "--company",
            "Bench Co",
            "--email",
            f"bench{attempt}@bench.example",
            "--value",
            "5k",
            "--tag",
            "bench",
            "--field",
            "department=IT",
        ]
        runs.append(time_cli(command, work, repeat=1))
        shells.append(
            time_sqlite3(
                work,
                ["SELECT max(id) FROM leads;"],
                readonly=False,
                repeat=1,
                setup=_add_sql(f"Shell Lead {attempt}", f"shell{attempt}@bench.example"),
            )
        )
        _floor(floors)
    added, shell_added = int(runs[-1].stdout.strip()), shells[-1].answers[0][0][0]
    check_same("add (single lead)", _lead_state(work, added), _lead_state(work, shell_added))
    return "add", best_of(runs), best_of(shells), command


def _add_sql(name: str, email: str) -> list[str]:
    # The folded *_key columns pipectl keeps for lookups: lower() is the same fold for this ASCII text.
    new = "(SELECT max(id) FROM leads)"
    return [
        "BEGIN IMMEDIATE;",
        f"SELECT id FROM leads WHERE email_key = lower('{email}') OR (name_key = lower('{name}') "
        "AND company_key = 'bench co') LIMIT 5;",
        "INSERT INTO leads (name, company, email, name_key, company_key, email_key, value_cents, stage_id, status, "
        "score, created_at, updated_at, stage_entered_at, last_activity_at, budget, authority, need, timeline) "
        f"SELECT '{name}', 'Bench Co', '{email}', lower('{name}'), 'bench co', lower('{email}'), 500000, id, 'open', "
        f"0, {NOW_TS}, {NOW_TS}, {NOW_TS}, {NOW_TS}, 'unknown', 'unknown', 'unknown', 'unknown' "
        "FROM stages WHERE removed = 0 ORDER BY position LIMIT 1;",
        f"INSERT INTO lead_tags (lead_id, tag) VALUES ({new}, 'bench');",
        f"INSERT INTO lead_fields (lead_id, key, value) VALUES ({new}, 'department', 'IT');",
        "INSERT INTO activities (lead_id, kind, at, done, to_stage_id, recorded_at, data) "
        f"SELECT id, 'created', {NOW_TS}, 1, stage_id, {NOW_TS}, 'null' FROM leads WHERE id = {new};",
        rescore_sql(new),
        "COMMIT;",
    ]


def _move(work: Path, floors: list) -> tuple:
    runs_wanted = _runs()
    first = _first_stage_leads(work, 2 * runs_wanted)
    if len(first) < 2 * runs_wanted:
        raise BenchmarkError("the pipeline has too few open leads in its first stage to move")
    target_id = _scalar(work, "SELECT id FROM stages WHERE removed = 0 ORDER BY position LIMIT 1 OFFSET 1")
    target = _scalar(work, f"SELECT name FROM stages WHERE id = {target_id}")
    runs, shells = [], []
    for mine, theirs in zip(first[:runs_wanted], first[runs_wanted:], strict=False):  # the second half may be shorter
        command = ["move", str(mine), target]
        runs.append(time_cli(command, work, repeat=1))
        shells.append(
            time_sqlite3(
                work,
                [f"SELECT stage_id FROM leads WHERE id = {theirs};"],
                readonly=False,
                repeat=1,
                setup=_move_sql(theirs, target_id),
            )
        )
        _floor(floors)
    check_same(
        "move (single lead)",
        [_lead_state(work, lead_id)[:2] for lead_id in first[:runs_wanted]],
        [_lead_state(work, lead_id)[:2] for lead_id in first[runs_wanted:]],
    )
    return "move", best_of(runs), best_of(shells), command


def _move_sql(lead_id: int, target_id: int) -> list[str]:
    return [
        "BEGIN IMMEDIATE;",
        f"SELECT id, min_score, requires_bant FROM stages WHERE id = {target_id};",
        f"SELECT stage_id, score, budget, authority, need, timeline FROM leads WHERE id = {lead_id} "
        "AND status = 'open';",
        "INSERT INTO activities (lead_id, kind, at, done, from_stage_id, to_stage_id, recorded_at, data) "
        f"SELECT id, 'stage_change', {NOW_TS}, 1, stage_id, {target_id}, {NOW_TS}, 'null' "
        f"FROM leads WHERE id = {lead_id};",
        f"UPDATE leads SET stage_id = {target_id}, stage_entered_at = {NOW_TS}, "
        f"last_activity_at = max(last_activity_at, {NOW_TS}), updated_at = {NOW_TS} WHERE id = {lead_id};",
        rescore_sql(lead_id),
        "COMMIT;",
    ]


def _log(work: Path, floors: list) -> tuple:
    runs_wanted = _runs()
    leads = _first_stage_leads(work, 2 * runs_wanted, offset=2 * runs_wanted)
    count = "SELECT count(*) FROM activities WHERE lead_id = {} AND kind = 'call'"
    before = [_scalar(work, count.format(lead_id)) for lead_id in leads]
    runs, shells = [], []
    for mine, theirs in zip(leads[:runs_wanted], leads[runs_wanted:], strict=False):  # the second half may be shorter
        command = ["log", str(mine), "call", "--note", "Bench call"]
        runs.append(time_cli(command, work, repeat=1))
        shells.append(
            time_sqlite3(
                work,
                [f"SELECT last_activity_at FROM leads WHERE id = {theirs};"],
                readonly=False,
                repeat=1,
                setup=_log_sql(theirs),
            )
        )
        _floor(floors)
    after = [_scalar(work, count.format(lead_id)) for lead_id in leads]
    check_same(
        "log (single lead)",
        [new - old for old, new in zip(before[:runs_wanted], after[:runs_wanted], strict=True)],
        [new - old for old, new in zip(before[runs_wanted:], after[runs_wanted:], strict=True)],
    )
    return "log", best_of(runs), best_of(shells), command


def _log_sql(lead_id: int) -> list[str]:
    return [
        "BEGIN IMMEDIATE;",
        f"SELECT id, status FROM leads WHERE id = {lead_id};",
        "INSERT INTO activities (lead_id, kind, at, note, done, recorded_at, data) "
        f"VALUES ({lead_id}, 'call', {NOW_TS}, 'Bench call', 1, {NOW_TS}, 'null');",
        f"UPDATE leads SET last_activity_at = max(last_activity_at, {NOW_TS}), updated_at = {NOW_TS} "
        f"WHERE id = {lead_id};",
        rescore_sql(lead_id),
        "COMMIT;",
    ]


def _first_stage_leads(db: Path, count: int, offset: int = 0) -> list[int]:
    return [
        lead_id
        for (lead_id,) in _rows(
            db,
            "SELECT l.id FROM leads l WHERE l.status = 'open' AND l.stage_id = "
            "(SELECT id FROM stages WHERE removed = 0 ORDER BY position LIMIT 1) "
            f"ORDER BY l.id LIMIT {count} OFFSET {offset}",
        )
    ]


def _lead_state(db: Path, lead_id: int) -> tuple:
    """What both sides must agree on for a changed lead: its stage, status, value, score, tags, fields."""
    ((stage, status, value, score),) = _rows(
        db, f"SELECT stage_id, status, value_cents, score FROM leads WHERE id = {lead_id}"
    )
    tags = [tag for (tag,) in _rows(db, f"SELECT tag FROM lead_tags WHERE lead_id = {lead_id} ORDER BY tag")]
    fields = _rows(db, f"SELECT key, value FROM lead_fields WHERE lead_id = {lead_id} ORDER BY key")
    return stage, status, value, score, tags, fields


def _rows(db: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _scalar(db: Path, sql: str):
    return _rows(db, sql)[0][0]
