"""The journal's cost (issue 18): `pipectl import` with the journal's triggers, against the same import without them.

Example: python -m benchmarks.run --sizes 100000 --only journal

The file is the transfer topic's (every lead exported, each company made
unique so that every row goes in). The baseline is pipectl itself importing
it into the same empty pipeline with the journal's triggers dropped (by the
sqlite3 module): the `commands` row is still written, no row is journaled, so
the ratio is what journaling costs an import. The goal is at most 1.2 (20 %
more) at 100,000 rows. The runs alternate, with and without, so a busy
machine slows both alike. Both pipelines must hold the same leads, tags and
custom fields before a ratio is reported.

A second row times `pipectl undo` of that import against the import itself,
and checks it leaves the pipeline empty.
"""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from benchmarks import harness
from benchmarks.bench_transfer import IMPORTED, _count, _create_pipeline, _distinct_companies, _restore
from benchmarks.harness import bench_env, best_of, check_same, row, time_cli

IMPORT = "import CSV (all leads, with the journal)"


def run(db: Path, size: int) -> list[dict]:
    work = db.with_name(f"{db.stem}.journal")
    work.mkdir(exist_ok=True)
    # The smoke run's --repeat 1 caps this loop too (each pass is two whole imports).
    repeat = min(3 if size <= 10_000 else 2, harness.MAX_REPEAT or 3)
    exported, source = work / "export.csv", work / "import.csv"
    _pipectl(db, "export", "--what", "leads", "--format", "csv", "-o", exported)
    _distinct_companies(exported, source)

    empty, bare_empty = work / "empty.db", work / "bare-empty.db"
    _create_pipeline(empty)
    shutil.copyfile(empty, bare_empty)
    _drop_triggers(bare_empty)
    target, bare = work / "target.db", work / "bare.db"
    journaled, plain = [], []
    for _ in range(repeat):
        journaled.append(time_cli(["import", source], target, repeat=1, prepare=lambda: _restore(empty, target)))
        plain.append(time_cli(["import", source], bare, repeat=1, prepare=lambda: _restore(bare_empty, bare)))
    check_same("journal: import", _count(target, IMPORTED), _count(bare, IMPORTED))
    with_journal, without = best_of(journaled), best_of(plain)
    # The baselines are pipectl runs too: their "script" says exactly what they ran.
    without.script = (
        f"(triggers dropped with sqlite3: DROP TRIGGER journal_*) python -m pipectl --db {bare} import {source}"
    )
    rows = [
        row(
            IMPORT,
            size,
            with_journal,
            without,
            "pipectl import without the journal's triggers (same file, same empty pipeline)",
            command="pipectl import FILE.csv",
        )
    ]

    imported = work / "imported.db"
    with_journal.script = f"python -m pipectl --db {target} import {source}"
    shutil.copyfile(target, imported)
    undone = time_cli(["undo"], target, repeat=repeat, prepare=lambda: _restore(imported, target))
    check_same("journal: undo", _count(target, "SELECT count(*) FROM leads"), (0,))
    rows.append(
        row(
            "undo of that import",
            size,
            undone,
            with_journal,
            "pipectl import with the journal (the command undone)",
            command="pipectl undo",
        )
    )
    return rows


def _pipectl(db: Path, *args) -> None:
    subprocess.run(
        [sys.executable, "-m", "pipectl", "--db", str(db), *[str(arg) for arg in args]],
        check=True,
        env=bench_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _drop_triggers(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        # The journal's triggers only: the search index's triggers are part of both imports' work.
        names = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'journal\\_%' ESCAPE '\\'"
            )
        ]
        for name in names:
            connection.execute(f'DROP TRIGGER "{name}"')
        connection.commit()
    finally:
        connection.close()
