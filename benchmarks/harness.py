"""Timing pipectl against a baseline: each run is a fresh subprocess, measured by wall time and peak RSS.

Example: time_cli(["list", "--limit", "50"], db)  →  Timing(seconds=0.41, peak_mb=62.3, …)

Every measurement starts a new process, the way a person or a script runs
pipectl, so start-up and imports are part of the cost. The best of `repeat`
runs is the time (the least disturbed by other work on the machine); peak
memory is the largest resident set any run reached, from `wait4`'s rusage.
A run that fails raises `BenchmarkError` rather than producing a number.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.generate import FIXED_NOW

TIMEOUT_S = 1800
# The sqlite3 command-line shell every baseline runs in (Debian: apt-get install sqlite3).
SQLITE3 = shutil.which("sqlite3")
MISSING_SQLITE3 = (
    "The benchmarks compare pipectl with the same SQL run by the sqlite3 command-line shell, "
    "and there is no `sqlite3` on PATH. Install it (Debian/Ubuntu: apt-get install sqlite3; "
    "macOS ships one) and run again."
)
# Printed by the shell before each compared statement's rows, to split its output.
ANSWER_MARK = "@@answer "
# Measured processes find compiled bytecode here, as an installed package would have it; run.py points it
# into the data folder. (PYTHONDONTWRITEBYTECODE would make every process recompile pipectl's sources.)
PYCACHE = Path(tempfile.gettempdir()) / "pipectl-bench-pycache"
# At most this many runs of each measurement (the CI smoke run sets 1: it checks answers, not speed).
MAX_REPEAT: int | None = None
# Whether a missing comparison tool (sqlite-utils) may be installed into a throwaway venv; the smoke
# test turns it off, so the suite never reaches for the network.
INSTALL_TOOLS = True
# A plain sqlite3 client that runs one statement (or a script) and prints the rows as JSON.
SQL_RUNNER = r"""
import json, sqlite3, sys
db, sql, params, script = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "1"
connection = sqlite3.connect(db, isolation_level=None)
connection.execute("PRAGMA busy_timeout = 30000")
if script:
    connection.executescript(sql)
    rows = []
else:
    rows = connection.execute(sql, params).fetchall()
json.dump(rows, sys.stdout)
"""
# The same for several statements in one process (one read transaction), e.g. what `show` reads.
QUERIES_RUNNER = r"""
import json, sqlite3, sys
db, queries = sys.argv[1], json.loads(sys.argv[2])
connection = sqlite3.connect(db)
json.dump([connection.execute(sql, params).fetchall() for sql, params in queries], sys.stdout)
"""


class BenchmarkError(RuntimeError):
    """A measured command failed, or pipectl and the baseline disagreed: no ratio is reported."""


class MissingShell(BenchmarkError):
    """The sqlite3 command-line shell is not installed, so no baseline can run."""


@dataclass
class Timing:
    """The best wall time of some runs of one command, its peak memory, and the last run's output."""

    seconds: float
    peak_mb: float
    stdout: str = ""
    stderr: str = ""
    runs: list[float] = field(default_factory=list)
    # The least CPU time (user + system) of the runs: steadier than wall time on a busy machine.
    cpu_seconds: float | None = None
    # For the sqlite3 shell: each compared statement's rows (lists of values), and the script it ran.
    answers: list[list[list]] | None = None
    script: str | None = None

    def json(self):
        """The last run's stdout parsed as JSON (for checking answers)."""
        return json.loads(self.stdout)

    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def bench_env(extra: dict | None = None) -> dict:
    """The environment every measured process gets: the fixed clock, UTC, plain output, cached bytecode."""
    env = dict(os.environ)
    env.update(
        {
            "PIPECTL_NOW": FIXED_NOW,
            "TZ": "UTC",
            "NO_COLOR": "1",
            "TERM": "dumb",
            "COLUMNS": "100",
            "PYTHONPYCACHEPREFIX": str(PYCACHE),
        }
    )
    env.pop("PIPECTL_DB", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


def time_cli(
    args: list[str],
    db: Path,
    repeat: int = 3,
    env: dict | None = None,
    *,
    stdin: Path | None = None,
    prepare: Callable[[], None] | None = None,
    capture: bool = True,
) -> Timing:
    """Run `python -m pipectl --db DB ARGS…` `repeat` times; the best wall time and the peak RSS.

    `prepare` runs (untimed) before each run, e.g. to restore a scratch copy a write changed.
    """
    argv = [sys.executable, "-m", "pipectl", "--db", str(db), *[str(arg) for arg in args]]
    return time_process(argv, repeat=repeat, env=bench_env(env), stdin=stdin, prepare=prepare, capture=capture)


def time_sql(
    db: Path, sql: str, params=(), repeat: int = 3, *, script: bool = False, prepare: Callable[[], None] | None = None
) -> Timing:
    """Run hand-written SQL through plain `sqlite3` in a fresh Python process; rows come back as JSON.

    `script=True` runs several statements (no parameters, no rows), e.g. a BEGIN … COMMIT write.
    """
    argv = [sys.executable, "-c", SQL_RUNNER, str(db), sql, json.dumps(list(params)), "1" if script else "0"]
    return time_process(argv, repeat=repeat, env=bench_env(), prepare=prepare)


def sqlite3_shell() -> str:
    """The sqlite3 shell's path, or MissingShell saying how to install it."""
    if SQLITE3 is None:
        raise MissingShell(MISSING_SQLITE3)
    return SQLITE3


def sqlite3_version() -> str:
    if SQLITE3 is None:
        return "not installed"
    found = subprocess.run([SQLITE3, "-version"], capture_output=True, text=True, timeout=30)
    return found.stdout.split()[0] if found.returncode == 0 and found.stdout else "unknown"


def time_sqlite3(
    db: Path,
    queries: list[str],
    *,
    setup: list[str] | None = None,
    readonly: bool = True,
    repeat: int = 3,
    prepare: Callable[[], None] | None = None,
) -> Timing:
    """Run SQL in the real `sqlite3` shell on DB: `setup` statements first, then `queries`, whose rows
    come back in `Timing.answers` (one list of row lists per query).

    Example: time_sqlite3(db, ["SELECT count(*) FROM leads"]).answers  →  [[[1000]]]
    """
    commands = [*(setup or []), ".mode json"]
    for index, sql in enumerate(queries):
        commands += [f".print {ANSWER_MARK}{index}", sql]
    argv = [sqlite3_shell(), "-bail", *(["-readonly"] if readonly else []), str(db), *commands]
    timing = time_process(argv, repeat=repeat, env=bench_env(), prepare=prepare)
    timing.answers = parse_answers(timing.stdout, len(queries))
    timing.script = "\n".join([f"sqlite3 -bail{' -readonly' if readonly else ''} DATABASE <<'SQL'", *commands, "SQL"])
    return timing


def parse_answers(stdout: str, expected: int) -> list[list[list]]:
    """The shell's JSON output split by ANSWER_MARK lines; a statement without rows prints nothing."""
    chunks: dict[int, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith(ANSWER_MARK):
            current = int(line[len(ANSWER_MARK) :])
            chunks[current] = []
        elif current is not None:
            chunks[current].append(line)
    # Rows as lists in column order (duplicate column names would collide in dicts).
    as_list = lambda pairs: [value for _key, value in pairs]  # noqa: E731
    answers = []
    for index in range(expected):
        text = "\n".join(chunks.get(index, [])).strip()
        answers.append(json.loads(text, object_pairs_hook=as_list) if text else [])
    return answers


def time_queries(db: Path, queries: list[tuple[str, tuple]], repeat: int = 3) -> Timing:
    """Run several (sql, params) statements in one plain-`sqlite3` process; stdout is a JSON list of row lists."""
    argv = [sys.executable, "-c", QUERIES_RUNNER, str(db), json.dumps([[sql, list(params)] for sql, params in queries])]
    return time_process(argv, repeat=repeat, env=bench_env())


def best_of(timings: list[Timing]) -> Timing:
    """Several single runs (e.g. moves of different leads) as one Timing: the best time, the peak memory."""
    best = min(timings, key=lambda timing: timing.seconds)
    cpu = [timing.cpu_seconds for timing in timings if timing.cpu_seconds is not None]
    return Timing(
        seconds=best.seconds,
        peak_mb=max(timing.peak_mb for timing in timings),
        stdout=best.stdout,
        stderr=best.stderr,
        runs=[run for timing in timings for run in timing.runs],
        cpu_seconds=min(cpu) if cpu else None,
        answers=timings[-1].answers,
        script=timings[-1].script,
    )


def time_shell(
    argv: list[str],
    stdin: Path | None = None,
    repeat: int = 3,
    *,
    prepare: Callable[[], None] | None = None,
    capture: bool = True,
) -> Timing:
    """Run any program (the `sqlite3` shell, `python -c …`) the same way: best wall time, peak RSS."""
    timing = time_process(
        [str(arg) for arg in argv], repeat=repeat, env=bench_env(), stdin=stdin, prepare=prepare, capture=capture
    )
    timing.script = " ".join(shlex.quote(str(arg)) for arg in argv)
    return timing


def time_process(
    argv: list[str],
    *,
    repeat: int = 3,
    env: dict | None = None,
    stdin: Path | None = None,
    prepare: Callable[[], None] | None = None,
    capture: bool = True,
) -> Timing:
    """The measuring loop under the functions above."""
    best, peak, runs, cpu = float("inf"), 0.0, [], []
    stdout = stderr = ""
    if MAX_REPEAT is not None:
        repeat = min(repeat, MAX_REPEAT)
    for _ in range(max(1, repeat)):
        if prepare is not None:
            prepare()
        seconds, rss_mb, cpu_seconds, stdout, stderr, code = _run_once(argv, env, stdin, capture)
        if code != 0:
            raise BenchmarkError(f"{' '.join(argv[:6])}… exited {code}: {stderr.strip()[-2000:]}")
        runs.append(seconds)
        if cpu_seconds is not None:
            cpu.append(cpu_seconds)
        best, peak = min(best, seconds), max(peak, rss_mb)
    return Timing(
        seconds=best, peak_mb=peak, stdout=stdout, stderr=stderr, runs=runs, cpu_seconds=min(cpu) if cpu else None
    )


def _run_once(argv: list[str], env: dict | None, stdin: Path | None, capture: bool):
    # Output goes to files, not pipes, so a large export can never block the child on a full pipe.
    # Peak RSS comes from GNU time, whose tiny process forks the child: rusage from this (large)
    # Python process's own fork would count the parent's pages too. Without GNU time, the child's
    # VmHWM is sampled from /proc while it runs.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss_file:
        wrapped = [GNU_TIME, "-f", "%M %U %S", "-o", rss_file.name, *argv] if GNU_TIME else argv
        source = open(stdin, "rb") if stdin is not None else subprocess.DEVNULL  # noqa: SIM115 (closed in finally)
        sampled_kb = 0
        try:
            started = time.perf_counter()
            process = subprocess.Popen(
                wrapped, stdin=source, stdout=out if capture else subprocess.DEVNULL, stderr=err, env=env
            )
            deadline = started + TIMEOUT_S
            usage = None
            while usage is None:
                # wait4 reaps the child with its CPU time in microseconds (GNU time prints hundredths,
                # too coarse for the shell's baselines), including the processes it waited for.
                pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    process.returncode, usage = os.waitstatus_to_exitcode(status), rusage
                    break
                if time.perf_counter() > deadline:
                    process.kill()
                    process.wait()
                    break
                if not GNU_TIME:
                    sampled_kb = max(sampled_kb, _vm_hwm_kb(process.pid))
                time.sleep(0.001)
            seconds = time.perf_counter() - started
        finally:
            if stdin is not None:
                source.close()
        peak_kb = sampled_kb
        cpu_seconds = usage.ru_utime + usage.ru_stime if usage is not None else None
        if GNU_TIME:
            # The last line is "%M %U %S" (a failed child's status line may come before it).
            last = (rss_file.read().strip().splitlines() or [""])[-1].split()
            if len(last) == 3:
                peak_kb = int(last[0])
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        return (seconds, peak_kb / 1024, cpu_seconds, out.read().decode("utf-8", "replace"), stderr, process.returncode)


def _find_gnu_time() -> str | None:
    candidate = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if candidate is None:
        return None
    try:
        probe = subprocess.run([candidate, "-f", "%M", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return candidate if probe.returncode == 0 and probe.stderr.strip().isdigit() else None


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


GNU_TIME = _find_gnu_time()


def row(
    benchmark: str, size: int, pipectl: Timing, baseline: Timing, baseline_name: str, *, command: str | None = None
) -> dict:
    """One line of the results table: both timings, their peak memory and `ratio = pipectl / baseline`.

    `command` is the pipectl command line; the baseline's exact script (the sqlite3 shell's) is kept too.
    """
    return {
        "benchmark": benchmark,
        "size": size,
        "command": command,
        "baseline_script": baseline.script,
        "pipectl_s": round(pipectl.seconds, 4),
        "baseline": baseline_name,
        "baseline_s": round(baseline.seconds, 4),
        "ratio": round(pipectl.seconds / baseline.seconds, 2) if baseline.seconds > 0 else None,
        "pipectl_peak_mb": round(pipectl.peak_mb, 1),
        "baseline_peak_mb": round(baseline.peak_mb, 1),
        "pipectl_cpu_s": _round(pipectl.cpu_seconds),
        "baseline_cpu_s": _round(baseline.cpu_seconds),
        "cpu_ratio": (
            round(pipectl.cpu_seconds / baseline.cpu_seconds, 2)
            if pipectl.cpu_seconds and baseline.cpu_seconds
            else None
        ),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def check_same(benchmark: str, pipectl_answer, baseline_answer) -> None:
    """Refuse to report a ratio when pipectl and the hand-written SQL found different answers."""
    if pipectl_answer != baseline_answer:
        raise BenchmarkError(
            f"{benchmark}: pipectl and the baseline disagree:\n  pipectl:  {_short(pipectl_answer)}\n"
            f"  baseline: {_short(baseline_answer)}"
        )


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 400 else text[:400] + "…"


def scratch_copy(db: Path, name: str = "scratch") -> Path:
    """A copy of a generated database for benchmarks that write (the original stays reusable).

    Example: work = scratch_copy(db); time_cli(["add", "X"], work, prepare=lambda: restore(db, work))
    """
    target = Path(db).with_name(f"{Path(db).stem}.{name}.db")
    restore(db, target)
    return target


def restore(original: Path, copy: Path) -> None:
    """Make `copy` byte-for-byte the generated `original` again (and drop its WAL files)."""
    for stale in (Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(original, copy)
    os.chmod(copy, 0o600)
