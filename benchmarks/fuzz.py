"""Hostile input, generated: hostile files, hostile paths and damaged databases thrown at the commands.

Example: python -m benchmarks.fuzz --runs 5000 --seed 7

The reliability suite (tests/test_reliability_hostile.py) runs a few hundred
cases of this same generator on every test run; this script runs thousands.
Each case is one command line (sometimes with stdin) on a fresh copy of a
small pipeline, run in-process through Typer's test runner, and the oracle
is the project's bar:

- no traceback, and the exit code is 0, 1 or 2;
- a failed command leaves the database files byte-for-byte as they were and
  no `.partial` behind;
- on a copy whose integrity check fails, no command that writes succeeds;
- a dry run on a missing database creates no file.

It prints one line per broken case and a summary; the exit status is 1 when
any case broke the bar.
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

FIXED_NOW = "2026-11-23T09:00:00"
# Commands that change the pipeline when they succeed: on a damaged copy they must not.
WRITES = {
    "add",
    "log",
    "move",
    "won",
    "lost",
    "edit",
    "plan",
    "import",
    "restore",
    "qualify",
    "reopen",
    "rules load",
    "clean --yes",
}
DEEP = 100_000


@dataclass
class Case:
    """One command line to run, with what it needs around it."""

    kind: str
    args: list[str]
    stdin: bytes | None = None
    damaged: bool = False  # the database copy has random bytes overwritten and fails its integrity check
    missing_db: bool = False  # run on a database file that does not exist (dry runs must not create it)
    planted: list[str] = field(default_factory=list)  # files put there before the run (left alone after)


@dataclass
class Outcome:
    case: Case
    exit_code: int
    problem: str | None  # None: the case met the bar


# --- the base pipeline ---------------------------------------------------------------------------


def build_base(folder: Path) -> Path:
    """A small pipeline with leads in every state, activities, plans, tags and custom fields."""
    db = folder / "base.db"
    run_cli(["--db", str(db), "init"])
    rows = ["name,company,email,value,stage,tags,field:team"]
    rows += [
        f"Lead {n},Company {n % 7},l{n}@example.com,{n * 1000},"
        f"{('Discovery', 'Qualification', 'Contact', 'Proposal')[n % 4]},a;b,team {n % 3}"
        for n in range(1, 41)
    ]
    source = folder / "base.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for args in (
        ["import", str(source)],
        ["log", "1", "call", "--note", "first"],
        ["plan", "2", "Call", "--due", "3d"],
        ["won", "3"],
        ["lost", "4", "--reason", "price"],
        ["qualify", "5", "--budget", "yes"],
    ):
        run_cli(["--db", str(db), *args])
    source.unlink()
    return db


# --- hostile material ----------------------------------------------------------------------------


def hostile_file(rnd: random.Random, folder: Path) -> tuple[str, bytes]:
    """A file name and the bytes of an import that is hostile in one way."""
    choice = rnd.randrange(14)
    if choice == 0:
        return "deep.json", b"[" * DEEP + b"]" * DEEP
    if choice == 1:
        return "deep.jsonl", b'{"name": "Deep", "fields": ' + b"[" * DEEP + b"]" * DEEP + b"}\n"
    if choice == 2:
        return "size.json", json.dumps([{"name": "Huge", "company_size": 10 ** rnd.choice([19, 26, 400])}]).encode()
    if choice == 3:
        value = rnd.choice([b"1e400", b"-1e400", b"1e308", b"9" * 5000])
        return "value.json", b'[{"name": "Inf", "value": ' + value + b"}]"
    if choice == 4:
        return "surrogate.json", rnd.choice(
            [
                b'[{"name": "S\\ud800x"}]',
                b'[{"name": "S", "company": "\\udfff"}]',
                b'[{"name": "S", "fields": {"k": "\\ud83d"}}]',
                b'[{"name": "S", "tags": ["\\udc80"]}]',
            ]
        )
    if choice == 5:
        return "nul.csv", rnd.choice([b"name,company\n\x00\x00,X\n", b"name\nA\x00B\n", b"name,email\n\x00,a@b.co\n"])
    if choice == 6:
        head = b"name,company\n" + b"Plain,Ltd\n" * (70_000 // 11)
        return "late.csv", head + rnd.choice([b"Bad \xff\xfe,X\n", b"\x80\x81\x82,Y\n", b"Ok,\xc3\x28\n"])
    if choice == 7:
        name = rnd.choice(["\x1b]52;c;aGk=\x07", "\x1b[2J", "a\nb", "\t", "\x7f"])
        return "control.json", json.dumps([{"name": name, "company": "\x1b[31mred"}]).encode()
    if choice == 8:
        fields = {"list": [1, [2, {"x": None}]], "obj": {"a": 1}}
        return "fields.json", json.dumps([{"name": "Fields", "fields": fields}]).encode()
    if choice == 9:
        return "junk.csv", bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 4000)))
    if choice == 10:
        return "empty.json", rnd.choice([b"", b"[]", b"{}", b"null", b"\xef\xbb\xbf", b"[1, 2, 3]"])
    if choice == 11:
        return "activities.jsonl", rnd.choice(
            [
                b'{"type": "activity", "lead_id": 99999999999999999999999, "kind": "call"}\n',
                b'{"type": "activity", "lead_id": 1, "kind": "call", "at": "9999-99-99"}\n',
                b'{"type": "lead", "name": "A", "created_at": 1e300}\n',
            ]
        )
    if choice == 12:
        return "wide.csv", (
            ",".join(f"c{n}" for n in range(2000)) + "\n" + ",".join("x" * 50 for _ in range(2000)) + "\n"
        ).encode()
    return "ok.csv", b"name,email,value\nFuzz Ok,fuzz@example.com,12k\n"


def hostile_rules(rnd: random.Random) -> bytes:
    choice = rnd.randrange(6)
    if choice == 0:
        return b"[thresholds]\nmql = " + b"9" * 5000 + b"\n"
    if choice == 1:
        return b"x = " + b"[" * DEEP + b"]" * DEEP + b"\n"
    if choice == 2:
        return b"[thresholds]\nmql = 1e400\n"
    if choice == 3:
        return b"[thresholds]\nmql = 30\n\xff\xfe\n"
    if choice == 4:
        return b'a = "\\ud800"\n'
    return b"[thresholds]\nnurture_below = 20\n"


def hostile_path(rnd: random.Random, folder: Path, db: Path) -> tuple[str, list[str]]:
    """An output path that is wrong in one way (or fine), and any file planted for it."""
    choice = rnd.randrange(16)
    if choice == 0:
        return "", []
    if choice == 1:
        return rnd.choice([".", "..", str(folder), str(folder) + "/"]), []
    if choice == 2:
        return str(folder / "a\x00b.csv"), []
    if choice == 3:
        return str(folder / ("n" * rnd.choice([250, 256, 300]))), []
    if choice == 4:
        return str(folder / rnd.choice(["~\x7f", "\x1b[2Jx", "tab\tname"])), []
    if choice == 5:
        return str(db), []
    if choice == 6:
        return f"{db}{rnd.choice(['-wal', '-shm', '-journal'])}", []
    if choice == 7:
        link = folder / "link-to-db.csv"
        if not link.exists():
            link.symlink_to(db)
        return str(link), []
    if choice == 8:
        hard = folder / "hard-to-db.csv"
        if not hard.exists():
            os.link(db, hard)
        return str(hard), []
    if choice == 9:
        planted = folder / "planted.csv.partial"
        planted.write_text("someone else's\n", encoding="utf-8")
        return str(folder / "planted.csv"), [planted.name]
    if choice == 10:
        return str(folder / "missing" / "out.csv"), []
    if choice == 11:
        fifo = folder / "fifo"  # not a regular file (never a real device: a wrong pipectl would replace it)
        if not fifo.exists():
            os.mkfifo(fifo)
        return str(fifo), []
    if choice == 12:
        return str(folder / "o\udcff.csv"), []  # a name that was not valid UTF-8 on the command line
    return str(folder / f"out-{rnd.randrange(1000)}.csv"), []


def hostile_text(rnd: random.Random) -> str:
    return rnd.choice(
        [
            "\x00",
            "\x00\x00",
            "a\x00b",
            "\x1b]52;c;aGk=\x07",
            "\x1b[2J",
            "\ud800",
            "x\udcff",
            "\u202e",
            "9" * 40,
            "1e400",
            "-1",
            "",
            " ",
            "[bold]x",
            "Ok name",
            "Zoë",
            "\n",
            "name\r",
        ]
    )


def make_case(rnd: random.Random, folder: Path, db: Path) -> Case:
    """One random case; `folder` is where its files go."""
    kind = rnd.choices(
        ["import", "rules", "output", "backup", "text", "number", "stdin", "damaged", "dry", "db"],
        weights=[18, 6, 12, 6, 10, 6, 6, 22, 6, 8],
    )[0]
    if kind == "import":
        name, data = hostile_file(rnd, folder)
        path = folder / name
        path.write_bytes(data)
        rejects, planted = hostile_path(rnd, folder, db)
        extra = rnd.choice(
            [
                [],
                ["--skip-invalid"],
                ["--dry-run"],
                ["--on-duplicate", "update"],
                ["--create-stages"],
                ["--skip-invalid", "--rejects", rejects],
            ]
        )
        return Case(kind, ["import", str(path), *extra], planted=planted)
    if kind == "rules":
        path = folder / "rules.toml"
        path.write_bytes(hostile_rules(rnd))
        return Case(kind, ["rules", "load", str(path)])
    if kind == "output":
        target, planted = hostile_path(rnd, folder, db)
        return Case(
            kind, ["export", "-o", target, *rnd.choice([[], ["--format", "json"], ["--what", "all"]])], planted=planted
        )
    if kind == "backup":
        target, planted = hostile_path(rnd, folder, db)
        return Case(kind, ["db", "backup", target, *rnd.choice([[], ["--force"]])], planted=planted)
    if kind == "text":
        text = hostile_text(rnd)
        return Case(
            kind,
            rnd.choice(
                [
                    ["add", text],
                    ["add", "Named", "--company", text],
                    ["edit", "1", "--name", text],
                    ["log", "1", "note", "--note", text],
                    ["add", "Tagged", "--tag", text],
                    ["add", "Field", "--field", f"k={text}"],
                    ["stages", "add", text],
                    ["--db", text, "list"],
                ]
            ),
        )
    if kind == "number":
        big = rnd.choice(["10" + "0" * 30, str(2**63), "-1", "99999999999999999999", "1e400"])
        return Case(
            kind,
            rnd.choice(
                [
                    ["show", "1", "--activities", big],
                    ["add", "Big", "--size", big],
                    ["add", "Big", "--value", big],
                    ["list", "--limit", big],
                    ["list", "--min-score", big],
                    ["next", "--limit", big],
                ]
            ),
        )
    if kind == "stdin":
        head = b"name\n" + b"Plain\n" * (70_000 // 6)
        data = rnd.choice([head + b"Bad \xff\n", b"[" * DEEP, head + b"\x00\n", b"\xff" * 100])
        return Case(
            kind, rnd.choice([["import", "-", "--format", "csv"], ["import", "-"], ["rules", "load", "-"]]), stdin=data
        )
    if kind == "dry":
        extra = [
            ["clean", "--dry-run"],
            ["score", "--apply", "--dry-run"],
            ["clean", "--purge", "--older-than", "1d", "--dry-run"],
        ]
        source = folder / "dry.csv"
        source.write_bytes(b"name\nDry\n")
        extra.append(["import", str(source), "--dry-run"])
        return Case(kind, rnd.choice(extra), missing_db=True)
    if kind == "db":
        return Case(
            kind,
            rnd.choice(
                [
                    ["db", "check"],
                    ["db", "check", "--format", "jsonl"],
                    ["db", "upgrade"],
                    ["db", "path"],
                    ["list"],
                    ["show", "1", "--format", "json"],
                    ["metrics"],
                ]
            ),
        )
    return Case("damaged", rnd.choice(DAMAGED_COMMANDS), damaged=True)


DAMAGED_COMMANDS = [
    ["list"],
    ["list", "-f", "json"],
    ["show", "1"],
    ["show", "3", "-f", "json"],
    ["board"],
    ["metrics"],
    ["forecast"],
    ["next"],
    ["export"],
    ["export", "--what", "all"],
    ["db", "check"],
    ["db", "check", "-f", "json"],
    ["add", "Zed"],
    ["log", "2", "call"],
    ["move", "1", "Contact", "--force"],
    ["won", "6"],
    ["edit", "7", "--company", "X"],
    ["score"],
    ["clean", "--dry-run"],
    ["clean", "--yes"],
    ["stages", "list"],
    ["review"],
    ["rules", "export"],
    ["plan", "8", "Call", "--due", "3d"],
    ["db", "upgrade"],
    ["lost", "9", "--reason", "no"],
]


# --- running a case --------------------------------------------------------------------------------


def run_cli(args: list[str], stdin: bytes | None = None):
    from typer.testing import CliRunner

    from pipectl.cli.app import app
    from pipectl.cli.runtime import root_db

    root_db["location"] = None
    return CliRunner().invoke(app, args, input=stdin)


def damage(rnd: random.Random, db: Path) -> bool:
    """Overwrite random bytes of `db`; whether SQLite's own checks now flag it."""
    data = bytearray(db.read_bytes())
    for _ in range(rnd.choice([1, 4, 16, 64])):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    db.write_bytes(bytes(data))
    return flagged(db)


def flagged(db: Path) -> bool:
    connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    connection.text_factory = bytes
    try:
        return connection.execute("PRAGMA integrity_check").fetchall() != [(b"ok",)] or bool(
            connection.execute("PRAGMA foreign_key_check").fetchall()
        )
    except Exception:
        return True
    finally:
        connection.close()


def state(db: Path) -> dict[str, bytes]:
    """The database and its WAL, by content: what "unchanged" compares."""
    return {path.name: path.read_bytes() for path in (db, Path(f"{db}-wal")) if path.exists() and path.stat().st_size}


def run_case(rnd: random.Random, base: Path, work: Path) -> Outcome:
    """Make and run one case in a fresh `work` folder; judge it."""
    os.chdir(work.parent)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    # A hostile relative path (`--db 1e400`, `-o x`) lands in the case's folder, never in the caller's.
    os.chdir(work)
    db = work / "pipeline.db"
    shutil.copyfile(base, db)
    os.chmod(db, 0o600)
    case = make_case(rnd, work, db)
    is_flagged = damage(rnd, db) if case.damaged else False
    if case.missing_db:
        db.unlink()
    before = state(db) if db.exists() else None
    result = run_cli(["--db", str(db), *case.args], case.stdin)
    return Outcome(case, result.exit_code, judge(case, result, db, work, before, is_flagged))


def judge(case: Case, result, db: Path, work: Path, before, is_flagged: bool) -> str | None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        return f"traceback {type(result.exception).__name__}: {trace[-600:]}"
    if "Traceback" in result.output:
        return "a traceback was printed"
    if result.exit_code not in (0, 1, 2):
        return f"exit code {result.exit_code}"
    if result.exit_code != 0 and "Error: " not in result.stderr:
        return f"failed without an Error: line: {result.stderr[:200]!r}"
    partials = sorted(
        path.name for path in work.iterdir() if path.name.endswith(".partial") and path.name not in case.planted
    )
    if partials:
        return f"left {partials}"
    if case.missing_db and db.exists():
        return "a dry run created the database"
    if result.exit_code != 0 and before is not None and state(db) != before:
        return "a failed command changed the database"
    writes = case.args[0] in WRITES or " ".join(case.args[:2]) in WRITES
    if case.damaged and is_flagged and result.exit_code == 0 and writes and "--dry-run" not in case.args:
        return "a write succeeded on a damaged database"
    return None


def run(runs: int, seed: int, verbose: bool = False) -> dict:
    """Run `runs` cases from `seed`; returns the counts and every broken case."""
    here = os.getcwd()
    try:
        return _run(runs, seed, verbose)
    finally:
        os.chdir(here)


def _run(runs: int, seed: int, verbose: bool) -> dict:
    os.environ["PIPECTL_NOW"] = FIXED_NOW
    os.environ.setdefault("TZ", "UTC")
    os.environ["COLUMNS"] = "100"
    rnd = random.Random(seed)
    counts: dict[str, int] = {}
    broken: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="pipectl-fuzz-") as scratch:
        root = Path(scratch)
        base = build_base(root)
        started = time.perf_counter()
        for number in range(runs):
            outcome = run_case(rnd, base, root / "case")
            key = f"{outcome.case.kind} exit {outcome.exit_code}"
            counts[key] = counts.get(key, 0) + 1
            if outcome.problem:
                broken.append(
                    {"case": number, "kind": outcome.case.kind, "args": outcome.case.args, "problem": outcome.problem}
                )
                print(f"case {number} {outcome.case.args!r}: {outcome.problem}", file=sys.stderr)
            elif verbose:
                print(f"case {number} {outcome.case.args!r}: exit {outcome.exit_code}", file=sys.stderr)
    return {
        "runs": runs,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "counts": dict(sorted(counts.items())),
        "broken": broken,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true")
    options = parser.parse_args()
    report = run(options.runs, options.seed, options.verbose)
    print(json.dumps({key: value for key, value in report.items() if key != "broken"}, indent=2))
    print(f"{len(report['broken'])} of {report['runs']} cases broke the bar.")
    raise SystemExit(1 if report["broken"] else 0)


if __name__ == "__main__":
    main()
