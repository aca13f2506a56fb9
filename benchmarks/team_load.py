"""Team commands on a large pipeline: round-robin and claims over 100,000 open unowned leads.

Not a `bench_<topic>` module of benchmarks/run.py (those compare each command with the same SQL in
the sqlite3 shell); this one times the team commands alone, on SQLite and PostgreSQL.

Example: python -m benchmarks.team_load --leads 100000 [--postgres postgresql+psycopg://…/db]

Builds the pipeline once per backend (an import of generated leads, eight owners), then times each
command as a user runs it (a fresh `python -m pipectl` process, wall clock, best of three where the
command can be repeated): `claim --next` (the best unowned lead by score: one index walk, SKIP
LOCKED on PostgreSQL), `claim ID`, `assign --round-robin --limit 1000`, and finally
`assign --round-robin` handing out every lead left. The PostgreSQL database given is wiped.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OWNERS = [f"seller{n}" for n in range(8)]


def pipectl(db: str, *args: str, actor: str = "seller0") -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipectl", "--db", db, "--as", actor, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pipectl {' '.join(args)} failed: {done.stderr}")
    return elapsed, done.stdout


def build(db: str, leads: int, folder: Path) -> float:
    data = folder / "leads.csv"
    with data.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "email", "company_size", "created_at"])
        for n in range(leads):
            writer.writerow([f"Lead {n}", f"lead{n}@example.com", n % 1000, "2026-01-01"])
    seconds, _ = pipectl(db, "import", str(data))
    for name in OWNERS:
        pipectl(db, "owners", "add", name)
    return seconds


def measure(db: str, leads: int) -> list[tuple[str, float]]:
    results = []
    results.append(("claim --next", min(pipectl(db, "claim", "--next", actor=OWNERS[n])[0] for n in range(3))))
    results.append(("claim ID", min(pipectl(db, "claim", str(leads - n), actor=OWNERS[n])[0] for n in range(3))))
    results.append(
        (
            "assign --round-robin --limit 1000",
            min(pipectl(db, "assign", "--round-robin", "--limit", "1000")[0] for _ in range(3)),
        )
    )
    seconds, _ = pipectl(db, "assign", "--round-robin", "-f", "csv")
    results.append((f"assign --round-robin (all {leads - 3006:,} left)", seconds))
    return results


def wipe_postgres(url: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from sqlalchemy import create_engine, text

    from pipectl.storage.models import SQLModel

    engine = create_engine(url)
    with engine.begin() as connection:
        SQLModel.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("PIPECTL_BENCH_POSTGRES_URL"))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        backends = [("sqlite", str(Path(folder) / "team.db"))]
        if options.postgres:
            wipe_postgres(options.postgres)
            backends.append(("postgresql", options.postgres))
        print(f"| backend | command | seconds ({options.leads:,} open leads) |")
        print("|---|---|---|")
        for backend, db in backends:
            built = build(db, options.leads, Path(folder))
            print(f"| {backend} | import (set-up) | {built:.2f} |", flush=True)
            for name, seconds in measure(db, options.leads):
                print(f"| {backend} | {name} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
