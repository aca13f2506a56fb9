"""Start-up: `--help` and `--version` against importing Typer, and where a command's start-up time goes.

Example: python -m benchmarks.run --only startup

Run once, on an empty pipeline (size 0). `--help` and `--version` must not
load the database stack, so their floor is `python -c "import typer"`. The
breakdown runs `show` under `python -X importtime` and adds up each
package's own import time, next to the same for `python -c "import
sqlmodel"`: the difference is what pipectl adds on top of its data
libraries before doing any work.
"""

import sys
from collections import Counter
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import BenchmarkError, bench_env, row, time_cli, time_shell

ONLY_EMPTY = True


def run(db: Path, size: int) -> list[dict]:
    """--help and --version against `import typer`; the import breakdown rides on the --help row."""
    floor = time_shell([sys.executable, "-c", "import typer"])
    rows = []
    help_run = time_cli(["--help"], db)
    if "Usage" not in help_run.stdout:
        raise BenchmarkError("pipectl --help printed no usage")
    rows.append(row("--help", size, help_run, floor, "python -c 'import typer'", command="pipectl --help"))
    version_run = time_cli(["--version"], db)
    if not version_run.stdout.startswith("pipectl "):
        raise BenchmarkError(f"pipectl --version printed {version_run.stdout!r}")
    rows.append(row("--version", size, version_run, floor, "python -c 'import typer'", command="pipectl --version"))
    rows[0]["breakdown"] = breakdown(db)
    return rows


def breakdown(db: Path) -> dict:
    """Milliseconds of import time per top-level package: `show`, `--help`, and the floors they stand on."""
    show = ["-m", "pipectl", "--db", str(db), "show", "1", "--format", "json"]
    return {
        "pipectl show": _imports(show),
        "python -c 'import sqlmodel'": _imports(["-c", "import sqlmodel"]),
        "pipectl --help": _imports(["-m", "pipectl", "--help"]),
        "python -c 'import typer'": _imports(["-c", "import typer"]),
    }


def _imports(arguments: list[str]) -> dict[str, float]:
    """The least, over a few runs, of each top-level package's summed self import time (ms)."""
    import subprocess

    best: dict[str, float] = {}
    for _ in range(min(3, harness.MAX_REPEAT or 3)):
        found = subprocess.run([sys.executable, "-X", "importtime", *arguments], capture_output=True, text=True,
                               env=bench_env(), timeout=120)
        if found.returncode != 0:
            raise BenchmarkError(f"python -X importtime {' '.join(arguments)} failed: {found.stderr[-500:]}")
        totals: Counter = Counter()
        for line in found.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cumulative, name = line[len("import time:"):].split("|")
            totals[_package(name.strip())] += int(self_us) / 1000
        total = sum(totals.values())
        if not best or total < best["(all imports)"]:
            best = {package: round(ms, 1) for package, ms in totals.most_common()}
            best["(all imports)"] = round(total, 1)
    return best


def _package(module: str) -> str:
    top = module.split(".")[0]
    if top == "pipectl":
        # pipectl's own layers apart: storage (the models), core, cli.
        return ".".join(module.split(".")[:2])
    return top if top in {"sqlalchemy", "sqlmodel", "pydantic", "pydantic_core", "typer", "rich", "alembic",
                          "dateutil", "sqlite3", "email", "importlib", "json", "typing_extensions"} else "(other)"
