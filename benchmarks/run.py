"""Run the benchmarks at each size and write the results table.

Example: python -m benchmarks.run --sizes 1000,100000,1000000 --only core,fixed_cost

Every `benchmarks/bench_<topic>.py` module is a topic: it defines
`run(db: Path, size: int) -> list[dict]` (rows from `harness.row`). For each
size, one synthetic pipeline is generated (or reused) and every chosen topic
runs on it. The results go to `benchmarks/results/RESULTS.md` (a Markdown
table with the machine's description) and `results.json`; a run with
`--only` replaces just those topics' rows and keeps the others.
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
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.generate import generate

HERE = Path(__file__).parent
RESULTS = HERE / "results"
DEFAULT_DATA = Path(tempfile.gettempdir()) / "pipectl-bench"


def topics() -> list[str]:
    """Every benchmark topic: the `bench_<topic>.py` modules beside this file."""
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def run(
    sizes: list[int], only: list[str] | None = None, data: Path = DEFAULT_DATA, seed: int = 7, out: Path = RESULTS
) -> dict:
    """Run the chosen topics at every size; returns (and writes) the merged results."""
    chosen = only or topics()
    unknown = sorted(set(chosen) - set(topics()))
    if unknown:
        raise SystemExit(f"No benchmark topic {', '.join(unknown)}; the topics are: {', '.join(topics())}.")
    os.environ.setdefault("TZ", "UTC")
    rows, errors = [], []
    for size in sizes:
        started = time.perf_counter()
        db = generate(data / f"leads-{size}.db", size, seed)
        _say(f"{size} leads: database ready in {time.perf_counter() - started:.1f} s ({db})")
        for topic in chosen:
            started = time.perf_counter()
            try:
                module = importlib.import_module(f"benchmarks.bench_{topic}")
                found = module.run(db, size)
            except Exception as error:  # one broken topic must not lose the others' numbers
                errors.append({"topic": topic, "size": size, "error": f"{type(error).__name__}: {error}"})
                _say(f"  {topic}: FAILED: {error}")
                traceback.print_exc(file=sys.stderr)
                continue
            for found_row in found:
                rows.append({"topic": topic, **found_row})
                _say(f"  {topic}: {_line(found_row)}")
            _say(f"  {topic}: done in {time.perf_counter() - started:.1f} s")
    results = _merge(out / "results.json", rows, errors, chosen, sizes)
    write(results, out)
    return results


def _merge(previous_file: Path, rows: list[dict], errors: list[dict], chosen: list[str], sizes: list[int]) -> dict:
    # Keep rows of topics and sizes this run did not touch, so topics can be rerun one at a time.
    kept_rows, kept_errors = [], []
    if previous_file.exists():
        try:
            previous = json.loads(previous_file.read_text())
            replaced = lambda item: item.get("topic") in chosen and item.get("size") in sizes  # noqa: E731
            kept_rows = [item for item in previous.get("rows", []) if not replaced(item)]
            kept_errors = [item for item in previous.get("errors", []) if not replaced(item)]
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


def markdown(results: dict) -> str:
    """The results as a Markdown page: the machine, then one table row per measurement."""
    machine_info = results["machine"]
    lines = [
        "# pipectl benchmark results",
        "",
        f"Run {machine_info['date']} at commit `{machine_info['commit']}` with "
        "`python -m benchmarks.run --sizes …` (see `benchmarks/run.py`).",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine_info.items() if key not in ("date", "commit")),
        "",
        "Times are the best of 3 fresh processes (start-up included): wall seconds, and CPU seconds "
        "(user + system, steadier when the machine is busy); peak MB is the largest resident set. "
        "`ratio` = pipectl / baseline.",
        "",
        "| benchmark | size | pipectl s | baseline | baseline s | ratio | pipectl CPU s | baseline CPU s "
        "| CPU ratio | peak MB (pipectl) | peak MB (baseline) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for item in results["rows"]:
        lines.append(
            f"| {item['benchmark']} | {item['size']:,} | {item['pipectl_s']:.3f} | {item['baseline']} | "
            f"{item['baseline_s']:.3f} | {item['ratio']} | {_cell(item.get('pipectl_cpu_s'))} | "
            f"{_cell(item.get('baseline_cpu_s'))} | {_cell(item.get('cpu_ratio'))} | {item['pipectl_peak_mb']} | "
            f"{item['baseline_peak_mb']} |"
        )
    if results.get("errors"):
        lines += ["", "## Failed topics", ""]
        lines += [f"- {item['topic']} at {item['size']:,}: {item['error']}" for item in results["errors"]]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    return "–" if value is None else str(value)


def machine() -> dict:
    """What the numbers were measured on."""
    from pipectl import __version__

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_commit(),
        "CPU": _cpu_model(),
        "cores": os.cpu_count(),
        "memory": _memory(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "pipectl": __version__,
    }


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
        f"(×{item['ratio']}, CPU ×{_cell(item.get('cpu_ratio'))}), {item['pipectl_peak_mb']} MB"
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _sizes(text: str) -> list[int]:
    try:
        return [int(part.replace("_", "").strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes numbers separated by commas, not {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """The command line: python -m benchmarks.run --sizes 1000,100000 [--only TOPIC,…]."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[1000, 100_000],
        help="Lead counts, e.g. 1000,100000,1000000 (default 1000,100000).",
    )
    parser.add_argument(
        "--only",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        help=f"Only these topics (of: {', '.join(topics())}).",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"Where generated databases are kept and reused (default {DEFAULT_DATA}).",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Where RESULTS.md and results.json go.")
    parser.add_argument("--seed", type=int, default=7, help="Generator seed.")
    options = parser.parse_args(argv)
    results = run(options.sizes, options.only, options.data, options.seed, options.out)
    _say(f"Wrote {options.out / 'RESULTS.md'} ({len(results['rows'])} rows, {len(results['errors'])} failed).")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
