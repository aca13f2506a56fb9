"""Reading leads: `list` (plain, sorted, filtered, stale) against the sqlite3 shell; `show` is in bench_single.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only leads

The baselines read what pipectl prints: the leads with their stage, next
action, tags and custom fields; `--stale` adds the hygiene rules as a row
condition (benchmarks/baseline_sql.py). `show_sql` is one lead with its
tags, fields, next action, whole timeline and stale mark. Lead ids are
compared before a ratio is reported.
"""

from pathlib import Path

from benchmarks.baseline_sql import STALE_CTES, lead_columns, stale
from benchmarks.harness import check_same, row, time_cli, time_sqlite3

LIST_SQL = """{with_clause}SELECT {columns}, t.note, t.due
FROM leads l
JOIN stages s ON s.id = l.stage_id
LEFT JOIN activities t ON t.lead_id = l.id AND t.done = 0
WHERE l.status = 'open' {where}
ORDER BY {order}
LIMIT 50;"""
LISTS = {
    # benchmark name: (pipectl options, WITH clause, extra WHERE, ORDER BY)
    "list --limit 50": ([], "", "", "l.id"),
    "list --limit 50 --sort value": (["--sort", "value"], "", "", "l.value_cents IS NULL, l.value_cents DESC, l.id"),
    "list --limit 50 --tag warm": (
        ["--tag", "warm"],
        "",
        "AND EXISTS (SELECT 1 FROM lead_tags g WHERE g.lead_id = l.id AND g.tag = 'warm')",
        "l.id",
    ),
    "list --limit 50 --owner carol": (["--owner", "carol"], "", "AND l.owner_key = 'carol'", "l.id"),
    "list --stale --limit 50": (["--stale"], f"WITH {STALE_CTES}\n", f"AND {stale('l')}", "l.id"),
}


def show_sql(lead_id: int) -> list[str]:
    return [
        f"SELECT {lead_columns('l', 's')}, l.budget, l.authority, l.need, l.timeline "
        f"FROM leads l JOIN stages s ON s.id = l.stage_id WHERE l.id = {lead_id};",
        f"SELECT tag FROM lead_tags WHERE lead_id = {lead_id} ORDER BY tag;",
        f"SELECT key, value FROM lead_fields WHERE lead_id = {lead_id} ORDER BY key;",
        f"SELECT note, due FROM activities WHERE lead_id = {lead_id} AND done = 0;",
        f"SELECT id, kind, at, note, due, done FROM activities WHERE lead_id = {lead_id} ORDER BY at DESC, id DESC;",
        f"WITH {STALE_CTES}\nSELECT l.status = 'open' AND {stale('l')} FROM leads l WHERE l.id = {lead_id};",
    ]


def run(db: Path, size: int) -> list[dict]:
    """Rows for the list variants, each against the same reads in the sqlite3 shell."""
    rows = []
    for name, (options, with_clause, where, order) in LISTS.items():
        command = ["list", "--limit", "50", *options, "--format", "json"]
        pipectl = time_cli(command, db)
        baseline = time_sqlite3(
            db, [LIST_SQL.format(with_clause=with_clause, columns=lead_columns("l", "s"), where=where, order=order)]
        )
        check_same(name, [lead["id"] for lead in pipectl.json()], [found[0] for found in baseline.answers[0]])
        rows.append(
            row(
                name,
                size,
                pipectl,
                baseline,
                "sqlite3 shell (same rows, tags, fields)",
                command="pipectl " + " ".join(command),
            )
        )
    return rows
