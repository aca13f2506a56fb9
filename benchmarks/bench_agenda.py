"""`pipectl next` (the agenda) against the same sections computed by SQL in the sqlite3 shell.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only agenda

The baseline writes each section as a person fluent in SQLite would: open
tasks of open leads due before the end of the 7-day window, by day, then
score, then due (overdue, today, upcoming), with the lead's columns, tags
and fields; the 20 highest-scoring open leads without a task due in the
window that a hygiene rule flags (needs a decision); and the 20
highest-scoring open leads without any open task, not already listed as
stalled (no next action). Sections, lead ids and task ids are compared,
in order, before a ratio is reported.
"""

from pathlib import Path

from benchmarks.baseline_sql import HORIZON, STALE_CTES, TODAY, TOMORROW, lead_columns, stale
from benchmarks.harness import check_same, row, time_cli, time_sqlite3

PLANNED = f"""SELECT CASE WHEN a.due < {TODAY} THEN 'overdue' WHEN a.due < {TOMORROW} THEN 'today' ELSE 'upcoming' END,
       a.id, a.note, a.due, max({TODAY} / 86400 - a.due / 86400, 0),
       {lead_columns("l", "s")}
FROM activities a JOIN leads l ON l.id = a.lead_id JOIN stages s ON s.id = l.stage_id
WHERE a.done = 0 AND a.due IS NOT NULL AND a.due < {HORIZON} AND l.status = 'open'
ORDER BY a.due / 86400, l.score DESC, a.due, a.id;"""

STALLED = f"""CREATE TEMP TABLE stalled AS
WITH {STALE_CTES}
SELECT l.id, l.score FROM leads l
WHERE l.status = 'open'
  AND NOT EXISTS (SELECT 1 FROM activities t WHERE t.lead_id = l.id AND t.done = 0 AND t.due < {HORIZON})
  AND {stale("l")}
ORDER BY l.score DESC, l.id LIMIT 20;"""

NEEDS_DECISION = f"""SELECT 'needs_decision', NULL, {lead_columns("l", "s")}
FROM stalled st JOIN leads l ON l.id = st.id JOIN stages s ON s.id = l.stage_id
ORDER BY st.score DESC, st.id;"""

NO_NEXT_ACTION = f"""SELECT 'no_next_action', NULL, {lead_columns("l", "s")}
FROM leads l JOIN stages s ON s.id = l.stage_id
WHERE l.status = 'open' AND NOT EXISTS (SELECT 1 FROM activities t WHERE t.lead_id = l.id AND t.done = 0)
  AND l.id NOT IN (SELECT id FROM stalled)
ORDER BY l.score DESC, l.id LIMIT 20;"""


def run(db: Path, size: int) -> list[dict]:
    """`next --limit 20 --format json` (every planned row, 20 stalled, 20 unplanned) against its SQL."""
    # The table's 20 stalled and 20 unplanned leads (machine formats list all of them unless --limit says).
    command = ["next", "--limit", "20", "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(db, [PLANNED, NEEDS_DECISION, NO_NEXT_ACTION], setup=[STALLED])
    planned, stalled, unplanned = baseline.answers
    check_same(
        "next",
        [(item["section"], item["id"], item["task_id"]) for item in pipectl.json()],
        [(found[0], found[5], found[1]) for found in planned]
        + [(found[0], found[2], None) for found in stalled + unplanned],
    )
    return [
        row("next", size, pipectl, baseline, "sqlite3 shell (same sections)", command="pipectl " + " ".join(command))
    ]
