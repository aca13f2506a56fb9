"""`pipectl stages remove Qualification --to Contact` against the same move written by hand in the sqlite3 shell.

Example: python -m benchmarks.run --sizes 1000,100000 --only stages

The stage holds about a quarter of the generated leads (every status).
pipectl checks the stages, writes one `stage_change` activity per lead with
one INSERT … SELECT, moves them with one UPDATE (open leads enter the new stage
now; closed ones keep their dates), renumbers the stages, and re-scores the
moved leads before the commit when a scoring rule counts `stage_change`
activities (the default rules do not; the second row loads one that does, so
every moved lead is re-scored). The baseline does not score: it is the one
INSERT and one UPDATE a person would write. Both write, so each run starts
from a fresh scratch copy (restored untimed); afterwards the leads, the new
activities and the stages are compared between the two copies (scores left
out) before a ratio is reported.
"""

import shutil
import sqlite3
from pathlib import Path

from benchmarks.generate import NOW_TS
from benchmarks.harness import BenchmarkError, check_same, restore, row, scratch_copy, time_cli, time_shell

# The default rules plus one that counts stage changes, so moving a lead changes its score.
COUNTING_RULES = """
[[scoring.behavioural]]
name = "Moved along"
kind = "stage_change"
points = 2
cap = 6
"""

SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"
REMOVED, TARGET = "Qualification", "Contact"
MOVE_SQL = """
BEGIN IMMEDIATE;
INSERT INTO activities (lead_id, kind, at, note, due, done, from_stage_id, to_stage_id, data, recorded_at)
    SELECT id, 'stage_change', {now}, 'stage {removed} removed', NULL, 1, {old}, {new}, 'null', {now}
    FROM leads WHERE stage_id = {old};
UPDATE leads SET stage_id = {new}, updated_at = {now},
    stage_entered_at = CASE WHEN status = 'open' THEN {now} ELSE stage_entered_at END
    WHERE stage_id = {old};
UPDATE stages SET removed = 1, position = NULL WHERE id = {old};
UPDATE stages SET position = position - 1 WHERE removed = 0 AND position > {position};
COMMIT;
"""
LEADS_SQL = "SELECT id, stage_id, status, stage_entered_at, updated_at, last_activity_at FROM leads ORDER BY id"
MOVES_SQL = (
    "SELECT lead_id, kind, at, note, due, done, from_stage_id, to_stage_id, data, recorded_at "
    "FROM activities WHERE kind = 'stage_change' AND recorded_at = ? ORDER BY lead_id"
)
STAGES_SQL = "SELECT id, name, position, removed FROM stages ORDER BY id"


def run(db: Path, size: int) -> list[dict]:
    """Removing a stage that holds a quarter of the leads, by pipectl and by hand, on fresh copies."""
    if not Path(SQLITE).exists():
        raise BenchmarkError("the sqlite3 shell is needed for the baseline (apt-get install sqlite3)")
    counting = scratch_copy(db, "stages-counting")
    rules = db.with_name(f"{db.stem}.stages-rules.toml")
    try:
        rules.write_text(_rules_with_stage_changes(db, rules))
        time_cli(["rules", "load", rules], counting, repeat=1)
        return [
            _measure(db, size, "default rules: no re-score"),
            _measure(counting, size, "a rule counts stage changes: moved leads re-scored"),
        ]
    finally:
        rules.unlink(missing_ok=True)
        for path in (counting, Path(f"{counting}-wal"), Path(f"{counting}-shm")):
            path.unlink(missing_ok=True)


def _measure(db: Path, size: int, label: str) -> dict:
    mine, theirs = scratch_copy(db, "stages-pipectl"), scratch_copy(db, "stages-sql")
    script = db.with_name(f"{db.stem}.stages.sql")
    try:
        old, position, new = _stage_ids(db)
        moved = _count(db, old)
        script.write_text(MOVE_SQL.format(now=NOW_TS, removed=REMOVED, old=old, new=new, position=position))
        pipectl = time_cli(["stages", "remove", REMOVED, "--to", TARGET], mine, prepare=lambda: restore(db, mine))
        baseline = time_shell([SQLITE, theirs], stdin=script, prepare=lambda: restore(db, theirs))
        if f"moved {moved} lead(s)" not in pipectl.stderr:
            raise BenchmarkError(f"stages remove did not report {moved} moved leads: {pipectl.stderr.strip()}")
        for name, sql, params in (
            ("leads", LEADS_SQL, ()),
            ("stage_change rows", MOVES_SQL, (NOW_TS,)),
            ("stages", STAGES_SQL, ()),
        ):
            check_same(f"stages remove ({name})", _rows(mine, sql, params), _rows(theirs, sql, params))
        return row(
            f"stages remove --to ({moved:,} leads move; {label})",
            size,
            pipectl,
            baseline,
            "sqlite3 shell (INSERT … SELECT + UPDATE)",
        )
    finally:
        script.unlink(missing_ok=True)
        for copy in (mine, theirs):
            for path in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
                path.unlink(missing_ok=True)


def _rules_with_stage_changes(db: Path, rules: Path) -> str:
    """`pipectl rules export` of the pipeline (its defaults), plus COUNTING_RULES."""
    return time_cli(["rules", "export"], db, repeat=1).stdout + COUNTING_RULES


def _stage_ids(db: Path) -> tuple[int, int, int]:
    connection = sqlite3.connect(db)
    try:
        stages = {
            name: (stage_id, position)
            for stage_id, name, position in connection.execute(
                "SELECT id, name, position FROM stages WHERE removed = 0"
            )
        }
    finally:
        connection.close()
    return stages[REMOVED][0], stages[REMOVED][1], stages[TARGET][0]


def _count(db: Path, stage_id: int) -> int:
    return _rows(db, "SELECT count(*) FROM leads WHERE stage_id = ?", (stage_id,))[0][0]


def _rows(path: Path, sql: str, params: tuple) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()
