"""`pipectl predict --train` (learn the win model, score every open lead, print the top 10) against the
frequency tables written by hand.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only predict

Training is the frequency table of the closed leads' feature values (stage,
source, industry, size band, owner, tags, and each activity kind's count up to
the close, in bands); the baseline is that table as one hand-written SQLite
query (a UNION ALL of the features, GROUP BY feature and value) run by the
sqlite3 shell. pipectl does more in its time (it stores the table, then scores
and stores every open lead's probability and prints the top 10), so the ratio
is an upper bound on the overhead of learning through pipectl. Afterwards the
won and lost counts pipectl stored are compared with the baseline's.
"""

import sqlite3
from pathlib import Path

from benchmarks.harness import check_same, restore, row, scratch_copy, time_cli, time_sqlite3
from pipectl.core.kinds import LOGGABLE


def _text(column: str) -> str:
    return f"CASE WHEN trim(coalesce({column}, '')) = '' THEN '(none)' ELSE lower(trim({column})) END"


KINDS = ", ".join(f"'{kind}'" for kind in LOGGABLE)
FREQUENCY_SQL = f"""WITH closed AS (
    SELECT id, status, stage_id, source, industry, company_size, owner, closed_at FROM leads
    WHERE status IN ('won', 'lost')
), kinds AS (
    SELECT DISTINCT a.kind FROM activities a JOIN closed c ON c.id = a.lead_id
    WHERE a.done = 1 AND a.kind IN ({KINDS})
), counts AS (
    SELECT a.lead_id, a.kind, count(*) AS n FROM activities a JOIN closed c ON c.id = a.lead_id
    WHERE a.done = 1 AND a.kind IN (SELECT kind FROM kinds) AND a.at <= c.closed_at
    GROUP BY a.lead_id, a.kind
), features AS (
    SELECT c.id, 'stage' AS feature, s.name AS value, c.status FROM closed c JOIN stages s ON s.id = c.stage_id
    UNION ALL SELECT id, 'source', {_text("source")}, status FROM closed
    UNION ALL SELECT id, 'industry', {_text("industry")}, status FROM closed
    UNION ALL SELECT id, 'owner', {_text("owner")}, status FROM closed
    UNION ALL SELECT id, 'size', CASE WHEN company_size IS NULL THEN '(none)' WHEN company_size >= 1000 THEN '1000+'
        WHEN company_size >= 250 THEN '250-999' WHEN company_size >= 50 THEN '50-249'
        WHEN company_size >= 10 THEN '10-49' WHEN company_size >= 0 THEN '1-9' ELSE '(none)' END, status FROM closed
    UNION ALL SELECT t.lead_id, 'tag', t.tag, c.status FROM lead_tags t JOIN closed c ON c.id = t.lead_id
    UNION ALL SELECT c.id, 'activity:' || k.kind, CASE WHEN coalesce(n.n, 0) >= 8 THEN '8+'
        WHEN coalesce(n.n, 0) >= 4 THEN '4-7' WHEN coalesce(n.n, 0) >= 2 THEN '2-3' WHEN coalesce(n.n, 0) >= 1 THEN '1'
        ELSE '0' END, c.status
    FROM closed c CROSS JOIN kinds k LEFT JOIN counts n ON n.lead_id = c.id AND n.kind = k.kind
)
SELECT feature, value, sum(status = 'won'), sum(status = 'lost') FROM features GROUP BY feature, value
ORDER BY feature, value"""
STORED_SQL = "SELECT feature, value, won, lost FROM prediction_factors ORDER BY feature, value"


def run(db: Path, size: int) -> list[dict]:
    """Learning the win model by pipectl (on a scratch copy: it writes) and the frequency tables by hand."""
    mine = scratch_copy(db, "predict-pipectl")
    repeat = 1 if size >= 1_000_000 else 3
    command = ["predict", "--train", "--limit", "10", "--format", "json"]
    try:
        pipectl = time_cli(command, mine, repeat=repeat, prepare=lambda: restore(db, mine))
        baseline = time_sqlite3(db, [FREQUENCY_SQL + ";"], repeat=repeat)
        expected = [tuple(answer) for answer in baseline.answers[0]]
        check_same("predict (frequency tables)", _stored(mine), expected)
        return [
            row(
                "predict --train (learn, score every open lead)",
                size,
                pipectl,
                baseline,
                "sqlite3 shell (frequency tables only)",
                command="pipectl " + " ".join(command),
            )
        ]
    finally:
        for path in (mine, Path(f"{mine}-wal"), Path(f"{mine}-shm")):
            path.unlink(missing_ok=True)


def _stored(path: Path) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return [tuple(found) for found in connection.execute(STORED_SQL)]
    finally:
        connection.close()
