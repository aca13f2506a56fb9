"""Team commands on a large pipeline: claims and round-robin over 100,000 open unowned leads, each against
the same work done by hand-written SQL on the same data in the same run, on SQLite and PostgreSQL.

Example: python -m benchmarks.team_load --leads 100000 --postgres postgresql+psycopg://postgres@127.0.0.1:5444/postgres

Not a `bench_<topic>` module of benchmarks/run.py (those build SQLite files only); it uses the same
harness. Each backend's pipeline is built once (an import of generated leads, eight owners). Every
run starts from that state: pipectl on one copy, the baseline on another (SQLite: a copy of the
file, run by the `sqlite3` shell; PostgreSQL: `CREATE DATABASE … TEMPLATE …`, run by `psql`), runs
alternating so both see the same load. Before any ratio, both copies must hold the same answer
(benchmarks/team_sql.STATE: the same owner on every lead, the same assignments and activities, the
same turn, the same scores). CPU is user + system time of the process and its children; on
PostgreSQL it adds the server's CPU over the run (the postmaster and its children, from /proc: the
server must run on this machine), since there the work happens in the server. The table and the
exact SQL go to benchmarks/results/TEAM.md. The databases it makes on the server are dropped after.
"""

import argparse
import csv
import os
import platform
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import team_sql
from benchmarks.harness import (
    Timing,
    best_of,
    check_same,
    restore,
    sqlite3_version,
    time_cli,
    time_shell,
    time_sqlite3,
)

OWNERS = [f"seller{n}" for n in range(8)]
RESULTS = Path(__file__).resolve().parent / "results" / "TEAM.md"
TICK = os.sysconf("SC_CLK_TCK")


class Side:
    """One copy of the built pipeline that a measured command runs on, restored before each run."""

    def __init__(self, backend: str, target: str, restore_from: Callable[[], None], state_url: str | None = None):
        self.backend, self.target, self.restore = backend, target, restore_from
        self.state_url = state_url or target

    def state(self) -> list:
        if self.backend == "sqlite":
            with sqlite3.connect(self.target) as connection:
                return [connection.execute(sql).fetchall() for sql in team_sql.STATE]
        from sqlalchemy import create_engine, text

        engine = create_engine(self.state_url)
        try:
            with engine.connect() as connection:
                return [[tuple(row) for row in connection.execute(text(sql))] for sql in team_sql.STATE]
        finally:
            engine.dispose()


class Postgres:
    """The server: databases made from a template, psql, and the server's CPU time from /proc."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.url = make_url(url)
        self.admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            folder = connection.execute(text("SHOW data_directory")).scalar_one()
        self.postmaster = int(Path(folder, "postmaster.pid").read_text().split()[0])
        self.made: list[str] = []

    def database(self, name: str, template: str | None = None) -> str:
        from sqlalchemy import text

        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        if name not in self.made:
            self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def libpq(self, name: str) -> str:
        return self.url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as connection:
            for name in self.made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()

    def cpu(self) -> float:
        """Seconds of CPU the server used so far: the postmaster with its reaped children (backends
        that exited), plus the children still running."""
        total = _stat_ticks(self.postmaster, children=True)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and entry.name != str(self.postmaster):
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.postmaster:
                    total += int(fields[11]) + int(fields[12])
        return total / TICK

    def timed(self, run: Callable[[], Timing]) -> Timing:
        before = self.cpu()
        timing = run()
        time.sleep(0.3)  # the backend exits after the client: its CPU reaches the postmaster's children
        timing.cpu_seconds = (timing.cpu_seconds or 0.0) + self.cpu() - before
        return timing


def _stat_ticks(pid: int, *, children: bool) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the name: state ppid … utime(11) stime(12) cutime(13) cstime(14).
    return int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)


def build(db: str, leads: int, folder: Path) -> float:
    data = folder / "leads.csv"
    if not data.exists():
        with data.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["name", "email", "company_size", "created_at"])
            for n in range(leads):
                writer.writerow([f"Lead {n}", f"lead{n}@example.com", n % 1000, "2026-01-01"])
    seconds = time_cli(["import", str(data)], db, repeat=1).seconds
    for name in OWNERS:
        time_cli(["owners", "add", name], db, repeat=1)
    return seconds


def commands(leads: int) -> list[tuple[str, list[str], int | None, int | None, bool]]:
    """(name, pipectl arguments, lead id to claim, round-robin limit, is a round-robin)."""
    middle = leads // 2
    return [
        ("claim --next", ["claim", "--next", "-f", "json"], None, None, False),
        (f"claim {middle}", ["claim", str(middle), "-f", "json"], middle, None, False),
        (
            "assign --round-robin --limit 1000",
            ["assign", "--round-robin", "--limit", "1000", "-f", "csv"],
            None,
            1000,
            True,
        ),
        (f"assign --round-robin (all {leads:,})", ["assign", "--round-robin", "-f", "csv"], None, None, True),
    ]


def measure(backend: str, mine: Side, theirs: Side, leads: int, runs: int, server: Postgres | None, folder: Path):
    rows = []
    for name, args, lead_id, limit, is_round_robin in commands(leads):
        pipectl_runs, baseline_runs, script = [], [], ""
        for _attempt in range(runs):
            mine.restore()
            argv = ["--as", team_sql.ACTOR, *args]
            run_pipectl = lambda argv=argv: time_cli(argv, mine.target, repeat=1)  # noqa: E731
            pipectl_runs.append(server.timed(run_pipectl) if server else run_pipectl())
            theirs.restore()
            if backend == "sqlite":
                statements = team_sql.round_robin_sqlite(limit) if is_round_robin else team_sql.claim_sqlite(lead_id)
                timing = time_sqlite3(Path(theirs.target), [], setup=statements, readonly=False, repeat=1)
                script = timing.script or ""
            else:
                assert server is not None
                sql = team_sql.round_robin_postgres(limit) if is_round_robin else team_sql.claim_postgres(lead_id)
                file = folder / "baseline.sql"
                file.write_text(sql, encoding="utf-8")
                argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", theirs.target, "-f", str(file)]
                timing = server.timed(lambda argv=argv: time_shell(argv, repeat=1))
                script = f"psql -X -q -v ON_ERROR_STOP=1 -d DATABASE <<'SQL'\n{sql}SQL"
            baseline_runs.append(timing)
        answer = mine.state()
        check_same(f"{backend} {name}", answer, theirs.state())
        handed = len(answer[0])
        pipectl, baseline = best_of(pipectl_runs), best_of(baseline_runs)
        rows.append((backend, name, pipectl, baseline, handed, script))
        print(
            f"{backend:10} {name:42} pipectl {pipectl.seconds:7.3f} s  baseline {baseline.seconds:7.3f} s  "
            f"cpu {pipectl.cpu_seconds:7.3f} / {baseline.cpu_seconds:7.3f} s  same answer ({handed:,} owned)",
            flush=True,
        )
    return rows


def report(rows: list, leads: int, runs: int, built: dict[str, float], postgres_version: str | None) -> str:
    lines = [
        f"# Team commands on {leads:,} open leads",
        "",
        "Written by `python -m benchmarks.team_load` (do not edit by hand). Each command runs on "
        f"{leads:,} open unowned leads and eight active owners; every run starts from that state "
        f"(best of {runs} runs, pipectl and the baseline alternating). The baseline is the same work in "
        "hand-written SQL on a copy of the same data in the same run: the `sqlite3` shell on SQLite, `psql` on "
        "PostgreSQL. Both copies are compared before a ratio is written: the same owner on every lead, the "
        "same assignments and `assigned` activities, the same round-robin turn, the same scores.",
        "",
        "Ratio = pipectl / baseline (wall time, then CPU). CPU is user + system of the process and its children; "
        "on PostgreSQL plus the server's CPU over the run. pipectl also re-scores the leads it touched and "
        "journals the change for `undo`; the baseline does neither (the scores come out equal), so both "
        "count against pipectl. Every pipectl run also starts Python and its libraries (about 0.3 s of CPU).",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {_commit()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs "
        f"(load average at the end {os.getloadavg()[0]:.1f}); Python {platform.python_version()}, SQLite shell "
        f"{sqlite3_version()}" + (f", {postgres_version}" if postgres_version else "") + ".",
        "",
        "| backend | command | leads owned after | pipectl s | baseline s | ratio | pipectl CPU s | baseline CPU s "
        "| CPU ratio |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for backend, name, pipectl, baseline, handed, _script in rows:
        cpu_ratio = pipectl.cpu_seconds / baseline.cpu_seconds if baseline.cpu_seconds else float("nan")
        lines.append(
            f"| {backend} | `{name}` | {handed:,} | {pipectl.seconds:.3f} | {baseline.seconds:.3f} | "
            f"{pipectl.seconds / baseline.seconds:.1f} | {pipectl.cpu_seconds:.3f} | {baseline.cpu_seconds:.3f} | "
            f"{cpu_ratio:.1f} |"
        )
    lines += ["", "Building the pipeline (untimed set-up, one `pipectl import` of the generated CSV): "]
    lines[-1] += ", ".join(f"{backend} {seconds:.1f} s" for backend, seconds in built.items()) + "."
    lines += ["", "## The baselines' SQL", ""]
    for backend, name, _pipectl, _baseline, _handed, script in rows:
        lines += [f"`pipectl {name}` on {backend}:", "", "```sql", script.rstrip(), "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PIPECTL_BENCH_POSTGRES_URL"),
        help="a server on this machine (any database on it); the benchmark makes and drops its own databases",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    rows, built, version = [], {}, None
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        original = folder / "team.db"
        built["sqlite"] = build(str(original), options.leads, folder)
        mine, theirs = folder / "pipectl.db", folder / "baseline.db"
        rows += measure(
            "sqlite",
            Side("sqlite", str(mine), lambda: restore(original, mine)),
            Side("sqlite", str(theirs), lambda: restore(original, theirs)),
            options.leads,
            options.runs,
            None,
            folder,
        )
        if options.postgres:
            server = Postgres(options.postgres)
            try:
                version = _postgres_version(server)
                built["postgresql"] = build(server.database("pipectl_team_built"), options.leads, folder)
                mine_url = server.url.set(database="pipectl_team_a").render_as_string(hide_password=False)
                theirs_url = server.url.set(database="pipectl_team_b").render_as_string(hide_password=False)
                rows += measure(
                    "postgresql",
                    Side("postgresql", mine_url, lambda: server.database("pipectl_team_a", "pipectl_team_built")),
                    Side(
                        "postgresql",
                        server.libpq("pipectl_team_b"),
                        lambda: server.database("pipectl_team_b", "pipectl_team_built"),
                        theirs_url,
                    ),
                    options.leads,
                    options.runs,
                    server,
                    folder,
                )
            finally:
                server.drop_all()
    options.out.write_text(report(rows, options.leads, options.runs, built, version) + "\n", encoding="utf-8")
    print(f"Wrote {options.out}")


def _commit() -> str:
    found = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


def _postgres_version(server: Postgres) -> str:
    found = subprocess.run(
        ["psql", "-X", "-tA", "-d", server.libpq("postgres"), "-c", "SHOW server_version"],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"PostgreSQL {found.stdout.strip().split()[0]}"


if __name__ == "__main__":
    main()
