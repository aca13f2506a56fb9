"""Score crossings in `pipectl status`: only the leads whose counted activities differ between the two
scores are worked out, and that must lose no crossing.

Now is Monday 2026-11-23 09:00, so "since yesterday" is since 2026-11-22 09:00. One rule counts
replies within 30 days (60 points: MQL at 50); another counts demos with no window (60 points).

Hal   reply 2026-10-24 03:00: counted yesterday (window from 10-23 09:00), let go of today
      (window from 10-24 09:00): 60 -> 0, MQL -> nurture, down.
Ivy   reply 2026-10-25: counted both times: 60 both, no crossing.
Jo    demo 2026-11-23 08:00 (after yesterday): 0 -> 60, nurture -> MQL, up.
Kim   a call today (no rule counts calls): 0 both, no crossing.
Lou   added 2026-11-22 12:00 (since yesterday), a demo today: no score then, left out.
"""

import json

import pytest

from insight_support import pipeline_fixtures

RULES = """
[thresholds]
nurture_below = 30
mql = 50
sql = 75

[scoring]
demographic = []

[[scoring.behavioural]]
name = "Replies"
kind = "reply"
points = 60
within = "30d"

[[scoring.behavioural]]
name = "Demos"
kind = "demo"
points = 60
"""


def build(b) -> dict:
    b.ok("init")
    rules = b.folder / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    b.ok("rules", "load", rules)
    ids = {name: b.lead(name.title(), "--at", "-40d") for name in ("hal", "ivy", "jo", "kim")}
    b.ok("log", ids["hal"], "reply", "--at", "2026-10-24T03:00:00")
    b.ok("log", ids["ivy"], "reply", "--at", "2026-10-25T09:00:00")
    b.ok("log", ids["jo"], "demo", "--at", "2026-11-23T08:00:00")
    b.ok("log", ids["kim"], "call", "--at", "2026-11-23T08:00:00")
    ids["lou"] = b.lead("Lou", "--at", "2026-11-22T12:00:00")
    b.ok("log", ids["lou"], "demo", "--at", "2026-11-23T08:30:00")
    return ids


built, pipeline = pipeline_fixtures(build)


def test_crossings_by_hand(pipeline, ok):
    ids = pipeline
    crossings = json.loads(ok("status", "-f", "json").stdout)["score_crossings"]
    assert crossings["since"] == "2026-11-22T09:00:00+00:00"
    assert crossings["leads"] == 2
    assert sorted(
        (row["id"], row["was"], row["score"], row["was_band"], row["band"], row["direction"])
        for row in crossings["list"]
    ) == sorted([(ids["hal"], 60, 0, "mql", "nurture", "down"), (ids["jo"], 0, 60, "nurture", "mql", "up")])


def test_crossings_without_behavioural_rules(pipeline, ok, tmp_path):
    # A score made of fields alone is today's both times: nothing crosses.
    rules = tmp_path / "fields.toml"
    rules.write_text(RULES.split("[[scoring.behavioural]]")[0], encoding="utf-8")
    ok("rules", "load", rules)
    assert json.loads(ok("status", "-f", "json").stdout)["score_crossings"]["leads"] == 0


def _plans(db_path, what: str, needle: str) -> list[str]:
    """EXPLAIN QUERY PLAN of the statements `status` (or `brief 1`) runs whose SQL contains `needle`."""
    from datetime import datetime

    from sqlalchemy import event

    from pipectl.core.brief import compute_brief
    from pipectl.core.leads import find_lead
    from pipectl.core.status import compute_status
    from pipectl.storage.schema import open_database

    database = open_database(str(db_path))
    seen = []
    event.listen(
        database.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, sql, params, _context, _many: seen.append((sql, params)) if needle in sql else None,
    )
    now = datetime.fromisoformat("2026-11-23T09:00:00")
    try:
        with database.session(write=False) as session:
            if what == "status":
                compute_status(session, now)
            else:
                compute_brief(session, find_lead(session, "1"), now)
            driver = session.connection().connection.driver_connection
            return [
                " / ".join(row[3] for row in driver.execute("EXPLAIN QUERY PLAN " + sql, params))
                for sql, params in seen
            ]
    finally:
        database.close()


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN")
def test_crossings_and_similar_wins_read_index_ranges(pipeline, ok, db_path):
    # A plan regression here is what made status take seconds at 100,000 leads: fail CI on it.
    ok("edit", "1", "--industry", "retail", "--size", "120", "--source", "partner")
    (crossings,) = _plans(db_path, "status", "WITH scores")
    assert "ix_activities_kind_at" in crossings and "SCAN activities" not in crossings, crossings
    assert "ix_activities_done_due" not in crossings, crossings
    (similar,) = _plans(db_path, "brief", "OVER ()")
    for index in ("ix_leads_status_industry", "ix_leads_status_size", "ix_leads_status_source"):
        assert index in similar, similar
    assert "SCAN leads" not in similar, similar
