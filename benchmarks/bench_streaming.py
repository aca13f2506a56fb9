"""Streaming export and bulk import against the tools that do the same file work without rules.

Example: python -m benchmarks.bench_streaming --db /work/bench-data/p100000.db \
             --sqlite-utils /work/venv-bench/bin/sqlite-utils

Export: `pipectl export --format csv` and `--format jsonl` (every lead, the
contract's columns, tags, custom fields, next action, BANT, dates formatted,
formulas neutralised) against `sqlite3 -csv` printing the same leads and
columns (tags and fields aggregated, dates left as integers); both sides are
checked to list the same lead ids in the same order. Import: that CSV (company
names made unique, so that every row passes the duplicate rule) into an empty
pipeline with `pipectl import` (validation, duplicate checks, history, one
transaction) against `sqlite-utils insert --csv` of the same file into a plain
table (no validation, no history); both are checked to hold the same ids.
Times are CPU seconds (user + system, best of the runs), steadier than wall
time on a shared machine; the wall time and the peak memory are printed too.
"""

import argparse
import csv
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Timing, bench_env, check_same, restore, time_cli, time_shell

SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"
EXPORT_SQL = """
SELECT l.id, l.name, l.company, l.email, l.phone, l.title, l.industry, l.company_size, l.location, l.source,
       l.owner, l.value_cents / 100.0 AS value, s.name AS stage, l.status, l.score,
       (SELECT group_concat(tag, '; ') FROM (SELECT tag FROM lead_tags t WHERE t.lead_id = l.id ORDER BY tag))
           AS tags,
       a.note AS next_action, a.due AS next_action_due, l.created_at, l.updated_at, l.stage_entered_at,
       l.last_activity_at, l.closed_at, l.lost_reason, l.archived_reason,
       (SELECT json_group_object(key, value) FROM lead_fields f WHERE f.lead_id = l.id) AS fields,
       l.archived_at, l.budget, l.budget_note, l.authority, l.authority_note, l.need, l.need_note,
       l.timeline, l.timeline_note
FROM leads l JOIN stages s ON s.id = l.stage_id
LEFT JOIN activities a ON a.lead_id = l.id AND a.done = 0
ORDER BY l.id
"""


def export(db: Path, work: Path, repeat: int) -> list[tuple[str, Timing, Timing]]:
    baseline_csv = work / "baseline.csv"
    baseline = time_shell(
        [SQLITE, "-readonly", db, ".headers on", ".mode csv", f".output {baseline_csv}", EXPORT_SQL], repeat=repeat
    )
    results = []
    for fmt in ("csv", "jsonl"):
        exported = work / f"export.{fmt}"
        pipectl = time_cli(["export", "--format", fmt, "-o", exported], db, repeat=repeat)
        check_same(f"export {fmt}", _ids(exported, fmt), _ids(baseline_csv, "csv"))
        results.append((f"export --format {fmt}", pipectl, baseline))
    return results


def import_(work: Path, sqlite_utils: str, repeat: int) -> tuple[str, Timing, Timing]:
    source, empty, target, plain = (work / "import.csv", work / "empty.db", work / "target.db", work / "plain.db")
    _distinct_companies(work / "export.csv", source)
    _create_pipeline(empty)
    pipectl = time_cli(["import", source], target, repeat=repeat, prepare=lambda: restore(empty, target))
    baseline = time_shell(
        [sqlite_utils, "insert", plain, "plain", source, "--csv"],
        repeat=repeat,
        prepare=lambda: plain.unlink(missing_ok=True),
    )
    check_same(
        "import",
        _count(target, "SELECT count(*), min(id), max(id) FROM leads"),
        _count(plain, "SELECT count(*), min(CAST(id AS INTEGER)), max(CAST(id AS INTEGER)) FROM plain"),
    )
    return "import CSV", pipectl, baseline


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


def _ids(path: Path, fmt: str) -> list[int]:
    with open(path, encoding="utf-8", newline="") as file:
        if fmt == "jsonl":
            return [json.loads(line)["id"] for line in file]
        reader = csv.reader(file)
        next(reader)
        return [int(cells[0]) for cells in reader]


def _count(path: Path, sql: str) -> tuple:
    connection = sqlite3.connect(path)
    try:
        return tuple(connection.execute(sql).fetchone())
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="A pipeline built by benchmarks.generate.")
    parser.add_argument(
        "--sqlite-utils",
        default=shutil.which("sqlite-utils"),
        help="The sqlite-utils command (install it outside pipectl's environment).",
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-import", action="store_true")
    options = parser.parse_args()
    work = options.db.with_name(f"{options.db.stem}.streaming")
    work.mkdir(exist_ok=True)
    results = export(options.db, work, options.repeat)
    if not options.skip_import:
        if not options.sqlite_utils:
            parser.error("sqlite-utils not found; give --sqlite-utils PATH (or --skip-import).")
        results.append(import_(work, options.sqlite_utils, options.repeat))
    size = _count(options.db, "SELECT count(*) FROM leads")[0]
    print(
        f"{'benchmark':<22} {'leads':>9} {'cpu s':>8} {'base cpu':>8} {'ratio':>6} {'wall s':>8} "
        f"{'base wall':>9} {'peak MB':>8} {'base MB':>8}"
    )
    for name, pipectl, baseline in results:
        print(
            f"{name:<22} {size:>9,} {pipectl.cpu_seconds:>8.2f} {baseline.cpu_seconds:>8.2f} "
            f"{pipectl.cpu_seconds / baseline.cpu_seconds:>6.2f} {pipectl.seconds:>8.2f} {baseline.seconds:>9.2f} "
            f"{pipectl.peak_mb:>8.1f} {baseline.peak_mb:>8.1f}"
        )


if __name__ == "__main__":
    main()
