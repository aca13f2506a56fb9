"""Run the benchmark suite at each size and write RESULTS.md and results.json.

Example: python -m benchmarks.run --data /work/bench-data            (10,000, 100,000 and 1,000,000 leads)
         python -m benchmarks.run --sizes 1000 --repeat 1 --out /tmp/smoke   (the CI smoke run)

Every `benchmarks/bench_<topic>.py` module is a topic: it defines
`run(db: Path, size: int) -> list[dict]` (rows from `harness.row`). For each
size, one synthetic pipeline is generated (or reused) and every chosen topic
runs on it; topics marked `RUNS_ON_EMPTY` also run on a new pipeline of a few
leads (size 0), and those marked `ONLY_EMPTY` only there. The results go to
`benchmarks/results/RESULTS.md` (goals, every measurement, growth exponents,
start-up, the exact baselines: see report.py) and `results.json`. A run with
`--only` or `--sizes` merges into the existing results.json: it replaces the
rows of the topics and sizes it measured and keeps the others, each row naming
the run (commit and date) that measured it, so one topic can be re-measured
without re-running everything.
"""

import argparse
import importlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import harness
from benchmarks.generate import generate
from benchmarks.report import EMPTY, markdown

HERE = Path(__file__).parent
RESULTS = HERE / "results"
DEFAULT_DATA = Path(os.environ.get("PIPECTL_BENCH_DATA") or Path(tempfile.gettempdir()) / "pipectl-bench")
DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
# Leads in the "empty" pipeline: enough for the single-lead commands to move and log on different leads.
EMPTY_LEADS = 24


def topics() -> list[str]:
    """Every benchmark topic: the `bench_<topic>.py` modules beside this file."""
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def run(
    sizes: list[int],
    only: list[str] | None = None,
    data: Path = DEFAULT_DATA,
    seed: int = 7,
    out: Path = RESULTS,
    repeat: int | None = None,
    empty: bool = True,
    command: str | None = None,
    pycache: Path | None = None,
) -> dict:
    """Run the chosen topics at every size (and on the empty pipeline); returns (and writes) the results.

    `pycache` is where measured processes keep compiled bytecode (default: DATA/pycache).
    """
    chosen = only or topics()
    unknown = sorted(set(chosen) - set(topics()))
    if unknown:
        raise SystemExit(f"No benchmark topic {', '.join(unknown)}; the topics are: {', '.join(topics())}.")
    harness.sqlite3_shell()  # every baseline needs it: say so before building anything
    os.environ.setdefault("TZ", "UTC")
    data = Path(data)
    data.mkdir(parents=True, exist_ok=True)
    harness.PYCACHE = pycache or data / "pycache"
    harness.MAX_REPEAT = repeat
    _warm_up()
    rows, errors = [], []
    # Each row says which run measured it: a later partial run keeps the rows it did not re-measure.
    stamp = {"commit": _git_commit(), "date": _now()}
    plan = ([EMPTY] if empty else []) + list(sizes)
    for size in plan:
        started = time.perf_counter()
        db = _empty_pipeline(data / "empty.db") if size == EMPTY else generate(data / f"leads-{size}.db", size, seed)
        _say(f"{size} leads: database ready in {time.perf_counter() - started:.1f} s ({db})")
        for topic in chosen:
            module = importlib.import_module(f"benchmarks.bench_{topic}")
            on_empty, only_empty = getattr(module, "RUNS_ON_EMPTY", False), getattr(module, "ONLY_EMPTY", False)
            if (size == EMPTY and not (on_empty or only_empty)) or (size != EMPTY and only_empty):
                continue
            started = time.perf_counter()
            try:
                found = module.run(db, size)
            except harness.MissingShell:
                raise
            except Exception as error:  # one broken topic must not lose the others' numbers
                errors.append({"topic": topic, "size": size, "error": f"{type(error).__name__}: {error}", "run": stamp})
                _say(f"  {topic}: FAILED: {error}")
                traceback.print_exc(file=sys.stderr)
                continue
            for found_row in found:
                rows.append(_hide_paths({"topic": topic, **found_row, "run": stamp}, data))
                _say(f"  {topic}: {_line(found_row)}")
            _say(f"  {topic}: done in {time.perf_counter() - started:.1f} s")
    results = _merge(out / "results.json", rows, errors, chosen, plan)
    results["machine"]["command"] = command or "python -m benchmarks.run"
    write(results, out)
    return results


def _warm_up() -> None:
    """Compile pipectl and its libraries into the bytecode cache once, untimed (an installed package has it)."""
    code = (
        "import pkgutil, importlib, pipectl\n"
        "for module in pkgutil.walk_packages(pipectl.__path__, 'pipectl.'):\n"
        "    if '.migrations' not in module.name and module.name != 'pipectl.__main__':\n"
        "        importlib.import_module(module.name)\n"
        "import sqlmodel, typer, rich.console, rich.table, alembic.command, dateutil.parser, icalendar"
    )
    subprocess.run([sys.executable, "-c", code], env=harness.bench_env(), check=True, timeout=600)


def _empty_pipeline(path: Path) -> Path:
    """A new pipeline (pipectl's own schema and default stages) holding a few open leads, rebuilt each run."""
    from pipectl.storage.schema import open_database

    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    open_database(str(path)).close()
    connection = sqlite3.connect(path)
    now = int(datetime.fromisoformat(harness.FIXED_NOW).replace(tzinfo=UTC).timestamp())
    with connection:
        first = connection.execute("SELECT id FROM stages WHERE removed = 0 ORDER BY position LIMIT 1").fetchone()[0]
        for number in range(1, EMPTY_LEADS + 1):
            lead_id = connection.execute(
                "INSERT INTO leads (name, stage_id, status, score, created_at, updated_at, stage_entered_at, "
                "last_activity_at, budget, authority, need, timeline) VALUES (?, ?, 'open', 0, ?, ?, ?, ?, "
                "'unknown', 'unknown', 'unknown', 'unknown')",
                (f"Lead {number}", first, now - 86400, now - 86400, now - 86400, now - 86400),
            ).lastrowid
            connection.execute(
                "INSERT INTO activities (lead_id, kind, at, done, to_stage_id, recorded_at, data) "
                "VALUES (?, 'created', ?, 1, ?, ?, 'null')",
                (lead_id, now - 86400, first, now),
            )
    connection.close()
    return path


def _hide_paths(item: dict, data: Path) -> dict:
    # The scripts name files in the data folder; RESULTS.md shows them relative to it.
    for key in ("baseline_script", "command"):
        if isinstance(item.get(key), str):
            item[key] = item[key].replace(str(data), "$DATA")
    return item


def _merge(previous_file: Path, rows: list[dict], errors: list[dict], chosen: list[str], sizes: list[int]) -> dict:
    # Keep rows of topics and sizes this run did not touch, so topics can be rerun one at a time.
    kept_rows, kept_errors = [], []
    if previous_file.exists():
        try:
            previous = json.loads(previous_file.read_text())
            # Rows written before rows carried their own stamp were measured by the run the file names.
            earlier = previous.get("machine", {})
            inherited = {"commit": earlier.get("commit", "unknown"), "date": earlier.get("date", "unknown")}
            # Rows of topics that no longer exist (renamed or removed) go too.
            replaced = lambda item: (  # noqa: E731
                (item.get("topic") in chosen and item.get("size") in sizes) or item.get("topic") not in topics()
            )
            kept_rows = [{"run": inherited, **item} for item in previous.get("rows", []) if not replaced(item)]
            kept_errors = [{"run": inherited, **item} for item in previous.get("errors", []) if not replaced(item)]
        except (OSError, ValueError):
            pass
    order = {topic: index for index, topic in enumerate(topics())}
    merged = sorted(kept_rows + rows, key=lambda item: (order.get(item["topic"], 99), item["size"]))
    return {"machine": machine(), "rows": merged, "errors": kept_errors + errors}


def write(results: dict, out: Path = RESULTS) -> None:
    """Write results.json and RESULTS.md."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "RESULTS.md").write_text(markdown(results))


def machine() -> dict:
    """What the numbers were measured on."""
    from pipectl import __version__

    return {
        "date": _now(),
        "commit": _git_commit(),
        "CPU": _cpu_model(),
        "cores": os.cpu_count(),
        "memory": _memory(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "SQLite (Python's)": sqlite3.sqlite_version,
        "sqlite3 shell": harness.sqlite3_version(),
        "pipectl": __version__,
        # Other work on the machine inflates wall time most: the goals are judged on CPU time.
        "load average (1, 5, 15 min) at the end": ", ".join(f"{load:.1f}" for load in os.getloadavg()),
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def _git_commit() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _line(item: dict) -> str:
    return (
        f"{item['benchmark']}: {item['pipectl_s']:.3f} s vs {item['baseline']} {item['baseline_s']:.3f} s "
        f"(×{item['ratio']}, CPU ×{item.get('cpu_ratio')}), {item['pipectl_peak_mb']} MB"
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "").strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes numbers separated by commas, not {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes are lead counts of at least 1")
    return sizes


def main(argv: list[str] | None = None) -> int:
    """The command line: python -m benchmarks.run [--sizes 10000,100000,1000000] [--only TOPIC,…]."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=_sizes, default=DEFAULT_SIZES, help="Lead counts (default 10000,100000,1000000)."
    )
    parser.add_argument(
        "--only",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        help=f"Only these topics (of: {', '.join(topics())}).",
    )
    parser.add_argument("--no-empty", action="store_true", help="Skip the empty pipeline (size 0).")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"Where generated databases are kept and reused (default $PIPECTL_BENCH_DATA or "
        f"{DEFAULT_DATA}); keep it outside the repository.",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where RESULTS.md and results.json go.")
    parser.add_argument("--repeat", type=int, default=None, help="At most this many runs per measurement.")
    parser.add_argument("--seed", type=int, default=7, help="Generator seed.")
    options = parser.parse_args(argv)
    try:
        results = run(
            options.sizes,
            options.only,
            options.data,
            options.seed,
            options.out,
            options.repeat,
            empty=not options.no_empty,
            command="python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        )
    except harness.MissingShell as error:
        _say(f"Error: {error}")
        return 2
    _say(f"Wrote {options.out / 'RESULTS.md'} ({len(results['rows'])} rows, {len(results['errors'])} failed).")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
