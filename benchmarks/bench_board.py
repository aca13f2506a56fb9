"""`pipectl board` against the same columns computed by SQL in the sqlite3 shell.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only board

The baseline counts and sums the open leads of every stage (one grouped
query), takes each stage's ten most valuable open leads (then by score, then
id) with one LIMIT query per stage, the way an index hands them over, and
marks which of those cards a hygiene rule flags. Column totals, card ids and
stalled marks are compared before a ratio is reported.
"""

import sqlite3
from pathlib import Path

from benchmarks.baseline_sql import STALE_CTES, stale
from benchmarks.generate import NOW_TS
from benchmarks.harness import check_same, row, time_cli, time_sqlite3

CARDS = 10
COLUMNS = """SELECT s.name, count(l.id), coalesce(sum(l.value_cents), 0)
FROM stages s LEFT JOIN leads l ON l.stage_id = s.id AND l.status = 'open'
WHERE s.removed = 0 GROUP BY s.id ORDER BY s.position;"""
STALLED_CARDS = f"""WITH {STALE_CTES}
SELECT c.stage_id, c.id, {stale("l")} FROM cards c JOIN leads l ON l.id = c.id ORDER BY c.rowid;"""


def cards_sql(stage_ids: list[int]) -> str:
    """The top cards of each stage, one LIMIT per stage, into a temporary table."""
    parts = [
        f"""SELECT * FROM (SELECT id, stage_id, name, company, value_cents, score,
       ({NOW_TS} - stage_entered_at) / 86400, owner FROM leads
       WHERE stage_id = {stage_id} AND status = 'open'
       ORDER BY value_cents DESC NULLS LAST, score DESC, id LIMIT {CARDS})"""
        for stage_id in stage_ids
    ]
    return "CREATE TEMP TABLE cards AS\n" + "\nUNION ALL\n".join(parts) + ";"


def run(db: Path, size: int) -> list[dict]:
    """`board --limit 10 --format json` against its SQL."""
    # The cards a person sees (machine formats list every card unless --limit says otherwise).
    command = ["board", "--limit", str(CARDS), "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(db, [COLUMNS, STALLED_CARDS], setup=[cards_sql(_open_stages(db))])
    columns, cards = baseline.answers
    by_stage: dict[int, list] = {}
    for stage_id, lead_id, flagged in cards:
        by_stage.setdefault(stage_id, []).append((lead_id, bool(flagged)))
    stage_ids = _open_stages(db)
    check_same(
        "board",
        [
            (
                column["stage"],
                column["leads"],
                round(column["value"] * 100),
                [(card["id"], card["stalled"]) for card in column["cards"]],
            )
            for column in pipectl.json()["columns"]
        ],
        [
            (name, count, value, by_stage.get(stage_id, []))
            for (name, count, value), stage_id in zip(columns, stage_ids, strict=True)
        ],
    )
    return [
        row(
            "board",
            size,
            pipectl,
            baseline,
            "sqlite3 shell (same columns and cards)",
            command="pipectl " + " ".join(command),
        )
    ]


def _open_stages(db: Path) -> list[int]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [
            stage_id for (stage_id,) in connection.execute("SELECT id FROM stages WHERE removed = 0 ORDER BY position")
        ]
    finally:
        connection.close()
