"""Fixed cost: what a pipectl process costs beyond starting Python and importing its libraries.

Example: python -m benchmarks.run --sizes 1000,100000 --only fixed_cost

`--help` and `--version` are measured against `python -c "import typer"`
(they must not load SQLAlchemy); `show`, `add` and `move` against a bare
process that only imports pipectl's dependencies. Run at every size, the
single-lead rows must stay flat from 1,000 to 1,000,000 leads.
"""

import sqlite3
import sys
from pathlib import Path

from benchmarks.harness import BenchmarkError, best_of, check_same, row, scratch_copy, time_cli, time_shell

DEPENDENCIES = "import typer, rich, sqlmodel, sqlalchemy, pydantic, dateutil, platformdirs, alembic"


def run(db: Path, size: int) -> list[dict]:
    """Rows for --help, --version, show, add and move on a pipeline of `size` leads."""
    bare_typer = time_shell([sys.executable, "-c", "import typer"])
    bare_deps = time_shell([sys.executable, "-c", DEPENDENCIES])
    rows = []

    help_run = time_cli(["--help"], db)
    if "Usage" not in help_run.stdout:
        raise BenchmarkError("pipectl --help printed no usage")
    rows.append(row("--help", size, help_run, bare_typer, "python -c 'import typer'"))
    version_run = time_cli(["--version"], db)
    if not version_run.stdout.startswith("pipectl "):
        raise BenchmarkError(f"pipectl --version printed {version_run.stdout!r}")
    rows.append(row("--version", size, version_run, bare_typer, "python -c 'import typer'"))

    middle = size // 2 or 1
    show_run = time_cli(["show", str(middle), "--format", "json"], db)
    check_same("show (fixed cost)", show_run.json()["id"], middle)
    rows.append(row("show (single lead)", size, show_run, bare_deps, "python -c 'import <deps>'"))

    # Writes go to a scratch copy so the generated file stays reusable.
    work = scratch_copy(db, "fixed-cost")
    add_run = time_cli(["add", "Bench Lead", "--value", "5k", "--tag", "bench", "--field", "department=IT"], work)
    check_same("add (fixed cost)", int(add_run.stdout.strip()), _scalar(work, "SELECT max(id) FROM leads"))
    rows.append(row("add (single lead)", size, add_run, bare_deps, "python -c 'import <deps>'"))

    movable = [
        lead_id
        for (lead_id,) in _rows(
            work,
            "SELECT l.id FROM leads l JOIN stages s ON s.id = l.stage_id "
            "WHERE l.status = 'open' AND s.position = 1 ORDER BY l.id LIMIT 3",
        )
    ]
    moves = [time_cli(["move", str(lead_id), "Qualification"], work, repeat=1) for lead_id in movable]
    moved = _rows(
        work,
        "SELECT l.id FROM leads l JOIN stages s ON s.id = l.stage_id "
        f"WHERE s.name = 'Qualification' AND l.id IN ({', '.join('?' * len(movable))}) ORDER BY l.id",
        movable,
    )
    check_same("move (fixed cost)", [lead_id for (lead_id,) in moved], movable)
    rows.append(row("move (single lead)", size, best_of(moves), bare_deps, "python -c 'import <deps>'"))
    for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        stale.unlink(missing_ok=True)
    return rows


def _rows(db: Path, sql: str, params=()) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def _scalar(db: Path, sql: str):
    return _rows(db, sql)[0][0]
