"""`pipectl export` and `pipectl import` against the sqlite3 shell doing the same file work.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only transfer

Export: `pipectl export --format csv|jsonl -o FILE` (every lead, the JSON
contract's columns, tags, custom fields, next action, dates formatted,
formulas neutralised) against `sqlite3 -csv` writing the same leads joined
with their stage, tags, custom fields and next action (dates left as
integers). Import: that CSV (company names made unique, so that pipectl's
duplicate rule, name + company, lets every row in) into an empty pipeline
with `pipectl import`, which validates every row and writes leads, tags,
custom fields and a history (created / won / lost / next action), against
the shell's `.import --csv` of the same file into a staging table, then
INSERT … SELECT into pipectl's own tables (leads, tags, fields, the same
history) in one transaction. Both sides are checked to hold the same leads,
values, tags and fields before a ratio is reported. The import is also
measured against `sqlite-utils insert --csv` of the same file into a plain
table (Python too, no validation, no history; both sides hold the same lead
ids): found on PATH or in PIPECTL_BENCH_SQLITE_UTILS, else installed once into
a throwaway virtual environment under the temporary folder (never pipectl's).
"""

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from benchmarks import harness
from benchmarks.generate import NOW_TS
from benchmarks.harness import bench_env, check_same, row, sqlite3_shell, time_cli, time_shell

# Where `sqlite_utils()` installs sqlite-utils when it is not on PATH.
SQLITE_UTILS_VENV = Path(os.environ.get("TMPDIR", "/tmp")) / "pipectl-bench-sqlite-utils"

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
ORDER BY l.id;
"""
# The exported file's columns into pipectl's tables (ISO dates back to epoch seconds, the value to cents,
# the stage name to its id, "a; b" tags and field:KEY columns to rows), with the history import writes.
IMPORT_SQL = f"""BEGIN IMMEDIATE;
INSERT INTO leads (id, name, company, email, phone, title, industry, company_size, location, source, owner,
                   value_cents, stage_id, status, score, created_at, updated_at, stage_entered_at, last_activity_at,
                   closed_at, lost_reason, archived_at, archived_reason, budget, budget_note, authority,
                   authority_note, need, need_note, timeline, timeline_note,
                   name_key, company_key, email_key, owner_key, source_key)
SELECT CAST(i.id AS INTEGER), i.name, nullif(i.company, ''), nullif(i.email, ''), nullif(ltrim(i.phone, ''''), ''),
       nullif(i.title, ''), nullif(i.industry, ''), CAST(nullif(i.company_size, '') AS INTEGER),
       nullif(i.location, ''), nullif(i.source, ''), nullif(i.owner, ''),
       CAST(round(CAST(nullif(i.value, '') AS REAL) * 100) AS INTEGER), s.id, i.status, CAST(i.score AS INTEGER),
       unixepoch(i.created_at), unixepoch(i.updated_at), unixepoch(i.stage_entered_at),
       unixepoch(i.last_activity_at), unixepoch(nullif(i.closed_at, '')), nullif(i.lost_reason, ''),
       unixepoch(nullif(i.archived_at, '')), nullif(i.archived_reason, ''), i.budget, nullif(i.budget_note, ''),
       i.authority, nullif(i.authority_note, ''), i.need, nullif(i.need_note, ''), i.timeline,
       nullif(i.timeline_note, ''),
       -- The folded lookup keys pipectl keeps: lower() is the same fold for the generated (ASCII) text.
       lower(i.name), lower(nullif(i.company, '')), lower(nullif(i.email, '')), lower(nullif(i.owner, '')),
       lower(nullif(i.source, ''))
FROM staging i JOIN stages s ON s.name = i.stage;
INSERT INTO lead_tags (lead_id, tag)
SELECT CAST(i.id AS INTEGER), j.value FROM staging i, json_each('["' || replace(i.tags, '; ', '","') || '"]') j
WHERE i.tags != '';
INSERT INTO lead_fields (lead_id, key, value)
SELECT CAST(id AS INTEGER), 'department', "field:department" FROM staging WHERE "field:department" != ''
UNION ALL
SELECT CAST(id AS INTEGER), 'region', "field:region" FROM staging WHERE "field:region" != '';
INSERT INTO activities (lead_id, kind, at, done, to_stage_id, recorded_at, data)
SELECT id, 'created', created_at, 1, stage_id, {NOW_TS}, 'null' FROM leads;
INSERT INTO activities (lead_id, kind, at, note, done, to_stage_id, recorded_at, data)
SELECT id, status, closed_at, lost_reason, 1, stage_id, {NOW_TS}, 'null' FROM leads WHERE status IN ('won', 'lost');
INSERT INTO activities (lead_id, kind, at, note, due, done, recorded_at, data)
SELECT CAST(id AS INTEGER), 'task', {NOW_TS}, next_action, unixepoch(next_action_due), 0, {NOW_TS}, '{{"revision": 0}}'
FROM staging WHERE next_action != '';
DROP TABLE staging;
COMMIT;"""
# What both imports must agree on: the leads (ids, values), their tags and custom fields.
IMPORTED = (
    "SELECT count(*), min(id), max(id), sum(value_cents), (SELECT count(*) FROM lead_tags), "
    "(SELECT count(*) FROM lead_fields), count(name_key), count(email_key) FROM leads"
)


def run(db: Path, size: int) -> list[dict]:
    """Export (CSV and JSON Lines) and import of every lead, each against the sqlite3 shell."""
    shell = sqlite3_shell()
    work = db.with_name(f"{db.stem}.transfer")
    work.mkdir(exist_ok=True)
    repeat = 3 if size <= 10_000 else 1
    exported, lines, baseline_csv = work / "export.csv", work / "export.jsonl", work / "baseline.csv"

    baseline = time_shell(
        [shell, "-readonly", db, ".headers on", ".mode csv", f".output {baseline_csv}", EXPORT_SQL], repeat=repeat
    )
    rows = []
    for fmt, target in (("csv", exported), ("jsonl", lines)):
        command = ["export", "--what", "leads", "--format", fmt, "-o", target]
        pipectl = time_cli(command, db, repeat=repeat)
        check_same(f"export {fmt}", _ids(target) if fmt == "csv" else _jsonl_ids(target), _ids(baseline_csv))
        rows.append(
            row(
                f"export --format {fmt} (all leads)",
                size,
                pipectl,
                baseline,
                "sqlite3 shell -csv (same leads and columns)",
                command=f"pipectl export --what leads --format {fmt} -o FILE",
            )
        )

    source = work / "import.csv"
    _distinct_companies(exported, source)
    empty, target, plain = work / "empty.db", work / "target.db", work / "plain.db"
    _create_pipeline(empty)
    pipectl = time_cli(["import", source], target, repeat=repeat, prepare=lambda: _restore(empty, target))
    baseline = time_shell(
        [shell, "-bail", plain, f".import --csv {source} staging", IMPORT_SQL],
        repeat=repeat,
        prepare=lambda: _restore(empty, plain),
    )
    check_same("import", _count(target, IMPORTED), _count(plain, IMPORTED))
    rows.append(
        row(
            "import CSV (all leads, validated, with history)",
            size,
            pipectl,
            baseline,
            "sqlite3 shell .import --csv, then INSERT … SELECT into pipectl's tables",
            command="pipectl import FILE.csv",
        )
    )
    utils = sqlite_utils()
    if utils is None:
        print(
            "transfer: no sqlite-utils (not on PATH, none installed): its import row is left out",
            file=sys.stderr,
        )
        return rows
    loose = work / "loose.db"
    baseline = time_shell(
        [utils, "insert", loose, "plain", source, "--csv"], repeat=repeat, prepare=lambda: _remove(loose)
    )
    check_same(
        "import (sqlite-utils)",
        _count(target, "SELECT count(*), min(id), max(id) FROM leads"),
        _count(loose, "SELECT count(*), min(CAST(id AS INTEGER)), max(CAST(id AS INTEGER)) FROM plain"),
    )
    rows.append(
        row(
            "import CSV (all leads, validated, with history)",
            size,
            pipectl,
            baseline,
            "sqlite-utils insert --csv (plain table, no validation)",
            command="pipectl import FILE.csv",
        )
    )
    return rows


def sqlite_utils() -> str | None:
    """The sqlite-utils command: PIPECTL_BENCH_SQLITE_UTILS, PATH, or a throwaway venv it is installed into."""
    found = os.environ.get("PIPECTL_BENCH_SQLITE_UTILS") or shutil.which("sqlite-utils")
    if found:
        return found
    command = SQLITE_UTILS_VENV / "bin" / "sqlite-utils"
    if not command.exists() and harness.INSTALL_TOOLS:
        try:
            subprocess.run([sys.executable, "-m", "venv", str(SQLITE_UTILS_VENV)], check=True, capture_output=True)
            subprocess.run(
                [str(SQLITE_UTILS_VENV / "bin" / "pip"), "install", "--quiet", "sqlite-utils"],
                check=True,
                capture_output=True,
                timeout=600,
            )
        except (OSError, subprocess.SubprocessError):
            return None
    return str(command) if command.exists() else None


def _remove(path: Path) -> None:
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)


def _jsonl_ids(path: Path) -> list[int]:
    with open(path, encoding="utf-8") as file:
        return [json.loads(line)["id"] for line in file if line.strip()]


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
        [sys.executable, "-m", "pipectl", "--db", str(path), "init"],
        check=True,
        env=bench_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
