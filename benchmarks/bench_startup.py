"""Start-up: `--help` and `--version` against importing Typer, and where a command's start-up time goes.

Example: python -m benchmarks.run --only startup

Run once, on an empty pipeline (size 0). `--help` and `--version` must not
load the database stack, so their floor is `python -c "import typer"`. The
breakdown runs `show` and `--help` under `python -X importtime` and sums, by
package, the import time of the modules they load beyond `import sqlmodel`
and `import typer`: what pipectl adds before doing any work.
"""

import sys
from collections import Counter
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import BenchmarkError, bench_env, best_of, row, time_cli, time_shell

ONLY_EMPTY = True


def run(db: Path, size: int) -> list[dict]:
    """--help and --version against `import typer`; the import breakdown rides on the --help row."""
    helps, versions, floors = [], [], []
    # Interleaved, so that both see the same load on a busy machine.
    for _ in range(min(3, harness.MAX_REPEAT or 3)):
        helps.append(time_cli(["--help"], db, repeat=1))
        versions.append(time_cli(["--version"], db, repeat=1))
        floors.append(time_shell([sys.executable, "-c", "import typer"], repeat=1))
    help_run, version_run, floor = best_of(helps), best_of(versions), best_of(floors)
    floor.script = "python -c 'import typer'"
    if "Usage" not in help_run.stdout:
        raise BenchmarkError("pipectl --help printed no usage")
    if not version_run.stdout.startswith("pipectl "):
        raise BenchmarkError(f"pipectl --version printed {version_run.stdout!r}")
    rows = [
        row("--help", size, help_run, floor, "python -c 'import typer'", command="pipectl --help"),
        row("--version", size, version_run, floor, "python -c 'import typer'", command="pipectl --version"),
    ]
    rows[0]["breakdown"] = breakdown(db)
    return rows


def breakdown(db: Path) -> dict:
    """Where start-up goes: the import time (ms) of what `show` imports beyond `import sqlmodel`, and
    `--help` beyond `import typer`, by package; each module's least self time over a few runs."""
    show = _imports(["-m", "pipectl", "--db", str(db), "show", "1", "--format", "json"])
    sqlmodel = _imports(["-c", "import sqlmodel"])
    help_ = _imports(["-m", "pipectl", "--help"])
    typer = _imports(["-c", "import typer"])
    return {
        "pipectl show beyond import sqlmodel": _by_package(show, sqlmodel),
        "pipectl --help beyond import typer": _by_package(help_, typer),
        "(import sqlmodel itself)": {"(all imports)": round(sum(sqlmodel.values()), 1)},
        "(import typer itself)": {"(all imports)": round(sum(typer.values()), 1)},
    }


def _imports(arguments: list[str]) -> dict[str, float]:
    """Module → its least self import time (ms) over a few runs of `python -X importtime ARGUMENTS`."""
    import subprocess

    best: dict[str, float] = {}
    for _ in range(min(3, harness.MAX_REPEAT or 3)):
        found = subprocess.run(
            [sys.executable, "-X", "importtime", *arguments],
            capture_output=True,
            text=True,
            env=bench_env(),
            timeout=120,
        )
        if found.returncode != 0:
            raise BenchmarkError(f"python -X importtime {' '.join(arguments)} failed: {found.stderr[-500:]}")
        for line in found.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cumulative, name = line[len("import time:") :].split("|")
            module = name.strip()
            best[module] = min(best.get(module, float("inf")), int(self_us) / 1000)
    return best


def _by_package(command: dict[str, float], floor: dict[str, float]) -> dict[str, float]:
    """The modules `command` imports and `floor` does not, summed by package, largest first."""
    totals: Counter = Counter()
    for module, ms in command.items():
        if module not in floor:
            totals[_package(module)] += ms
    found = {package: round(ms, 1) for package, ms in totals.most_common()}
    found["(all imports)"] = round(sum(totals.values()), 1)
    return found


def _package(module: str) -> str:
    top = module.split(".")[0]
    if top == "pipectl":
        # pipectl's own layers apart: storage (the models), core, cli.
        return ".".join(module.split(".")[:2])
    return top
