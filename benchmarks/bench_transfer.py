"""`pipectl export` and `pipectl import` against the sqlite3 shell doing the same file work.

Example: python -m benchmarks.run --sizes 1000,100000 --only transfer

Export: `pipectl export --format csv -o FILE` (every lead, the JSON contract's
columns, tags, custom fields, next action, dates formatted, formulas
neutralised) against `sqlite3 -csv` writing the same leads joined with their
stage, tags, custom fields and next action (dates left as integers).
Import: that CSV (company names made unique, so that pipectl's duplicate
rule, name + company, lets every row in) into an empty pipeline with
`pipectl import`, which validates every row and writes leads, tags, custom
fields and a history (created / won / lost / next action), against the
shell's `.import --csv` of the same file into a plain table. Both sides are
checked to hold the same lead ids before a ratio is reported.
"""

import csv
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import bench_env, check_same, row, time_cli, time_shell

SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"
EXPORT_SQL = """
SELECT l.id, l.name, l.company, l.email, l.phone, l.title, l.industry, l.company_size, l.location, l.source,
       l.owner, l.value_cents / 100.0 AS value, s.name AS stage, l.status, l.score,
       (SELECT group_concat(tag, '; ') FROM (SELECT tag FROM lead_tags t WHERE t.lead_id = l.id ORDER BY tag))
           AS tags,
       a.note AS next_action, a.due AS next_action_due, l.created_at, l.updated_at, l.stage_entered_at,
       l.last_activity_at, l.closed_at, l.lost_reason, l.archived_reason, l.archived_at,
       l.budget, l.budget_note, l.authority, l.authority_note, l.need, l.need_note, l.timeline, l.timeline_note,
       (SELECT group_concat(key || '=' || value, '; ') FROM lead_fields f WHERE f.lead_id = l.id) AS fields
FROM leads l JOIN stages s ON s.id = l.stage_id
LEFT JOIN activities a ON a.lead_id = l.id AND a.done = 0
ORDER BY l.id
"""


def run(db: Path, size: int) -> list[dict]:
    """Export and import of every lead, each against the sqlite3 shell."""
    work = db.with_name(f"{db.stem}.transfer")
    work.mkdir(exist_ok=True)
    repeat = 3 if size <= 10_000 else 1
    exported, baseline_csv = work / "export.csv", work / "baseline.csv"

    pipectl = time_cli(["export", "--what", "leads", "--format", "csv", "-o", exported], db, repeat=repeat)
    baseline = time_shell(
        [SQLITE, "-readonly", db, ".headers on", ".mode csv", f".output {baseline_csv}", EXPORT_SQL], repeat=repeat
    )
    check_same("export", _ids(exported), _ids(baseline_csv))
    rows = [row("export --format csv (all leads)", size, pipectl, baseline, "sqlite3 -csv (same leads)")]

    source = work / "import.csv"
    _distinct_companies(exported, source)
    empty, target, plain = work / "empty.db", work / "target.db", work / "plain.db"
    _create_pipeline(empty)
    pipectl = time_cli(["import", source], target, repeat=repeat, prepare=lambda: _restore(empty, target))
    baseline = time_shell(
        [SQLITE, plain, f".import --csv {source} plain"], repeat=repeat, prepare=lambda: plain.unlink(missing_ok=True)
    )
    check_same(
        "import",
        _count(target, "SELECT count(*), min(id), max(id) FROM leads"),
        _count(plain, "SELECT count(*), min(CAST(id AS INTEGER)), max(CAST(id AS INTEGER)) FROM plain"),
    )
    rows.append(
        row(
            "import CSV (all leads, validated, with history)",
            size,
            pipectl,
            baseline,
            "sqlite3 .import --csv (plain table)",
        )
    )
    return rows


def _ids(path: Path) -> list[int]:
    with open(path, encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        next(reader)
        return [int(cells[0]) for cells in reader]


def _distinct_companies(source: Path, target: Path) -> None:
    """The exported CSV with each company suffixed by the lead id: the generator reuses name + company."""
    with open(source, encoding="utf-8", newline="") as inp, open(target, "w", encoding="utf-8", newline="") as out:
        reader, writer = csv.reader(inp), csv.writer(out, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        company = header.index("company")
        for cells in reader:
            if cells[company]:
                cells[company] = f"{cells[company]} {cells[0]}"
            writer.writerow(cells)


def _create_pipeline(path: Path) -> None:
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pipectl", "--db", str(path), "stages", "list"],
        check=True,
        env=bench_env(),
        stdout=subprocess.DEVNULL,
    )


def _restore(empty: Path, target: Path) -> None:
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(empty, target)


def _count(path: Path, sql: str) -> tuple:
    connection = sqlite3.connect(path)
    try:
        return tuple(connection.execute(sql).fetchone())
    finally:
        connection.close()
