"""`pipectl metrics` and `pipectl forecast` against hand-written SQL for the same figures.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only metrics

The baseline is what a person fluent in SQLite would write by hand: the same
aggregates run by the sqlite3 shell (free to use SQLite's own date functions, which
pipectl avoids to stay portable to PostgreSQL). Before a ratio is reported,
the figures pipectl printed are checked against the ones the SQL found.
"""

import json
from datetime import datetime
from pathlib import Path

from benchmarks.generate import FIXED_NOW
from benchmarks.harness import check_same, row, time_cli, time_sqlite3

NOW_TS = int(datetime.fromisoformat(FIXED_NOW + "+00:00").timestamp())

OPEN_BY_STAGE = """
SELECT stage_id, count(*), coalesce(sum(value_cents), 0) FROM leads WHERE status = 'open' GROUP BY stage_id
"""
OUTCOMES = """
SELECT coalesce(sum(status = 'won'), 0), coalesce(sum(status = 'lost'), 0),
       coalesce(sum(CASE WHEN status = 'won' THEN value_cents ELSE 0 END), 0),
       coalesce(sum(CASE WHEN status = 'lost' THEN value_cents ELSE 0 END), 0),
       avg(CASE WHEN status = 'won' THEN value_cents END),
       avg(CASE WHEN status = 'won' THEN closed_at - created_at END),
       coalesce(sum(status = 'won' AND value_cents IS NULL), 0)
FROM leads WHERE status IN ('won', 'lost')
"""
# Each lead's known path (the furthest open stage it reached); it passed every stage up to that one.
PATHS = """
SELECT a.lead_id, l.status, max(s.position) AS furthest
FROM activities a JOIN stages s ON s.id = a.to_stage_id JOIN leads l ON l.id = a.lead_id
-- `+kind`: scan in (lead_id, at) order rather than through the kind index (the faster plan).
WHERE +a.kind IN ('created', 'stage_change') AND s.position IS NOT NULL
GROUP BY a.lead_id
"""
FUNNEL = f"""
WITH paths AS ({PATHS})
SELECT s.id, count(*), sum(p.furthest > s.position OR p.status = 'won'), sum(p.status = 'won'),
       sum(p.status = 'lost')
FROM paths p JOIN stages s ON s.removed = 0 AND s.position <= p.furthest
GROUP BY s.id
"""
STAYS = """
WITH events AS (
  SELECT a.kind, a.to_stage_id, a.at, lead(a.at) OVER (PARTITION BY a.lead_id ORDER BY a.at, a.id) AS next_at
  FROM activities a
  WHERE +a.kind IN ('created', 'stage_change', 'reopened', 'restored', 'won', 'lost', 'archived')
)
SELECT to_stage_id, avg(coalesce(next_at, ?) - at)
FROM events
WHERE kind IN ('created', 'stage_change', 'reopened', 'restored') AND to_stage_id IS NOT NULL
GROUP BY to_stage_id
"""
PATH_COUNTS = f"SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM ({PATHS}))"
COHORT = "SELECT count(*), sum(status = 'won'), sum(status = 'open') FROM leads"
CYCLE_QUANTILES = """
WITH ranked AS (
  SELECT closed_at - created_at AS cycle, row_number() OVER (ORDER BY closed_at - created_at) AS r,
         count(*) OVER () AS n
  FROM leads WHERE status = 'won')
SELECT avg(CASE WHEN r IN ((n + 1) / 2, (n + 2) / 2) THEN cycle END), max(CASE WHEN r = (9 * n + 9) / 10 THEN cycle END)
FROM ranked
"""
LOST_REASONS = """
SELECT coalesce(lost_reason, 'not given'), count(*) FROM leads WHERE status = 'lost'
GROUP BY lost_reason ORDER BY count(*) DESC, lost_reason
"""
SOURCES = """
SELECT coalesce(source, '(none)'), count(*), sum(status = 'won'), sum(status = 'lost') FROM leads
GROUP BY 1 ORDER BY count(*) DESC, 1
"""
STAGES = "SELECT id, name, probability FROM stages WHERE removed = 0 ORDER BY position"
# Won and lost among the leads with a known path that reached each stage: the historical win rate.
STAGE_OUTCOMES = FUNNEL
# Expected close: an ISO date at the start or end of the BANT timeline note, else the
# expected_close field, else creation + the average won cycle, never before now.
FORECAST = """
WITH cycle AS (SELECT avg(closed_at - created_at) AS seconds FROM leads WHERE status = 'won'),
dated AS (
  SELECT l.stage_id, l.value_cents,
         coalesce(
           CASE WHEN l.timeline_note GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]*'
                THEN CAST(strftime('%s', substr(l.timeline_note, 1, 10)) AS INTEGER)
                WHEN l.timeline_note GLOB '*[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                THEN CAST(strftime('%s', substr(l.timeline_note, -10)) AS INTEGER) END,
           CASE WHEN f.value GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]*'
                THEN CAST(strftime('%s', substr(f.value, 1, 10)) AS INTEGER)
                WHEN f.value GLOB '*[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'
                THEN CAST(strftime('%s', substr(f.value, -10)) AS INTEGER) END,
           max(l.created_at + CAST(round((SELECT seconds FROM cycle)) AS INTEGER), ?)) AS expected
  FROM leads l LEFT JOIN lead_fields f ON f.lead_id = l.id AND f.key = 'expected_close'
  WHERE l.status = 'open'
)
SELECT CASE WHEN expected IS NULL THEN 'unscheduled'
            WHEN expected < ? THEN 'overdue'
            WHEN expected >= ? THEN 'later'
            ELSE strftime('%Y-%m', expected, 'unixepoch') END AS month,
       stage_id, count(*), coalesce(sum(value_cents), 0)
FROM dated GROUP BY month, stage_id
"""


def _cents(number) -> int:
    return round(number * 100)


def metrics_figures_from_pipectl(data: dict) -> dict:
    return {
        "open": [(stage["stage"], stage["open_leads"], _cents(stage["open_value"])) for stage in data["stages"]],
        "won": (data["won"]["leads"], _cents(data["won"]["value"]), data["won"]["without_value"]),
        "lost": (data["lost"]["leads"], _cents(data["lost"]["value"])),
        "win_rate": data["win_rate"],
        "average_deal": None if data["average_deal_size"] is None else _cents(data["average_deal_size"]),
        "cycle_days": data["average_cycle_days"],
        "stages": [
            (
                stage["stage"],
                stage["reached"],
                stage["advanced"],
                stage["won"],
                stage["lost"],
                stage["average_days_in_stage"],
            )
            for stage in data["stages"]
        ],
        "lost_reasons": [(reason["reason"], reason["leads"]) for reason in data["lost_reasons"]],
        "sources": [(source["source"], source["leads"], source["won"], source["lost"]) for source in data["sources"]],
        "paths": (data["paths"]["known"], data["paths"]["unknown"]),
        "conversion": (data["conversion"]["created"], data["conversion"]["won"], data["conversion"]["open"]),
        "cycle": (data["cycle"]["median_days"], data["cycle"]["p90_days"]),
    }


def metrics_figures_from_sql(answers: list) -> dict:
    (
        open_rows,
        (outcome,),
        funnel_rows,
        stay_rows,
        ((leads, known),),
        (cohort,),
        ((median, p90),),
        reasons,
        sources,
        stages,
    ) = answers
    open_by = {stage_id: (count, value) for stage_id, count, value in open_rows}
    stays = dict(stay_rows)
    history = {stage_id: (*rest, stays.get(stage_id)) for stage_id, *rest in funnel_rows}
    won, lost, won_value, lost_value, average_deal, cycle, without_value = outcome
    return {
        "open": [(name, *open_by.get(stage_id, (0, 0))) for stage_id, name, _ in stages],
        "won": (won, won_value, without_value),
        "lost": (lost, lost_value),
        "win_rate": round(won / (won + lost), 4) if won + lost else None,
        "average_deal": None if average_deal is None else round(average_deal),
        "cycle_days": None if cycle is None else round(cycle / 86400, 1),
        "stages": [(name, *_history(history.get(stage_id))) for stage_id, name, _ in stages],
        "lost_reasons": [tuple(reason) for reason in reasons],
        "sources": [tuple(source) for source in sources],
        "paths": (known, leads - known),
        "conversion": tuple(cohort),
        "cycle": (None if median is None else round(median / 86400, 1), None if p90 is None else round(p90 / 86400, 1)),
    }


def _history(found) -> tuple:
    if not found:
        return (0, 0, 0, 0, None)
    reached, advanced, won, lost, stay = found
    return (reached, advanced, won, lost, None if stay is None else round(max(stay, 0) / 86400, 1))


def forecast_months_from_sql(rows: list, stages: list) -> list:
    probability = {stage_id: chance for stage_id, _name, chance in stages}
    months: dict[str, list] = {}
    for month, stage_id, count, value in rows:
        entry = months.setdefault(month, [0, 0, 0.0])
        entry[0] += count
        entry[1] += value
        entry[2] += value * probability.get(stage_id, 0) / 100
    return sorted((month, count, value, round(weighted)) for month, (count, value, weighted) in months.items())


def forecast_months_from_pipectl(data: dict) -> list:
    return sorted(
        (month["month"], month["leads"], _cents(month["value"]), _cents(month["weighted"])) for month in data["months"]
    )


def _month_bounds() -> tuple[int, int]:
    now = datetime.fromisoformat(FIXED_NOW + "+00:00")
    first = now.replace(day=1, hour=0, minute=0, second=0)
    index = first.year * 12 + first.month - 1 + 25
    horizon = first.replace(year=index // 12, month=index % 12 + 1)
    return int(first.timestamp()), int(horizon.timestamp())


def run(db: Path, size: int) -> list[dict]:
    """`metrics --format json` and `forecast --format json`, each against its hand-written SQL."""
    return [run_metrics(db, size), run_forecast(db, size)]


def _inline(sql: str, *params: int) -> str:
    """The statement with its `?` parameters written in (the shell runs it as text)."""
    for value in params:
        sql = sql.replace("?", str(int(value)), 1)
    return sql.strip() + ";"


def run_metrics(db: Path, size: int) -> dict:
    command = ["metrics", "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(
        db,
        [
            _inline(OPEN_BY_STAGE),
            _inline(OUTCOMES),
            _inline(FUNNEL),
            _inline(STAYS, NOW_TS),
            _inline(PATH_COUNTS),
            _inline(COHORT),
            _inline(CYCLE_QUANTILES),
            _inline(LOST_REASONS),
            _inline(SOURCES),
            _inline(STAGES),
        ],
    )
    check_same("metrics", metrics_figures_from_pipectl(pipectl.json()), metrics_figures_from_sql(baseline.answers))
    return row(
        "metrics --format json",
        size,
        pipectl,
        baseline,
        "sqlite3 shell (same aggregates)",
        command="pipectl " + " ".join(command),
    )


def run_forecast(db: Path, size: int) -> dict:
    month_start, horizon = _month_bounds()
    command = ["forecast", "--format", "json"]
    pipectl = time_cli(command, db)
    baseline = time_sqlite3(
        db, [_inline(FORECAST, NOW_TS, month_start, horizon), _inline(STAGE_OUTCOMES), _inline(STAGES)]
    )
    months, outcomes, stages = baseline.answers
    printed = pipectl.json()
    check_same("forecast", forecast_months_from_pipectl(printed), forecast_months_from_sql(months, stages))
    closed = {stage_id: (won, lost) for stage_id, _reached, _advanced, won, lost in outcomes}
    check_same(
        "forecast (historical win rates)",
        [(stage["stage"], stage["historical_win_rate"]) for stage in printed["stages"]],
        [
            (name, round(closed[stage_id][0] / sum(closed[stage_id]), 4) if sum(closed.get(stage_id, (0, 0))) else None)
            for stage_id, name, _ in stages
        ],
    )
    return row(
        "forecast --format json",
        size,
        pipectl,
        baseline,
        "sqlite3 shell (same months, SQLite dates)",
        command="pipectl " + " ".join(command),
    )


if __name__ == "__main__":  # pragma: no cover - a quick manual run on one database
    import sys

    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2])), indent=2))
