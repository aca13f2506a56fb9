"""`pipectl clean --dry-run` against hand-written SQL that finds the same stale leads.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only clean

Two rows per size: the idle rule alone (`clean --dry-run --rule idle`, the
issue's comparison) and the whole sweep with all six rules. Each baseline is
one SQL statement run by the sqlite3 shell, written from the rules as
`core/hygiene.py` documents them (limits are "more than N whole days", a
restored lead gets its stage's idle days of grace, averages come from the
latest 1,000 won leads); the ids both sides found are compared before a
ratio is reported.
"""

from pathlib import Path

from benchmarks.baseline_sql import TODAY
from benchmarks.generate import NOW_TS
from benchmarks.harness import check_same, row, time_cli, time_sqlite3

# Leads restored within their stage's idle days: no rule flags them yet.
RESTORED = f"""
    SELECT a.lead_id FROM activities a JOIN leads r ON r.id = a.lead_id JOIN stages rs ON rs.id = r.stage_id
    WHERE a.kind = 'restored' AND a.at > {NOW_TS} - rs.idle_days * 86400
"""
# Leads with a next action due today or later: the idle, in-stage and no-response rules spare them.
PLANNED_AHEAD = f"SELECT lead_id FROM activities WHERE done = 0 AND due >= {TODAY}"

IDLE_SQL = f"""
SELECT l.id, l.name FROM leads l JOIN stages s ON s.id = l.stage_id
WHERE l.status = 'open' AND l.last_activity_at <= {NOW_TS} - (s.idle_days + 1) * 86400
  AND l.id NOT IN ({PLANNED_AHEAD})
  AND l.id NOT IN ({RESTORED})
ORDER BY l.id
"""

# All the rules with the default limits: stage factor 2, at least 5 won leads, 180 days open,
# 60 days in the last stage, 3 unanswered attempts, 60 days under the nurture threshold, a next
# action overdue by more than the stage's idle days.
ALL_SQL = f"""
WITH candidates AS (
    SELECT * FROM leads WHERE status = 'open' AND id NOT IN ({RESTORED})
),
recent_won AS (
    SELECT id FROM leads WHERE status = 'won' ORDER BY id DESC LIMIT 1000
),
steps AS (
    SELECT a.lead_id, a.kind, a.to_stage_id, a.at,
           lead(a.at) OVER w AS left_at, lead(a.kind) OVER w AS next_kind
    FROM recent_won r JOIN activities a ON a.lead_id = r.id
    WHERE a.kind IN ('created', 'stage_change', 'reopened', 'won', 'lost')
    WINDOW w AS (PARTITION BY a.lead_id ORDER BY a.at, a.id)
),
limits AS (
    SELECT to_stage_id AS stage_id, CAST((avg(left_at - at) / 86400.0) * 2.0 AS INTEGER) AS days
    FROM steps
    WHERE kind IN ('created', 'stage_change', 'reopened') AND next_kind IN ('stage_change', 'won', 'lost')
    GROUP BY to_stage_id
    HAVING count(DISTINCT lead_id) >= 5
),
last_stage AS (
    SELECT id FROM stages WHERE position = (SELECT max(position) FROM stages WHERE position IS NOT NULL)
)
SELECT c.id FROM candidates c JOIN stages s ON s.id = c.stage_id
WHERE c.last_activity_at <= {NOW_TS} - (s.idle_days + 1) * 86400 AND c.id NOT IN ({PLANNED_AHEAD})
UNION
SELECT c.id FROM candidates c JOIN limits m ON m.stage_id = c.stage_id
WHERE c.stage_entered_at <= {NOW_TS} - (m.days + 1) * 86400 AND c.id NOT IN ({PLANNED_AHEAD})
UNION
SELECT c.id FROM candidates c JOIN stages s ON s.id = c.stage_id JOIN activities t ON t.lead_id = c.id
WHERE t.done = 0 AND t.due < {TODAY} - s.idle_days * 86400
UNION
SELECT id FROM candidates
WHERE created_at <= {NOW_TS} - 181 * 86400
   OR (stage_id IN (SELECT id FROM last_stage) AND stage_entered_at <= {NOW_TS} - 61 * 86400)
UNION
SELECT c.id FROM candidates c JOIN activities a ON a.lead_id = c.id
WHERE a.kind IN ('call', 'email', 'message') AND c.id NOT IN ({PLANNED_AHEAD})
  AND a.at > coalesce((SELECT max(r.at) FROM activities r WHERE r.lead_id = c.id
                       AND (r.kind IN ('reply', 'meeting', 'demo', 'form_submission', 'trial_request')
                            OR (r.kind = 'call' AND json_extract(r.data, '$.outcome') = 'connected'))), -1)
GROUP BY c.id HAVING count(*) >= 3
UNION
SELECT id FROM candidates WHERE budget = 'no' OR authority = 'no'
UNION
SELECT id FROM candidates WHERE nurture_since IS NOT NULL AND nurture_since <= {NOW_TS} - 61 * 86400
ORDER BY 1
"""


def run(db: Path, size: int) -> list[dict]:
    """The idle rule alone and the whole sweep, each against its SQL in the sqlite3 shell."""
    rows = []
    command = ["clean", "--dry-run", "--rule", "idle", "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(db, [IDLE_SQL.strip() + ";"])
    check_same(
        "clean --dry-run --rule idle",
        [(item["id"], item["name"]) for item in pipectl.json()],
        [(lead_id, name) for lead_id, name in baseline.answers[0]],
    )
    rows.append(
        row(
            "clean --dry-run --rule idle",
            size,
            pipectl,
            baseline,
            "sqlite3 shell (same idle leads)",
            command="pipectl " + " ".join(command),
        )
    )

    command = ["clean", "--dry-run", "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(db, [ALL_SQL.strip() + ";"])
    check_same(
        "clean --dry-run", [item["id"] for item in pipectl.json()], [lead_id for (lead_id,) in baseline.answers[0]]
    )
    rows.append(
        row(
            "clean --dry-run (all six rules)",
            size,
            pipectl,
            baseline,
            "sqlite3 shell (same stale leads)",
            command="pipectl " + " ".join(command),
        )
    )
    return rows
