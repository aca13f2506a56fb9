"""Core reads at scale: `list --limit 50` and `show` against the same work in plain sqlite3.

Example: python -m benchmarks.run --sizes 1000,100000,1000000 --only core

The hand-written SQL reads what pipectl prints (the leads with their stage,
next action, tags and custom fields; one lead with its whole timeline), and
the two answers are compared before a ratio is reported.
"""

from pathlib import Path

from benchmarks.harness import check_same, row, time_cli, time_queries, time_sql

LIST_SQL = """
SELECT l.id, s.name, t.note, t.due,
       (SELECT group_concat(tag, ',') FROM (SELECT tag FROM lead_tags WHERE lead_id = l.id ORDER BY tag)),
       (SELECT group_concat(key || '=' || value, ',') FROM lead_fields WHERE lead_id = l.id)
FROM leads l
JOIN stages s ON s.id = l.stage_id
LEFT JOIN activities t ON t.lead_id = l.id AND t.done = 0
WHERE l.status = 'open' {where}
ORDER BY {order}
LIMIT 50
"""
LISTS = {
    # benchmark name: (pipectl options, extra WHERE, ORDER BY, parameters)
    "list --limit 50": ([], "", "l.id", ()),
    "list --limit 50 --sort value": (["--sort", "value"], "", "l.value_cents IS NULL, l.value_cents DESC, l.id", ()),
    "list --limit 50 --tag warm": (
        ["--tag", "warm"],
        "AND EXISTS (SELECT 1 FROM lead_tags g WHERE g.lead_id = l.id AND g.tag = ?)",
        "l.id",
        ("warm",),
    ),
    "list --limit 50 --owner carol": (["--owner", "carol"], "AND lower(l.owner) = ?", "l.id", ("carol",)),
}


def run(db: Path, size: int) -> list[dict]:
    """Rows for the list variants and for show, each against hand-written SQL."""
    rows = []
    for name, (options, where, order, params) in LISTS.items():
        pipectl = time_cli(["list", "--limit", "50", *options, "--format", "json"], db)
        baseline = time_sql(db, LIST_SQL.format(where=where, order=order), params)
        check_same(name, [lead["id"] for lead in pipectl.json()], [found[0] for found in baseline.json()])
        rows.append(row(name, size, pipectl, baseline, "sqlite3 (same rows, tags, fields)"))

    for label, lead_id in (
        ("show (first lead)", 1),
        ("show (middle lead)", max(1, size // 2)),
        ("show (last lead)", size),
    ):
        pipectl = time_cli(["show", str(lead_id), "--format", "json"], db)
        baseline = time_queries(
            db,
            [
                ("SELECT l.*, s.name FROM leads l JOIN stages s ON s.id = l.stage_id WHERE l.id = ?", (lead_id,)),
                ("SELECT tag FROM lead_tags WHERE lead_id = ? ORDER BY tag", (lead_id,)),
                ("SELECT key, value FROM lead_fields WHERE lead_id = ? ORDER BY key", (lead_id,)),
                ("SELECT note, due FROM activities WHERE lead_id = ? AND done = 0", (lead_id,)),
                ("SELECT id FROM activities WHERE lead_id = ? ORDER BY at DESC, id DESC", (lead_id,)),
                ("SELECT id, name FROM stages", ()),
            ],
        )
        detail = pipectl.json()
        lead, tags, _fields, _planned, activities, _stages = baseline.json()
        check_same(
            label,
            (detail["id"], detail["tags"], [activity["id"] for activity in detail["activities"]]),
            (lead[0][0], [tag for (tag,) in tags], [activity_id for (activity_id,) in activities]),
        )
        rows.append(row(label, size, pipectl, baseline, "sqlite3 (lead, tags, fields, timeline)"))
    return rows
