"""`pipectl metrics` and `pipectl forecast` against hand-written SQL for the same figures.

Example: python -m benchmarks.run --sizes 1000,100000 --only metrics

The baseline is what a person fluent in SQLite would write by hand: the same
aggregates in plain `sqlite3` (free to use SQLite's own date functions, which
pipectl avoids to stay portable to PostgreSQL). Before a ratio is reported,
the figures pipectl printed are checked against the ones the SQL found.
"""

import json
from datetime import datetime
from pathlib import Path

from benchmarks.generate import FIXED_NOW
from benchmarks.harness import check_same, row, time_cli, time_queries

NOW_TS = int(datetime.fromisoformat(FIXED_NOW + "+00:00").timestamp())

OPEN_BY_STAGE = """
SELECT stage_id, count(*), coalesce(sum(value_cents), 0) FROM leads WHERE status = 'open' GROUP BY stage_id
"""
OUTCOMES = """
SELECT coalesce(sum(status = 'won'), 0), coalesce(sum(status = 'lost'), 0),
       coalesce(sum(CASE WHEN status = 'won' THEN value_cents ELSE 0 END), 0),
       coalesce(sum(CASE WHEN status = 'lost' THEN value_cents ELSE 0 END), 0),
       avg(CASE WHEN status = 'won' THEN value_cents END),
       avg(CASE WHEN status = 'won' THEN closed_at - created_at END)
FROM leads WHERE status IN ('won', 'lost')
"""
STAGE_HISTORY = """
WITH events AS (
  SELECT a.lead_id, a.kind, a.to_stage_id, l.status, s.position, a.at,
         lead(a.at) OVER w AS next_at,
         max(CASE WHEN a.kind IN ('created', 'stage_change') THEN s.position END)
             OVER (w ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS later_position
  FROM activities a JOIN leads l ON l.id = a.lead_id LEFT JOIN stages s ON s.id = a.to_stage_id
  -- `+kind`: scan in (lead_id, at) order rather than through the kind index (the faster plan).
  WHERE +a.kind IN ('created', 'stage_change', 'reopened', 'restored', 'won', 'lost', 'archived')
  WINDOW w AS (PARTITION BY a.lead_id ORDER BY a.at, a.id)
)
SELECT to_stage_id,
       count(DISTINCT CASE WHEN kind IN ('created', 'stage_change') THEN lead_id END),
       count(DISTINCT CASE WHEN kind IN ('created', 'stage_change')
                            AND (later_position > position OR status = 'won') THEN lead_id END),
       count(DISTINCT CASE WHEN kind IN ('created', 'stage_change') AND status = 'won' THEN lead_id END),
       count(DISTINCT CASE WHEN kind IN ('created', 'stage_change') AND status = 'lost' THEN lead_id END),
       avg(coalesce(next_at, ?) - at)
FROM events
WHERE kind IN ('created', 'stage_change', 'reopened', 'restored') AND to_stage_id IS NOT NULL
GROUP BY to_stage_id
"""
LOST_REASONS = """
SELECT coalesce(lost_reason, '(no reason)'), count(*) FROM leads WHERE status = 'lost'
GROUP BY lost_reason ORDER BY count(*) DESC, lost_reason
"""
SOURCES = """
SELECT coalesce(source, '(none)'), count(*), sum(status = 'won'), sum(status = 'lost') FROM leads
GROUP BY 1 ORDER BY count(*) DESC, 1
"""
STAGES = "SELECT id, name, probability FROM stages WHERE removed = 0 ORDER BY position"
# Won and lost among the leads that ever reached each stage: the historical win rate.
STAGE_OUTCOMES = """
SELECT r.to_stage_id, sum(l.status = 'won'), sum(l.status = 'lost')
FROM (SELECT DISTINCT to_stage_id, lead_id FROM activities
      WHERE +kind IN ('created', 'stage_change') AND to_stage_id IS NOT NULL) r
JOIN leads l ON l.id = r.lead_id
WHERE l.status IN ('won', 'lost')
GROUP BY r.to_stage_id
"""
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
        "won": (data["won"]["leads"], _cents(data["won"]["value"])),
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
    }


def metrics_figures_from_sql(answers: list) -> dict:
    open_rows, (outcome,), history_rows, reasons, sources, stages = answers
    open_by = {stage_id: (count, value) for stage_id, count, value in open_rows}
    history = {stage_id: rest for stage_id, *rest in history_rows}
    won, lost, won_value, lost_value, average_deal, cycle = outcome
    return {
        "open": [(name, *open_by.get(stage_id, (0, 0))) for stage_id, name, _ in stages],
        "won": (won, won_value),
        "lost": (lost, lost_value),
        "win_rate": round(won / (won + lost), 4) if won + lost else None,
        "average_deal": None if average_deal is None else round(average_deal),
        "cycle_days": None if cycle is None else round(cycle / 86400, 1),
        "stages": [(name, *_history(history.get(stage_id))) for stage_id, name, _ in stages],
        "lost_reasons": [tuple(reason) for reason in reasons],
        "sources": [tuple(source) for source in sources],
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


def run_metrics(db: Path, size: int) -> dict:
    pipectl = time_cli(["metrics", "--format", "json"], db)
    baseline = time_queries(
        db,
        [
            (OPEN_BY_STAGE, ()),
            (OUTCOMES, ()),
            (STAGE_HISTORY, (NOW_TS,)),
            (LOST_REASONS, ()),
            (SOURCES, ()),
            (STAGES, ()),
        ],
    )
    check_same("metrics", metrics_figures_from_pipectl(pipectl.json()), metrics_figures_from_sql(baseline.json()))
    return row("metrics --format json", size, pipectl, baseline, "sqlite3 (same aggregates)")


def run_forecast(db: Path, size: int) -> dict:
    month_start, horizon = _month_bounds()
    pipectl = time_cli(["forecast", "--format", "json"], db)
    baseline = time_queries(db, [(FORECAST, (NOW_TS, month_start, horizon)), (STAGE_OUTCOMES, ()), (STAGES, ())])
    months, outcomes, stages = baseline.json()
    printed = pipectl.json()
    check_same("forecast", forecast_months_from_pipectl(printed), forecast_months_from_sql(months, stages))
    closed = {stage_id: (won, lost) for stage_id, won, lost in outcomes}
    check_same(
        "forecast (historical win rates)",
        [(stage["stage"], stage["historical_win_rate"]) for stage in printed["stages"]],
        [
            (name, round(closed[stage_id][0] / sum(closed[stage_id]), 4) if sum(closed.get(stage_id, (0, 0))) else None)
            for stage_id, name, _ in stages
        ],
    )
    return row("forecast --format json", size, pipectl, baseline, "sqlite3 (same months, SQLite dates)")


if __name__ == "__main__":  # pragma: no cover - a quick manual run on one database
    import sys

    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2])), indent=2))
