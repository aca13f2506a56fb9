"""`pipectl score` (re-score and store every open lead, print the top 10) against hand-written SQL.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only score

The generated database stores no rules, so pipectl scores with its defaults
(`examples/scoring.toml`). The baseline is those same rules written by hand as
one SQLite UPDATE (an aggregate over activities grouped by lead, joined to the
demographic cases) in one transaction, plus the same top-10 query, run by the
sqlite3 shell.
Both write, so each run starts from a fresh scratch copy of the generated file
(restored untimed); afterwards every open lead's stored score and nurture mark
are compared between the two copies, and the printed rankings too, before a
ratio is reported.
"""

import sqlite3
from pathlib import Path

from benchmarks.generate import NOW_TS
from benchmarks.harness import check_same, restore, row, scratch_copy, time_cli, time_sqlite3

DAY = 86400


# The default rules, by hand: demographic points from the lead row and its department field,
# behavioural points from one pass over the lead's done activities, clamped to 0-100.
def rescore_sql(lead_id: int | None = None) -> str:
    """The UPDATE that re-scores every open lead (or only lead `lead_id`), with its nurture mark."""
    only = f" AND l.id = {lead_id}" if lead_id is not None else ""
    only_activities = f" AND lead_id = {lead_id}" if lead_id is not None else ""
    return f"""UPDATE leads SET
    score = max(0, min(100, s.raw)),
    nurture_since = CASE WHEN max(0, min(100, s.raw)) < 30 THEN coalesce(leads.nurture_since, {NOW_TS}) END
FROM (
    SELECT l.id,
        (CASE WHEN l.title LIKE 'Head of%' OR l.title LIKE 'VP%' OR l.title LIKE 'Director%'
                   OR l.title LIKE 'Chief%' THEN 15 ELSE 0 END)
      + (CASE WHEN lower(l.title) IN ('founder', 'co-founder', 'owner', 'ceo') THEN 15 ELSE 0 END)
      + (CASE WHEN lower(l.industry) IN ('software', 'saas', 'fintech', 'e-commerce') THEN 10 ELSE 0 END)
      + (CASE WHEN l.company_size BETWEEN 50 AND 500 THEN 15 ELSE 0 END)
      + (CASE WHEN l.company_size >= 501 THEN 5 ELSE 0 END)
      + (CASE WHEN l.location LIKE '%Germany%' OR l.location LIKE '%Austria%'
                   OR l.location LIKE '%Switzerland%' THEN 5 ELSE 0 END)
      + (CASE WHEN EXISTS (SELECT 1 FROM lead_fields f WHERE f.lead_id = l.id AND f.key = 'department'
                           AND lower(f.value) IN ('sales', 'marketing', 'revenue')) THEN 10 ELSE 0 END)
      + (CASE WHEN lower(l.source) LIKE '%referral%' OR lower(l.source) LIKE '%inbound%'
                   OR lower(l.source) LIKE '%website%' OR lower(l.source) LIKE '%web form%'
                   OR lower(l.source) LIKE '%event%' OR lower(l.source) LIKE '%partner%' THEN 10 ELSE 0 END)
      + (CASE WHEN l.email <> '' THEN 5 ELSE 0 END)
      + (CASE WHEN l.email LIKE '%@competitor.example' THEN -50 ELSE 0 END)
      + coalesce(b.points, 0) AS raw
    FROM leads l LEFT JOIN (
        SELECT lead_id,
              min(1 * sum(kind = 'email_open' AND at >= {NOW_TS - 30 * DAY}), 5)
            + min(2 * sum(kind = 'web_visit' AND at >= {NOW_TS - 30 * DAY}), 10)
            + min(10 * sum(kind = 'form_submission' AND at >= {NOW_TS - 60 * DAY}), 20)
            + min(25 * sum(kind = 'trial_request' AND at >= {NOW_TS - 90 * DAY}), 25)
            + min(5 * sum(kind = 'content_download' AND at >= {NOW_TS - 60 * DAY}), 15)
            + min(8 * sum(kind = 'event_registration' AND at >= {NOW_TS - 90 * DAY}), 16)
            + min(2 * sum(kind = 'social_engagement' AND at >= {NOW_TS - 30 * DAY}), 6)
            + min(10 * sum(kind = 'reply' AND at >= {NOW_TS - 60 * DAY}), 20)
            + min(15 * sum(kind = 'meeting' AND at >= {NOW_TS - 90 * DAY}), 30)
            + max(-30 * sum(kind = 'unsubscribe'), -30) AS points
        FROM activities
        WHERE done = 1 AND kind IN ('email_open', 'web_visit', 'form_submission', 'trial_request',
              'content_download', 'event_registration', 'social_engagement', 'reply', 'meeting', 'unsubscribe')
              {only_activities}
        GROUP BY lead_id
    ) b ON b.lead_id = l.id
    WHERE l.status = 'open'{only}
) AS s
WHERE leads.id = s.id;"""


TOP_SQL = "SELECT id FROM leads WHERE status = 'open' ORDER BY score DESC, id LIMIT 10"
STORED_SQL = "SELECT id, score, nurture_since FROM leads WHERE status = 'open' ORDER BY id"


def run(db: Path, size: int) -> list[dict]:
    """Re-scoring every open lead, by pipectl and by hand, on fresh copies of the same database."""
    mine, theirs = scratch_copy(db, "score-pipectl"), scratch_copy(db, "score-sql")
    # Each run restores a copy of the file first (untimed): at a million leads, once is enough.
    repeat = 1 if size >= 1_000_000 else 3
    command = ["score", "--limit", "10", "--format", "json"]
    try:
        pipectl = time_cli(command, mine, repeat=repeat, prepare=lambda: restore(db, mine))
        baseline = time_sqlite3(
            theirs,
            [TOP_SQL + ";"],
            setup=["BEGIN IMMEDIATE;", rescore_sql(), "COMMIT;"],
            readonly=False,
            repeat=repeat,
            prepare=lambda: restore(db, theirs),
        )
        check_same("score (stored scores)", _stored(mine), _stored(theirs))
        check_same(
            "score (top 10)", [lead["id"] for lead in pipectl.json()], [lead_id for (lead_id,) in baseline.answers[0]]
        )
        return [
            row(
                "score (re-score every open lead)",
                size,
                pipectl,
                baseline,
                "sqlite3 shell (same scores)",
                command="pipectl " + " ".join(command),
            )
        ]
    finally:
        for copy in (mine, theirs):
            for path in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
                path.unlink(missing_ok=True)


def _stored(path: Path) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(STORED_SQL).fetchall()
    finally:
        connection.close()


def _top(path: Path) -> list[int]:
    connection = sqlite3.connect(path)
    try:
        return [lead_id for (lead_id,) in connection.execute(TOP_SQL)]
    finally:
        connection.close()
