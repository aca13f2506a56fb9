"""`pipectl status` and `pipectl brief` against the same figures computed by SQL in the sqlite3 shell.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only status

status: next actions overdue and due today (counts), stalled open leads without an action due today
(the hygiene rules, count), open leads and value per stage, and the week's won and lost leads (counts
and values). The shell does not work out score crossings (it would need the scoring rules twice), so
its script is lighter than what pipectl does. brief: the won leads sharing the lead's industry,
company size band or source (count, and the three closest: most matches, then latest). Answers are
compared before a ratio is reported.
"""

from pathlib import Path

from benchmarks.baseline_sql import DAY, STALE_CTES, TODAY, TOMORROW, stale
from benchmarks.generate import NOW_TS
from benchmarks.harness import check_same, row, time_cli, time_sqlite3

STATUS = [
    f"""SELECT coalesce(sum(a.due < {TODAY}), 0), coalesce(sum(a.due >= {TODAY}), 0)
FROM activities a JOIN leads l ON l.id = a.lead_id
WHERE a.done = 0 AND a.due IS NOT NULL AND a.due < {TOMORROW} AND l.status = 'open';""",
    f"""WITH {STALE_CTES}
SELECT count(*) FROM leads l WHERE l.status = 'open' AND {stale("l")}
  AND NOT EXISTS (SELECT 1 FROM activities t WHERE t.lead_id = l.id AND t.done = 0 AND t.due < {TOMORROW});""",
    """SELECT s.name, count(l.id), coalesce(sum(l.value_cents), 0)
FROM stages s LEFT JOIN leads l ON l.stage_id = s.id AND l.status = 'open'
WHERE s.removed = 0 GROUP BY s.id ORDER BY s.position;""",
    f"""SELECT status, count(*), coalesce(sum(value_cents), 0) FROM leads
WHERE status IN ('won', 'lost') AND closed_at >= {NOW_TS - 7 * DAY} GROUP BY status ORDER BY status;""",
]
BRIEFED = 50
BANDS = ((None, 10), (10, 50), (50, 200), (200, 1000), (1000, None))


def similar_sql(db: Path) -> str:
    """The similar won leads of lead BRIEFED, written from its row (the shell has no variables)."""
    import sqlite3

    connection = sqlite3.connect(db)
    industry, size, source_key = connection.execute(
        "SELECT industry, company_size, source_key FROM leads WHERE id = ?", (BRIEFED,)
    ).fetchone()
    connection.close()
    terms = []
    if industry:
        terms.append(f"lower(industry) = '{industry.lower()}'")
    if size is not None:
        low, high = next((low, high) for low, high in BANDS if high is None or size <= high)
        bounds = [f"company_size > {low}" if low is not None else "company_size IS NOT NULL"]
        terms.append(" AND ".join(bounds + ([f"company_size <= {high}"] if high is not None else [])))
    if source_key:
        terms.append(f"source_key = '{source_key}'")
    matches = " + ".join(f"coalesce(({term}), 0)" for term in terms)  # NULL (no industry) is no match
    where = f"id != {BRIEFED} AND (" + " OR ".join(f"(status = 'won' AND {term})" for term in terms) + ")"
    return (
        f"SELECT count(*) FROM leads WHERE {where};\n"
        f"SELECT id FROM leads WHERE {where} ORDER BY {matches} DESC, closed_at DESC, id DESC LIMIT 3;"
    )


def run(db: Path, size: int) -> list[dict]:
    return [run_status(db, size), run_brief(db, size)]


def run_status(db: Path, size: int) -> dict:
    command = ["status", "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(db, STATUS)
    actions, stalled, stages, week = baseline.answers
    data = pipectl.json()
    closed = {status: (count, value) for status, count, value in week}
    check_same(
        "status",
        {
            "actions": (data["actions"]["overdue"], data["actions"]["today"]),
            "needs_decision": data["needs_decision"]["leads"],
            "stages": [
                (item["stage"], item["leads"], round(item["value"] * 100)) for item in data["pipeline"]["stages"]
            ],
            "week": {
                status: (data["week"][status]["leads"], round(data["week"][status]["value"] * 100))
                for status in ("won", "lost")
            },
        },
        {
            "actions": tuple(actions[0]),
            "needs_decision": stalled[0][0],
            "stages": [tuple(stage) for stage in stages],
            "week": {status: closed.get(status, (0, 0)) for status in ("won", "lost")},
        },
    )
    return row(
        "status --format json",
        size,
        pipectl,
        baseline,
        "sqlite3 shell (same counts and sums; no score crossings)",
        command="pipectl " + " ".join(command),
    )


def run_brief(db: Path, size: int) -> dict:
    command = ["brief", str(BRIEFED), "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(db, similar_sql(db).split("\n"))
    count, closest = baseline.answers
    similar = pipectl.json()["similar_won"]
    check_same(
        "brief (similar won leads)",
        (similar["leads"], [item["id"] for item in similar["list"]]),
        (count[0][0], [found[0] for found in closest]),
    )
    return row(
        "brief LEAD --format json",
        size,
        pipectl,
        baseline,
        "sqlite3 shell (similar won leads only)",
        command="pipectl " + " ".join(command),
    )
