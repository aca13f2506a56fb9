"""`pipectl metrics --by source` against the same breakdown written by hand in the sqlite3 shell.

Example: python -m benchmarks.run --sizes 1000,100000,1000000 --only breakdowns

Per source (folded, so "Web" and "web" are one): leads created, won, lost,
open, archived, won value (total, average, how many won without a value), the
mean cycle, and the median and 90th percentile of the cycle through
`row_number()` over each source's won leads; then the same for all leads as
the total line. The baseline is what a person fluent in SQLite would type
into the `sqlite3` shell for those figures (`.mode json`, SQLite's boolean
sums). Before a ratio is reported, pipectl's groups are checked against the
shell's.
"""

import json
import shutil
from pathlib import Path

from benchmarks.harness import BenchmarkError, check_same, row, time_cli, time_shell

SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"
GROUPS = """
WITH counts AS (
  SELECT source_key AS k, min(source) AS label, count(*) AS created, sum(status = 'won') AS won,
         sum(status = 'lost') AS lost, sum(status = 'open') AS open, sum(status = 'archived') AS archived,
         coalesce(sum(CASE WHEN status = 'won' THEN value_cents END), 0) AS won_value,
         avg(CASE WHEN status = 'won' THEN value_cents END) AS average_won,
         sum(status = 'won' AND value_cents IS NULL) AS won_without_value,
         avg(CASE WHEN status = 'won' THEN closed_at - created_at END) AS mean
  FROM leads GROUP BY source_key),
ranked AS (
  SELECT source_key AS k, closed_at - created_at AS cycle,
         row_number() OVER (PARTITION BY source_key ORDER BY closed_at - created_at) AS r,
         count(*) OVER (PARTITION BY source_key) AS n
  FROM leads WHERE status = 'won' AND closed_at IS NOT NULL),
quantiles AS (
  SELECT k, avg(CASE WHEN r IN ((n + 1) / 2, (n + 2) / 2) THEN cycle END) AS median,
         max(CASE WHEN r = (9 * n + 9) / 10 THEN cycle END) AS p90
  FROM ranked GROUP BY k)
SELECT counts.*, quantiles.median, quantiles.p90 FROM counts LEFT JOIN quantiles ON quantiles.k IS counts.k;
"""
TOTAL = """
WITH ranked AS (
  SELECT closed_at - created_at AS cycle, row_number() OVER (ORDER BY closed_at - created_at) AS r,
         count(*) OVER () AS n
  FROM leads WHERE status = 'won' AND closed_at IS NOT NULL)
SELECT count(*) AS created, sum(status = 'won') AS won, sum(status = 'lost') AS lost,
       (SELECT avg(CASE WHEN r IN ((n + 1) / 2, (n + 2) / 2) THEN cycle END) FROM ranked) AS median,
       (SELECT max(CASE WHEN r = (9 * n + 9) / 10 THEN cycle END) FROM ranked) AS p90
FROM leads;
"""


def run(db: Path, size: int) -> list[dict]:
    """`metrics --by source --format json` against the hand-written GROUP BY in the sqlite3 shell."""
    if not Path(SQLITE).exists():
        raise BenchmarkError("the sqlite3 shell is needed for the baseline (apt-get install sqlite3)")
    script = db.with_name(f"{db.stem}.breakdowns.sql")
    script.write_text(".mode json\n" + GROUPS + TOTAL)
    try:
        pipectl = time_cli(["metrics", "--by", "source", "--format", "json"], db)
        baseline = time_shell([SQLITE, "-readonly", str(db)], stdin=script)
    finally:
        script.unlink(missing_ok=True)
    check_same("metrics --by source", from_pipectl(pipectl.json()), from_shell(baseline.stdout))
    return [
        row(
            "metrics --by source --format json",
            size,
            pipectl,
            baseline,
            "sqlite3 shell (GROUP BY + row_number() median)",
        )
    ]


def _days(seconds) -> float | None:
    return None if seconds is None else round(seconds / 86400, 1)


def _cents(number) -> int | None:
    return None if number is None else round(number * 100)


def from_pipectl(data: dict) -> list:
    groups = sorted(
        (
            row["group"] or "",
            row["created"],
            row["won"],
            row["lost"],
            row["open"],
            row["archived"],
            _cents(row["won_value"]),
            _cents(row["average_won_value"]),
            row["won_without_value"],
            row["cycle_mean_days"],
            row["cycle_median_days"],
            row["cycle_p90_days"],
        )
        for row in data["groups"]
    )
    total = data["total"]
    return [
        groups,
        (total["created"], total["won"], total["lost"], total["cycle_median_days"], total["cycle_p90_days"]),
    ]


def from_shell(stdout: str) -> list:
    # `.mode json` prints one array per statement.
    decoder, position, answers = json.JSONDecoder(), 0, []
    text = stdout.strip()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        answers.append(value)
        while position < len(text) and text[position].isspace():
            position += 1
    groups, (total,) = answers
    rows = sorted(
        (
            item["label"] or "",
            item["created"],
            item["won"],
            item["lost"],
            item["open"],
            item["archived"],
            item["won_value"],
            None if item["average_won"] is None else round(item["average_won"]),
            item["won_without_value"],
            _days(item["mean"]),
            _days(item["median"]),
            _days(item["p90"]),
        )
        for item in groups
    )
    return [rows, (total["created"], total["won"], total["lost"], _days(total["median"]), _days(total["p90"]))]


if __name__ == "__main__":  # pragma: no cover - a quick manual run on one database
    import sys

    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2])), indent=2))
