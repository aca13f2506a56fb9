"""`pipectl review` (the weekly review) against the same sections computed by SQL in the sqlite3 shell.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only review

The default look-back is 7 days: since midnight a week before the fixed
benchmark time. Each section is a count (and value) plus at most 50 rows:
wins and lost leads closed since then, new leads, stage moves, stalled open
leads (the hygiene rules, most valuable first), overdue and upcoming
actions, unqualified leads in stages that need BANT or in the last stage,
and competition notes. Counts, values and listed lead ids are compared
before a ratio is reported.
"""

from pathlib import Path

from benchmarks.baseline_sql import DAY, STALE_CTES, TODAY, stale
from benchmarks.generate import NOW_TS
from benchmarks.harness import check_same, row, time_cli, time_sqlite3

SINCE = TODAY - 7 * DAY
UPCOMING = NOW_TS + 7 * DAY
PLANNED = (
    "FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.done = 0 AND a.due IS NOT NULL AND l.status = 'open'"
)
UNQUALIFIED = """FROM leads l JOIN stages s ON s.id = l.stage_id
WHERE l.status = 'open'
  AND (s.requires_bant = 1 OR s.position = (SELECT max(position) FROM stages WHERE removed = 0))
  AND (l.budget != 'yes' OR l.authority != 'yes' OR l.need != 'yes' OR l.timeline != 'yes')"""
COMPETITION = f"""FROM activities a JOIN leads l ON l.id = a.lead_id
WHERE a.at >= {SINCE} AND a.done = 1
  AND (a.kind = 'competitor' OR lower(a.note) LIKE '%competitor%'
       OR (a.kind = 'note' AND EXISTS (SELECT 1 FROM lead_tags g WHERE g.lead_id = a.lead_id
                                       AND g.tag = 'competitor')))"""

QUERIES = {
    "wins": f"SELECT count(*), coalesce(sum(value_cents), 0) FROM leads WHERE status = 'won' AND closed_at >= {SINCE};",
    "wins list": f"SELECT id FROM leads WHERE status = 'won' AND closed_at >= {SINCE} ORDER BY closed_at, id LIMIT 50;",
    "new": f"SELECT count(*), coalesce(sum(value_cents), 0) FROM leads WHERE created_at >= {SINCE};",
    "lost": f"SELECT count(*), coalesce(sum(value_cents), 0) FROM leads "
    f"WHERE status = 'lost' AND closed_at >= {SINCE};",
    "lost list": f"SELECT id FROM leads WHERE status = 'lost' AND closed_at >= {SINCE} "
    "ORDER BY closed_at, id LIMIT 50;",
    "moves": f"SELECT count(*) FROM activities WHERE kind = 'stage_change' AND at >= {SINCE};",
    "moves list": f"SELECT a.lead_id FROM activities a JOIN leads l ON l.id = a.lead_id WHERE a.kind = 'stage_change' "
    f"AND a.at >= {SINCE} ORDER BY a.at, a.id LIMIT 50;",
    "stalled": f"WITH {STALE_CTES}\nSELECT count(*) FROM leads l WHERE l.status = 'open' AND {stale('l')};",
    "stalled list": f"WITH {STALE_CTES}\nSELECT l.id FROM leads l WHERE l.status = 'open' AND {stale('l')}\n"
    "ORDER BY l.value_cents DESC NULLS LAST, l.id LIMIT 50;",
    "overdue": f"SELECT count(*) {PLANNED} AND a.due < {NOW_TS};",
    "overdue list": f"SELECT l.id {PLANNED} AND a.due < {NOW_TS} ORDER BY a.due, a.id LIMIT 50;",
    "upcoming": f"SELECT count(*) {PLANNED} AND a.due >= {NOW_TS} AND a.due < {UPCOMING};",
    "upcoming list": f"SELECT l.id {PLANNED} AND a.due >= {NOW_TS} AND a.due < {UPCOMING} "
    "ORDER BY a.due, a.id LIMIT 50;",
    "unqualified": f"SELECT count(*) {UNQUALIFIED};",
    "unqualified list": f"SELECT l.id {UNQUALIFIED}\nORDER BY l.value_cents DESC NULLS LAST, l.id LIMIT 50;",
    "competition": f"SELECT count(*) {COMPETITION};",
    "competition list": f"SELECT l.id {COMPETITION}\nORDER BY a.at, a.id LIMIT 50;",
}


def run(db: Path, size: int) -> list[dict]:
    """`review --format json` against its SQL."""
    command = ["review", "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(db, list(QUERIES.values()))
    found = dict(zip(QUERIES, baseline.answers, strict=True))
    data = pipectl.json()
    pipeline, blocks = data["pipeline"], data["roadblocks"]

    def ids(section: dict) -> list[int]:
        return [item["id"] for item in section["list"]]

    def cents(section: dict) -> tuple[int, int]:
        return section["leads"], round(section["value"] * 100)

    check_same(
        "review",
        {
            "wins": (cents(data["wins"]), ids(data["wins"])),
            "new": cents(pipeline["new_leads"]),
            "lost": (cents(pipeline["lost"]), ids(pipeline["lost"])),
            "moves": (pipeline["stage_moves"]["count"], ids(pipeline["stage_moves"])),
            **{
                name: (blocks[name]["count"], ids(blocks[name]))
                for name in ("stalled", "overdue", "upcoming", "unqualified")
            },
            "competition": (data["competition"]["count"], ids(data["competition"])),
        },
        {
            "wins": (tuple(found["wins"][0]), _ids(found["wins list"])),
            "new": tuple(found["new"][0]),
            "lost": (tuple(found["lost"][0]), _ids(found["lost list"])),
            "moves": (found["moves"][0][0], _ids(found["moves list"])),
            **{
                name: (found[name][0][0], _ids(found[f"{name} list"]))
                for name in ("stalled", "overdue", "upcoming", "unqualified")
            },
            "competition": (found["competition"][0][0], _ids(found["competition list"])),
        },
    )
    return [
        row("review", size, pipectl, baseline, "sqlite3 shell (same sections)", command="pipectl " + " ".join(command))
    ]


def _ids(rows: list[list]) -> list[int]:
    return [found[0] for found in rows]
