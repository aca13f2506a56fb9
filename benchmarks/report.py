"""RESULTS.md from the results: the goals, every measurement, growth exponents, start-up, the baselines.

Example: report.markdown(json.loads(Path("benchmarks/results/results.json").read_text()))

Ratios are pipectl / baseline, of wall time and of CPU time (user + system
of the process and its children). The machine is shared, so a goal is judged
on the CPU ratio, which other work on the machine disturbs least; the wall
ratio stands beside it. The growth exponent is the least-squares slope of
log(CPU seconds) against log(leads) over the sizes measured: 1 is linear,
2 quadratic; above 1.2 is flagged.
"""

import math

from benchmarks.missed import WHY_MISSED

GROWTH_LIMIT = 1.2
FLOOR = "python -c 'import sqlmodel'"  # the baseline every single-lead command is also compared with
EMPTY = 0  # the size of the empty pipeline the start-up rows run on

# Issue 14's goals: (what, benchmark, baseline starts with, sizes, the most pipectl / baseline may be).
GOALS = [
    ("`next` ≤ 2× SQL at 1,000,000 leads", "next", "sqlite3", [1_000_000], 2.0),
    ("`board` ≤ 1.2× SQL at 1,000,000 leads", "board", "sqlite3", [1_000_000], 1.2),
    ("`clean --dry-run` ≤ 1.5× SQL at 1,000,000 leads", "clean --dry-run (all six rules)", "sqlite3", [1_000_000], 1.5),
    ("`--help` ≤ 1.2× `import typer`", "--help", "python -c 'import typer'", [EMPTY], 1.2),
    *(
        (
            f"`{name}` ≤ 1.15× `import sqlmodel` (empty pipeline and 1,000,000 leads)",
            f"{name} (single lead)",
            "python -c 'import sqlmodel'",
            [EMPTY, 1_000_000],
            1.15,
        )
        for name in ("show", "add", "move", "log")
    ),
    *(
        (
            f"`export --format {fmt}` ≤ 3× the shell's CSV at 100,000 and 1,000,000 leads",
            f"export --format {fmt} (all leads)",
            "sqlite3",
            [100_000, 1_000_000],
            3.0,
        )
        for fmt in ("csv", "jsonl")
    ),
    (
        "`import` of 100,000 rows ≤ 1× `sqlite-utils insert --csv`",
        "import CSV (all leads, validated, with history)",
        "sqlite-utils",
        [100_000],
        1.0,
    ),
    (
        "the journal adds ≤ 20 % to `import` at 100,000 rows",
        "import CSV (all leads, with the journal)",
        "pipectl import without",
        [100_000],
        1.2,
    ),
]
# Memory and absolute-time goals: (what, benchmark, size, key, the most it may be).
LIMITS = [
    (
        "`clean --dry-run` under 100 MB at 1,000,000 leads",
        "clean --dry-run (all six rules)",
        1_000_000,
        "pipectl_peak_mb",
        100.0,
    ),
    (
        "`import` of 1,000,000 rows under 60 s",
        "import CSV (all leads, validated, with history)",
        1_000_000,
        "pipectl_s",
        60.0,
    ),
    *(
        (f"`{name}` in flat memory (under 100 MB) at 1,000,000 leads", name, 1_000_000, "pipectl_peak_mb", 100.0)
        for name in (
            "import CSV (all leads, validated, with history)",
            "export --format csv (all leads)",
            "export --format jsonl (all leads)",
        )
    ),
]


def markdown(results: dict) -> str:
    machine = results["machine"]
    rows = results["rows"]
    lines = [
        "# pipectl benchmark results",
        "",
        f"Last run {machine['date']} at commit `{machine['commit']}` "
        f"with `{machine.get('command', 'python -m benchmarks.run')}`"
        " (see `benchmarks/run.py`; README, Benchmarks)." + _runs_line(rows),
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine.items() if key not in ("date", "commit", "command")),
        "",
        "Every measurement is a fresh process, start-up included: the best of 3 runs (1 for the slow ones at "
        "1,000,000 leads). pipectl runs with its bytecode compiled, as installed. Each baseline computes the "
        "same answer in the `sqlite3` command-line shell on the same file (exact scripts below), and the two "
        "answers are compared before a ratio is reported; single-lead commands are also compared with "
        "`python -c 'import sqlmodel'`, the floor any pipectl command stands on. `wall ×` and `CPU ×` are "
        "pipectl / baseline. Size 0 is a new pipeline with a few leads. Goals are judged on CPU time (user + "
        "system of the process and its children), which other work on a shared machine disturbs least; "
        "wall time stands beside it (see the load average above).",
        "",
        "## Goals (issue 14)",
        "",
        "| goal | measured (CPU ×, wall ×) | met |",
        "|---|---|---|",
        *_goal_lines(rows),
        *_missed_lines(rows),
        "",
        "## Every measurement",
        "",
        "| benchmark | size | pipectl s | pipectl CPU s | baseline | baseline s | baseline CPU s | wall × | CPU × "
        "| peak MB pipectl | peak MB baseline | run |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for item in rows:
        lines.append(
            f"| {item['benchmark']} | {_size(item['size'])} | {item['pipectl_s']:.3f} "
            f"| {_cell(item.get('pipectl_cpu_s'))} "
            f"| {item['baseline']} | {item['baseline_s']:.3f} | {_cell(item.get('baseline_cpu_s'))} | {item['ratio']} "
            f"| {_cell(item.get('cpu_ratio'))} | {item['pipectl_peak_mb']} | {item['baseline_peak_mb']} "
            f"| {_run(item)} |"
        )
    lines += [
        "",
        "## Growth with the pipeline's size",
        "",
        f"Exponent of CPU time against leads over the sizes measured (log-log least squares); above "
        f"{GROWTH_LIMIT} is flagged. Start-up is part of every run, so small commands sit near 0.",
        "",
        "| benchmark | sizes | pipectl exponent | baseline exponent | flag |",
        "|---|---|---:|---:|---|",
    ]
    lines += [
        f"| {name} | {', '.join(_size(size) for size in sizes)} | {mine:.2f} | {theirs:.2f} | "
        f"{'**above ' + str(GROWTH_LIMIT) + '**' if mine > GROWTH_LIMIT else 'ok'} |"
        for name, sizes, mine, theirs in growth(rows)
    ]
    lines += _startup_lines(rows)
    lines += _baseline_lines(rows)
    if results.get("errors"):
        lines += ["", "## Failed topics", ""]
        lines += [f"- {item['topic']} at {_size(item['size'])}: {item['error']}" for item in results["errors"]]
    return "\n".join(lines) + "\n"


def growth(rows: list[dict]) -> list[tuple[str, list[int], float, float]]:
    """(benchmark, sizes, pipectl exponent, baseline exponent) for every benchmark run at two sizes or more."""
    series: dict[tuple[str, str], list[dict]] = {}
    for item in rows:
        if item["size"] > EMPTY and item.get("pipectl_cpu_s") and item.get("baseline_cpu_s"):
            series.setdefault((item["benchmark"], item["baseline"]), []).append(item)
    found = []
    for (name, _baseline), items in series.items():
        items = sorted(items, key=lambda item: item["size"])
        if len({item["size"] for item in items}) < 2:
            continue
        sizes = [item["size"] for item in items]
        found.append(
            (
                name,
                sizes,
                slope(sizes, [item["pipectl_cpu_s"] for item in items]),
                slope(sizes, [item["baseline_cpu_s"] for item in items]),
            )
        )
    # A benchmark with two baselines (single-lead commands) has one pipectl series: list it once.
    unique, seen = [], set()
    for entry in found:
        if entry[0] not in seen:
            seen.add(entry[0])
            unique.append(entry)
    return unique


def slope(sizes: list[int], seconds: list[float]) -> float:
    """The least-squares slope of log(seconds) against log(sizes)."""
    xs = [math.log(size) for size in sizes]
    ys = [math.log(max(value, 1e-6)) for value in seconds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def _runs_line(rows: list[dict]) -> str:
    """When the rows come from several runs (a partial rerun merged in), which ones."""
    runs = sorted({(item["run"]["date"], item["run"]["commit"]) for item in rows if item.get("run")})
    if len(runs) < 2:
        return ""
    listed = ", ".join(f"`{commit}` ({date})" for date, commit in runs)
    return f" The rows come from {len(runs)} runs ({listed}); the `run` column names each row's."


def _run(item: dict) -> str:
    stamp = item.get("run")
    return f"`{stamp['commit']}` {stamp['date']}" if stamp else "–"


def missed_goals(rows: list[dict]) -> list[str]:
    """The benchmarks of the GOALS and LIMITS measured and missed, in the order of the goals."""
    missed: list[str] = []
    for _what, benchmark, baseline, sizes, limit in GOALS:
        found = [
            item
            for item in rows
            if item["benchmark"] == benchmark and item["baseline"].startswith(baseline) and item["size"] in sizes
        ]
        if len(found) == len(sizes) and not all(
            item.get("cpu_ratio") is not None and item["cpu_ratio"] <= limit for item in found
        ):
            missed.append(benchmark)
    for _what, benchmark, size, key, limit in LIMITS:
        found = [item for item in rows if item["benchmark"] == benchmark and item["size"] == size]
        if found and not found[0][key] < limit:
            missed.append(benchmark)
    return list(dict.fromkeys(missed))


def _missed_lines(rows: list[dict]) -> list[str]:
    """For each missed goal, what was tried and where the time goes (benchmarks/missed.py)."""
    missed = missed_goals(rows)
    if not missed:
        return []
    lines = ["", "### Goals missed: what was tried and where the time goes", ""]
    for benchmark in missed:
        why = WHY_MISSED.get(benchmark)
        lines.append(f"- **{benchmark}**: " + (why or "no entry in `benchmarks/missed.py` yet: add one."))
    return lines


def _goal_lines(rows: list[dict]) -> list[str]:
    lines = []
    # The start-up floor at each size: `python -c 'import sqlmodel'`, as the single-lead rows measured it.
    floors = {
        item["size"]: item["baseline_cpu_s"]
        for item in rows
        if item["baseline"].startswith(FLOOR) and item.get("baseline_cpu_s")
    }
    for what, benchmark, baseline, sizes, limit in GOALS:
        found = [
            item
            for item in rows
            if item["benchmark"] == benchmark and item["baseline"].startswith(baseline) and item["size"] in sizes
        ]
        if len(found) < len(sizes):
            lines.append(f"| {what} | not measured yet | – |")
            continue
        found.sort(key=lambda item: item["size"])
        measured = "; ".join(
            f"{_size(item['size'])}: {_cell(item.get('cpu_ratio'))}× CPU, {item['ratio']}× wall"
            + _beyond_floor(item, floors)
            for item in found
        )
        met = all(item.get("cpu_ratio") is not None and item["cpu_ratio"] <= limit for item in found)
        lines.append(f"| {what} | {measured} | {'yes' if met else '**no**'} |")
    for what, benchmark, size, key, limit in LIMITS:
        found = [item for item in rows if item["benchmark"] == benchmark and item["size"] == size]
        if not found:
            lines.append(f"| {what} | not measured yet | – |")
            continue
        value = found[0][key]
        lines.append(
            f"| {what} | {value} {'MB' if key.endswith('mb') else 's'} | {'yes' if value < limit else '**no**'} |"
        )
    flagged = [name for name, _sizes, mine, _theirs in growth(rows) if mine > GROWTH_LIMIT]
    lines.append(
        f"| no command grows faster than linearly (exponent ≤ {GROWTH_LIMIT}) | "
        f"{'flagged: ' + ', '.join(flagged) if flagged else 'none flagged'} | "
        f"{'**no**' if flagged else 'yes'} |"
    )
    return lines


def _beyond_floor(item: dict, floors: dict[int, float]) -> str:
    """For a command compared with SQL: its CPU time beyond the start-up floor, over the SQL's, so a
    goal missed only by the constant cost of starting Python and importing SQLModel says so."""
    floor, cpu, theirs = floors.get(item["size"]), item.get("pipectl_cpu_s"), item.get("baseline_cpu_s")
    if floor is None or not cpu or not theirs or not item["baseline"].startswith("sqlite3"):
        return ""
    return f" ({max(cpu - floor, 0) / theirs:.2f}× beyond the {floor:.2f} s start-up floor)"


def _startup_lines(rows: list[dict]) -> list[str]:
    found = next((item["breakdown"] for item in rows if item.get("breakdown")), None)
    if not found:
        return []
    lines = [
        "",
        "## Where start-up goes",
        "",
        "`python -X importtime` (each module's least self time over 3 runs; the tracing inflates all of "
        "them): the modules `pipectl show` (empty pipeline) imports beyond `import sqlmodel`, and "
        "`pipectl --help` beyond `import typer`, summed by package. The rest of a single-lead command's "
        "time over its floor is its own work: opening the database, compiling and running its SQL "
        "through the ORM, printing.",
        "",
    ]
    for title, figures in found.items():
        parts = ", ".join(f"{package} {ms}" for package, ms in figures.items() if package != "(all imports)")
        lines.append(f"- {title}: **{figures.get('(all imports)', 0)} ms**" + (f" ({parts})" if parts else ""))
    return lines


def _baseline_lines(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "## The baselines, exactly",
        "",
        "Each script as run at the largest size (lead ids in single-lead scripts differ with the size; "
        "`DATABASE` is the generated file, or a scratch copy of it for writes).",
    ]
    shown: dict[tuple[str, str], dict] = {}
    for item in rows:
        key = (item["benchmark"], item["baseline"])
        if key not in shown or item["size"] > shown[key]["size"]:
            shown[key] = item
    for (name, baseline), item in shown.items():
        lines += ["", f"### {name} — {baseline}", ""]
        if item.get("command"):
            lines.append(f"pipectl: `{item['command']}`")
            lines.append("")
        lines += ["```", (item.get("baseline_script") or "(not recorded)").strip(), "```"]
    return lines


def _size(size: int) -> str:
    return "0 (empty)" if size == EMPTY else f"{size:,}"


def _cell(value) -> str:
    return "–" if value is None else str(value)
